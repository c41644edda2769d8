"""The TA's view in nbgrader's formgrader: `OUT/autograded/` and `OUT/nbgrader_config.py`.

formgrader shows a submission's notebook only from
`<course root>/autograded/<student>/<assignment>/<notebook>.ipynb`. nbgrader's own `autograde`
writes that file by sanitizing the submitted notebook and then EXECUTING it; we never run student
code outside the sandbox, so `write_autograded` does only the sanitizing half, with nbgrader's own
preprocessors against the gradebook `OUT/gradebook.db` (written by `autograder/outputs/gradebook.py` from
the trusted source notebooks in `solutions/`):

- `ClearOutput`: no outputs, no execution counts (nothing the student's kernel printed);
- `DeduplicateIds`, and the source's kernelspec (what `OverwriteKernelspec` does);
- `OverwriteCells` with `add_missing_cells`: locked cells (imports, test cells) get the source's
  text back when the student edited them, cell types and points are the source's, grade cells the
  student deleted are added back (with nbgrader's note; placed more robustly than nbgrader's
  own), so the TA can grade every written answer;
- `CheckCellMetadata`.

Before those, the nbgrader metadata of each cell is replaced by the trusted one from the gradebook
(a cell whose `grade_id` the source does not know loses its nbgrader metadata): a student who
flipped `grade` / `solution` / `locked` in their copy cannot hide a written answer from the TA or
turn a test cell into an editable one. Scores are not touched: formgrader shows the gradebook's
`auto_score` (ours, from the sandbox) and the TA adds manual scores for the written answers.

One step nbgrader does not take: formgrader renders markdown with its raw HTML and `javascript:`
links, in the TA's Jupyter server (the TA's credentials), so a student's markdown cell that holds
a tag or a script link is shown as plain text in a code block (`defuse_markdown`); everything
else renders as the student wrote it.

Like nbgrader's, these notebooks hold the source's hidden tests: `OUT/autograded/` is for the TA,
never for students (their feedback is `OUT/feedback/`).

`write_nbgrader_config` (module `nbgrader_config`) writes `OUT/nbgrader_config.py` so that
`cd OUT && nbgrader formgrader` (or JupyterLab's formgrader opened in OUT) uses OUT as the course root and its gradebook. Its
`submitted_directory` deliberately does NOT point at the class's submissions: formgrader would
then offer its "autograde" button, which runs student code unsandboxed in the TA's server.

Every file is written atomically (`results.write_atomic`: readers see the old file or the
new one, never a part).

The student's notebook is read again here, as the grader read it: beneath SUBMITTED without
following a link (`safe_files.read_beneath`, at most `MAX_NOTEBOOK_BYTES`), so a linked
notebook never shows the TA another file. What is rendered is bounded: a notebook of more
than `MAX_SHOWN_CELLS` cells or `MAX_SHOWN_TEXT` characters of cell text (about 20 times the
largest source notebook) gets no autograded copy, and the run says why (a 31 MiB notebook of
400k markdown cells took 66 s and 2.3 GB in nbgrader's preprocessors).
"""
from __future__ import annotations

import copy
import json
import logging
import warnings
from pathlib import Path
from typing import Any, Iterable

import nbformat

from .markdown_guard import defuse_markdown
from ..pipeline.notebook import NotebookError, _read_json
from ..pipeline.results import write_atomic
from .nbgrader_config import CONFIG_NAME, write_nbgrader_config  # noqa: F401 (re-exported)
from ..pipeline.safe_files import UnsafeFile, read_beneath

MAX_SHOWN_CELLS = 1000
"""Cells of a student's notebook formgrader is given (the largest source notebook has 50)."""
MAX_SHOWN_TEXT = 2 << 20
"""Characters of cell text (sources and attachments) formgrader is given (largest source: 66k)."""

AUTOGRADED = "autograded"
# nbgrader's preprocessors log each cell they restore ("Attribute 'checksum' ... has changed!"):
# not for the grader's terminal, where one line per edited test cell of a class would drown it
LOG = logging.getLogger("autograder.formgrader")
LOG.addHandler(logging.NullHandler())
LOG.propagate = False


def _safe_name(name: Any) -> bool:
    """A single, visible path component (student ids and assignments come from folder names)."""
    return (isinstance(name, str) and name not in ("", ".", "..") and not name.startswith(".")
            and "/" not in name and "\\" not in name and "\0" not in name)


