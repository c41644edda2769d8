"""Read notebooks: the trusted source (what runs, what is worth points) and a student's copy.

The source notebook `solutions/<a>/<a>.ipynb` is trusted: its import cell and given-code cells
run as written, and only its autograded test cells carry points (split evenly among the cell's
`kit.functions`). From the student's notebook only the code of the solution cells is taken,
matched by nbgrader `grade_id` (falling back to the cell id); its metadata, test cells and
outputs are ignored. Notebooks are read as plain JSON (fast, and tolerant of what nbformat's
validation would reject but Jupyter still opens); anything unreadable raises `NotebookError`
whose message is the row's `reason`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_NOTEBOOK_BYTES = 32 << 20


class NotebookError(ValueError):
    """A notebook that cannot be graded; the message is a sentence for the grades' `reason`."""


@dataclass(frozen=True)
class Cell:
    """A code cell to run: `name` is its grade_id (or cell id), `role` imports/given/solution."""

    name: str
    role: str
    source: str
    cell_id: str | None = None


@dataclass(frozen=True)
class SourceNotebook:
    """What the trusted source notebook of one assignment says about grading it.

    Attributes:
        assignment: folder name, e.g. "a2_vectorized".
        cells: the cells the grader runs, in notebook order (solution cells hold the reference
            code here; a student's own code replaces it).
        points: graded function -> its points, in notebook order.
    """

    assignment: str
    path: Path
    cells: tuple[Cell, ...]
    points: dict[str, float] = field(default_factory=dict)

    @property
    def max_score(self) -> float:
        """auto_max_score: the sum of the autograded test cells' points."""
        return round(sum(self.points.values()), 6)

    @property
    def solution_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.cells if c.role == "solution")


def _read_json(path: Path | bytes) -> dict[str, Any]:
    """The notebook's JSON, from a file or from its bytes (read by the command, which may send
    them to another machine: `engines.task`)."""
    if isinstance(path, (bytes, bytearray)):
        data = bytes(path)
    else:
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise NotebookError(f"the notebook cannot be read ({exc.strerror})") from None
        if size > MAX_NOTEBOOK_BYTES:
            raise NotebookError(f"the notebook is {size >> 20} MiB, more than the "
                                f"{MAX_NOTEBOOK_BYTES >> 20} MiB the grader reads")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise NotebookError(f"the notebook cannot be read ({exc.strerror})") from None
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"the notebook is {len(data) >> 20} MiB, more than the "
                            f"{MAX_NOTEBOOK_BYTES >> 20} MiB the grader reads")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError("the notebook is not UTF-8 text") from None
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"the notebook is not valid JSON (line {exc.lineno}: "
                            f"{exc.msg})") from None
    except RecursionError:
        raise NotebookError("the notebook's JSON is nested too deeply") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError("the file is not a Jupyter notebook (no list of cells)")
    major = nb.get("nbformat")
    if major is not None and major != 4:
        raise NotebookError(f"the notebook has format version {major!r}; "
                            f"the grader reads version 4")
    return nb


def _meta(cell: Any, key: str) -> dict[str, Any]:
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    value = metadata.get(key) if isinstance(metadata, dict) else None
    return value if isinstance(value, dict) else {}


def _source(cell: dict[str, Any]) -> str | None:
    src = cell.get("source", "")
    if isinstance(src, str):
        return src
    if isinstance(src, list) and all(isinstance(line, str) for line in src):
        return "".join(src)
    return None


def load_source(path: Path, assignment: str | None = None) -> SourceNotebook:
    """Parse the trusted source notebook at `path`.

    Raises ValueError (a NotebookError) when the source breaks the notebook-format contract:
    no import cell, a graded cell without `kit.functions`, duplicate grade_ids.
    """
    path = Path(path)
    assignment = assignment or path.stem
    nb = _read_json(path)
    cells: list[Cell] = []
    points: dict[str, float] = {}
    seen: set[str] = set()
    imports_found = False
    for index, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        nbg, kit = _meta(cell, "nbgrader"), _meta(cell, "kit")
        name = str(nbg.get("grade_id") or cell.get("id") or f"cell-{index}")
        source = _source(cell)
        if source is None:
            raise NotebookError(f"{path}: cell {name} has no readable source")
        if kit.get("role") == "imports" or nbg.get("grade_id") == "imports":
            role = "imports"
            imports_found = True
        elif "source" in kit:
            role = "solution" if nbg.get("solution") else "given"
        elif nbg.get("grade") and not nbg.get("solution"):
            functions = kit.get("functions")
            if not functions or not isinstance(functions, list):
                raise NotebookError(f"{path}: autograded cell {name} has no kit.functions list")
            share = float(nbg.get("points", 0)) / len(functions)
            for function in functions:
                points[str(function)] = points.get(str(function), 0.0) + share
            continue
        else:
            continue
        if name in seen:
            raise NotebookError(f"{path}: two cells share the grade_id {name!r}")
        seen.add(name)
        cell_id = cell.get("id") if isinstance(cell.get("id"), str) else None
        cells.append(Cell(name=name, role=role, source=source, cell_id=cell_id))
    if not imports_found:
        raise NotebookError(f"{path}: no import cell (kit.role 'imports' or grade_id 'imports')")
    return SourceNotebook(assignment=assignment, path=path, cells=tuple(cells), points=points)


@dataclass(frozen=True)
class StudentCode:
    """The cells to run for one submission and the solution cells it lacks."""

    cells: tuple[Cell, ...]
    missing: tuple[str, ...]


def load_student(path: Path | bytes, source: SourceNotebook) -> StudentCode:
    """Trusted import/given cells from `source`, solution cells from the student's notebook
    (a path, or the notebook's bytes as the command read them).

    Raises NotebookError when the notebook cannot be read at all.
    """
    nb = _read_json(path if isinstance(path, (bytes, bytearray)) else Path(path))
    by_grade_id: dict[str, dict[str, Any]] = {}
    by_id: dict[str, dict[str, Any]] = {}
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        grade_id = _meta(cell, "nbgrader").get("grade_id")
        if isinstance(grade_id, str):
            by_grade_id.setdefault(grade_id, cell)
        if isinstance(cell.get("id"), str):
            by_id.setdefault(cell["id"], cell)
    cells: list[Cell] = []
    missing: list[str] = []
    for cell in source.cells:
        if cell.role != "solution":
            cells.append(cell)
            continue
        theirs = by_grade_id.get(cell.name)
        if theirs is None and cell.cell_id is not None:
            theirs = by_id.get(cell.cell_id)
        code = _source(theirs) if theirs is not None else None
        if code is None:
            missing.append(cell.name)
            continue
        cells.append(Cell(name=cell.name, role="solution", source=code))
    return StudentCode(cells=tuple(cells), missing=tuple(missing))