def _remove_stale(path: Path) -> None:
    """Remove an autograded notebook left by an earlier run (and its folder, when empty)."""
    try:
        path.unlink()
    except FileNotFoundError:
        return
    try:
        path.parent.rmdir()
    except OSError:
        pass


class SourceView:
    """What the gradebook knows of one assignment's trusted source notebook, looked up once.

    nbgrader's `OverwriteCells` asks its gradebook for every graded cell of every notebook
    (`find_source_cell`, `find_graded_cell`, `find_notebook`), and `OverwriteKernelspec` opens
    the gradebook again: ~35 ms a notebook, a minute for 300 x 5. This object answers the same
    calls from one open `Gradebook`, memoized, and carries the trusted cell metadata.
    """

    def __init__(self, gb, assignment: str, source: Path | None = None):
        self._gb = gb
        self._memo: dict[tuple, Any] = {}
        # the source notebook's markdown: text a student left as it was is not theirs
        self.markdown_texts: set[str] = set()
        if source is not None:
            for cell in nbformat.read(source, as_version=4).cells:
                if cell.cell_type == "markdown":
                    self.markdown_texts.add(cell.source)
        nb = gb.find_notebook(assignment, assignment)
        self.kernelspec = json.loads(nb.kernelspec) if nb.kernelspec else None
        grades = {c.name: c for c in nb.grade_cells}
        solutions = {c.name for c in nb.solution_cells}
        tasks = {c.name: c for c in nb.task_cells}
        # grade_id -> the nbgrader metadata nbgrader's generate_assignment gives that cell
        self.metadata: dict[str, dict[str, Any]] = {}
        for cell in nb.source_cells:
            m: dict[str, Any] = {"grade": cell.name in grades, "grade_id": cell.name,
                                 "locked": bool(cell.locked), "schema_version": 3,
                                 "solution": cell.name in solutions}
            if cell.name in tasks:
                m["task"] = True
            if cell.name in grades:
                m["points"] = float(grades[cell.name].max_score)
                m["cell_type"] = grades[cell.name].cell_type
            elif cell.name in tasks:
                m["points"] = float(tasks[cell.name].max_score)
                m["cell_type"] = cell.cell_type
            if cell.checksum:
                m["checksum"] = cell.checksum
            self.metadata[cell.name] = m

    def _lookup(self, method: str, *args: str) -> Any:
        key = (method, *args)
        if key not in self._memo:
            try:
                self._memo[key] = (getattr(self._gb, method)(*args), None)
            except Exception as exc:  # nbgrader's MissingEntry: raised again on every call
                self._memo[key] = (None, exc)
        value, exc = self._memo[key]
        if exc is not None:
            raise exc
        return value

    def find_source_cell(self, name: str, notebook: str, assignment: str):
        return self._lookup("find_source_cell", name, notebook, assignment)

    def find_graded_cell(self, name: str, notebook: str, assignment: str):
        return self._lookup("find_graded_cell", name, notebook, assignment)

    def find_notebook(self, notebook: str, assignment: str):
        return self._lookup("find_notebook", notebook, assignment)

    def __enter__(self) -> "SourceView":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


def _overwrite_cells(view: SourceView, add_missing: bool):
    """nbgrader's `OverwriteCells`, asking `view` instead of opening the gradebook."""
    from nbgrader.preprocessors import OverwriteCells

    class Overwrite(OverwriteCells):
        def preprocess(self, nb, resources):
            # OverwriteCells.preprocess, with `view` as its gradebook
            self.notebook_id = resources["nbgrader"]["notebook"]
            self.assignment_id = resources["nbgrader"]["assignment"]
            self.db_url = resources["nbgrader"]["db_url"]
            self.gradebook = view
            nb, resources = super(OverwriteCells, self).preprocess(nb, resources)
            if self.add_missing_cells:
                nb, resources = self.add_missing_grade_cells(nb, resources)
                nb, resources = self.add_missing_task_cells(nb, resources)
            return nb, resources

        def add_missing_grade_cells(self, nb, resources):
            # nbgrader's puts a deleted grade cell after the previous source cell and fails
            # (KeyError) when that one is gone too: here it goes after the nearest earlier
            # source cell still in the notebook, or first; built by nbgrader's own transform
            source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
            order = [c.name for c in source_nb.source_cells]
            sources = {c.name: c for c in source_nb.source_cells}
            solutions = {c.name for c in source_nb.solution_cells}

            def positions():
                return {c.metadata["nbgrader"]["grade_id"]: i for i, c in enumerate(nb.cells)
                        if isinstance(c.metadata.get("nbgrader"), dict)
                        and c.metadata["nbgrader"].get("grade_id")}

            for grade_cell in source_nb.grade_cells:
                where = positions()
                if grade_cell.name in where or grade_cell.name not in sources:
                    continue
                self.log.warning("Missing grade cell %s, added back", grade_cell.name)
                earlier = order[:order.index(grade_cell.name)]
                at = max((where[n] + 1 for n in earlier if n in where), default=0)
                nb.cells.insert(at, self.missing_cell_transform(
                    sources[grade_cell.name], grade_cell.max_score,
                    is_solution=grade_cell.name in solutions))
            return nb, resources

    return Overwrite(add_missing_cells=add_missing, log=LOG)


def _restore_metadata(nb: nbformat.NotebookNode, trusted: dict[str, dict[str, Any]]) -> None:
    """Give every cell the trusted nbgrader metadata of its grade_id, or none.

    A cell is the source's cell `g` when its nbgrader `grade_id` is `g` or, failing that (a
    student who deleted or broke the metadata), when its cell id is `g` (nbgrader's release
    gives the graded cells their grade_id as cell id). When two cells claim one grade_id the
    first keeps it, as the grader takes the first (`notebook.load_student`); the other becomes
    an ordinary cell (nbgrader's `DeduplicateIds` would leave it an empty nbgrader dict, which
    its own `CheckCellMetadata` then rejects).
    """
    claimed: dict[int, str] = {}
    taken: set[str] = set()
    for index, cell in enumerate(nb.cells):
        nbg = cell.metadata.get("nbgrader")
        grade_id = nbg.get("grade_id") if isinstance(nbg, dict) else None
        if isinstance(grade_id, str) and grade_id in trusted and grade_id not in taken:
            claimed[index] = grade_id
            taken.add(grade_id)
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        if (index not in claimed and isinstance(cell_id, str) and cell_id in trusted
                and cell_id not in taken):
            claimed[index] = cell_id
            taken.add(cell_id)
    for index, cell in enumerate(nb.cells):
        if index in claimed:
            cell.metadata["nbgrader"] = nbformat.from_dict(copy.deepcopy(trusted[claimed[index]]))
        else:
            cell.metadata.pop("nbgrader", None)


def _normalize(raw: dict[str, Any]) -> dict[str, Any]:
    """The student's notebook JSON made valid enough for nbformat and nbgrader, as the grader
    read it (tolerantly): cells that are not cells are dropped, metadata that is not a dict is
    emptied, outputs are gone (nothing of them is shown anyway)."""
    raw = dict(raw)
    if not isinstance(raw.get("metadata"), dict):
        raw["metadata"] = {}
    raw.setdefault("nbformat", 4)
    if not isinstance(raw.get("nbformat_minor"), int):
        raw["nbformat_minor"] = 5
    cells = []
    for cell in raw.get("cells") or []:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            continue
        new = {"cell_type": cell["cell_type"], "source": source,
               "metadata": cell["metadata"] if isinstance(cell.get("metadata"), dict) else {}}
        if isinstance(cell.get("id"), str):
            new["id"] = cell["id"]
        if cell["cell_type"] == "code":
            new.update(outputs=[], execution_count=None)
        elif isinstance(cell.get("attachments"), dict):
            new["attachments"] = cell["attachments"]
        cells.append(new)
    raw["cells"] = cells
    return raw


def sanitize(nb: nbformat.NotebookNode, assignment: str, view: SourceView,
             db_url: str = "") -> nbformat.NotebookNode:
    """The student's notebook as nbgrader's autograde leaves it before executing: see the module
    docstring. Raises whatever nbgrader's preprocessors raise for a notebook they cannot fix."""
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds

    resources = {"nbgrader": {"notebook": assignment, "assignment": assignment, "db_url": db_url}}
    _restore_metadata(nb, view.metadata)
    for step in (ClearOutput(log=LOG), DeduplicateIds(log=LOG)):
        nb, resources = step.preprocess(nb, resources)
    if view.kernelspec:  # what OverwriteKernelspec does
        nb.metadata["kernelspec"] = copy.deepcopy(view.kernelspec)
    for step in (_overwrite_cells(view, add_missing=True), CheckCellMetadata(log=LOG)):
        nb, resources = step.preprocess(nb, resources)
    defuse_markdown(nb, view.markdown_texts)
    return nb


def write_autograded(results: Iterable[dict[str, Any]], submitted_dir: Path, out_dir: Path,
                     solutions_dir: Path) -> list[str]:
    """Write `OUT/autograded/<sid>/<a>/<a>.ipynb` for every graded row whose notebook exists,
    and `OUT/nbgrader_config.py` (see the module docstring).

    Args:
        results: result dicts of one grading run.
        submitted_dir: the class's submissions, `<sid>/<a>/<a>.ipynb`.
        out_dir: OUT; `OUT/gradebook.db` must exist (the gradebook step writes it first).
        solutions_dir: the trusted source notebooks (for the config's source_directory).

    Returns:
        One sentence per graded notebook that got no autograded file although the grader read
        it (an unreadable notebook's row already says why, and is not repeated here).

    Raises:
        FileNotFoundError: no gradebook at `OUT/gradebook.db`.
    """
    submitted_dir, out_dir = Path(submitted_dir), Path(out_dir)
    db = out_dir / "gradebook.db"
    if not db.is_file():
        raise FileNotFoundError(f"no gradebook at {db}: the gradebook step must run first")
    db_url = f"sqlite:///{db.resolve()}"
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        problems = _write_all(gb, db_url, list(results), submitted_dir, out_dir,
                              Path(solutions_dir))
    write_nbgrader_config(out_dir, solutions_dir, submitted_dir)
    return problems


def _too_big(raw: dict[str, Any]) -> str:
    """Why the notebook is too large to render, or "" (counts before anything is built)."""
    cells = raw.get("cells") or []
    if len(cells) > MAX_SHOWN_CELLS:
        return f"it has {len(cells)} cells, more than the {MAX_SHOWN_CELLS} formgrader is given"
    text = 0
    for cell in cells:
        if isinstance(cell, dict):
            source = cell.get("source", "")
            parts = source if isinstance(source, list) else [source]
            text += sum(len(part) for part in parts if isinstance(part, str))
            if isinstance(cell.get("attachments"), dict):
                text += len(json.dumps(cell["attachments"]))
    if text > MAX_SHOWN_TEXT:
        return (f"its cells hold {text} characters, more than the {MAX_SHOWN_TEXT} formgrader "
                f"is given")
    return ""


def _write_all(gb, db_url: str, results: list[dict[str, Any]], submitted_dir: Path,
               out_dir: Path, solutions_dir: Path) -> list[str]:
    problems: list[str] = []
    views: dict[str, SourceView] = {}
    for r in results:
        sid, a = r.get("student_id"), r.get("assignment")
        if not (_safe_name(sid) and _safe_name(a)):
            problems.append(f"{sid!r}/{a!r}: not a plain folder name, skipped")
            continue
        target = out_dir / AUTOGRADED / sid / a / f"{a}.ipynb"
        if r.get("status") == "missing":
            _remove_stale(target)
            continue
        try:
            raw = _read_json(read_beneath(submitted_dir, (sid, a, f"{a}.ipynb")))
        except (UnsafeFile, NotebookError):
            _remove_stale(target)  # a link, special, oversized or malformed: the row says why
            continue
        too_big = _too_big(raw)
        if too_big:
            _remove_stale(target)
            problems.append(f"{sid}/{a}: no autograded notebook for formgrader ({too_big})")
            continue
        try:
            with warnings.catch_warnings():  # nbformat's, about missing or duplicate cell ids
                warnings.simplefilter("ignore")
                nb = nbformat.reads(json.dumps(_normalize(raw)), as_version=4)
            if a not in views:
                views[a] = SourceView(gb, a, solutions_dir / a / f"{a}.ipynb")
            nb = sanitize(nb, a, views[a], db_url)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                text = nbformat.writes(nb)
        except Exception as exc:  # one odd notebook must not cost the class its view
            _remove_stale(target)
            problems.append(f"{sid}/{a}: no autograded notebook for formgrader "
                            f"({type(exc).__name__}: {exc})")
            continue
        write_atomic(target, text)
    return problems
