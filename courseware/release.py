"""`build`: the student release, made by nbgrader's own generate_assignment, then post-processed.

nbgrader runs in a temporary course directory (``source/<a>`` -> ``release/<a>``), so no
gradebook.db or other junk lands in the repository. Its output is then:
- stamped as generated (a first markdown cell and ``metadata.kit.generated``);
- given stubs that say what to write: each ``raise NotImplementedError()`` becomes
  ``raise NotImplementedError("<a> <function>: <TASK text>")`` from the ``# TASK:`` comment
  that precedes the solution region (docs/notebook-format.md);
- normalized (no outputs, the solution notebook's cell ids, stable JSON);
- accompanied by ``backprop_lib/``: exactly the modules the assignment may import, stamped
  generated (written into ``solutions/<a>/`` first, carried over by nbgrader).
"""
from __future__ import annotations

import logging
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from . import notebooks
from .errors import BuildError, SourceError
from .layout import Layout
from .library_package import LIBRARY, write_release_package
from .sync import STAMP_PREFIX

NOTE_CELL_ID = "generated-note"
STUB_LINE = "raise NotImplementedError()"
SOLUTION_STAMP = "# Write your code where each stub raises NotImplementedError; keep the names and signatures."
GIVEN_STAMP = "# Given code, copied from {files}: run this cell, do not edit it."
_DEF = re.compile(r"^(\s*)(?:async\s+)?(def|class)\s+([A-Za-z_]\w*)")
_TASK = re.compile(r"^\s*#\s*TASK:\s*(.*)$")
_COMMENT = re.compile(r"^\s*#\s?(.*)$")


def note_markdown(assignment: str) -> str:
    """The first cell of every release: what this file is and where it comes from."""
    return (
        f"*Student release of `{assignment}`, generated from `solutions/{assignment}/{assignment}.ipynb` "
        "and `backprop_lib` by `make notebooks`. Instructors: edit those, never this file.*\n\n"
        "Fill in every stub that raises `NotImplementedError`, run the notebook top to bottom, "
        "and make every public check print `PASS`."
    )


def run_nbgrader(source_dir: Path, assignment: str, workdir: Path) -> Path:
    """Run nbgrader's generate_assignment on a copy of `source_dir`; return the release folder.

    Args:
        source_dir: ``solutions/<a>`` (the whole folder: nbgrader copies non-notebook files too).
        assignment: the assignment name.
        workdir: an empty temporary folder that becomes nbgrader's course directory.

    Raises:
        RuntimeError: with nbgrader's log and traceback if it fails.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log
    from traitlets.config import Config

    shutil.copytree(source_dir, workdir / "source" / assignment, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    config = Config()
    config.CourseDirectory.root = str(workdir)
    config.CourseDirectory.db_url = f"sqlite:///{workdir / 'gradebook.db'}"
    # nbgrader's --no-db: the release needs no gradebook (the grader and `nbgrader autograde`
    # build their own from the source notebook), and skipping it saves seconds per notebook.
    config.SaveCells.enabled = False
    config.GenerateAssignment.no_database = True
    config.CourseDirectory.assignment_id = assignment
    coursedir = CourseDirectory(config=config)
    app = GenerateAssignment(coursedir=coursedir, config=config)
    app.force = True
    app.create_assignment = True
    app.log.setLevel(logging.WARNING)
    result = capture_log(app)
    if not result["success"]:
        raise BuildError(f"nbgrader generate_assignment {assignment} failed:\n{result.get('log', '')}\n{result.get('error', '')}")
    return workdir / "release" / assignment


def enclosing_name(lines: list[str], index: int) -> str:
    """``Class.method`` or ``function`` enclosing line `index` (by indentation), or ``""``."""
    indent = len(lines[index]) - len(lines[index].lstrip())
    names: list[str] = []
    for line in reversed(lines[:index]):
        match = _DEF.match(line)
        if match and len(match.group(1)) < indent:
            names.append(match.group(3))
            indent = len(match.group(1))
            if indent == 0:
                break
    return ".".join(reversed(names))


def _task_text(lines: list[str], index: int) -> str | None:
    """The ``# TASK:`` text above the stub at `index` (continuation comment lines joined)."""
    j = index - 1
    while j >= 0 and lines[j].strip() == "# YOUR CODE HERE":
        j -= 1
    comments: list[str] = []
    while j >= 0 and _COMMENT.match(lines[j]):
        task = _TASK.match(lines[j])
        if task:
            return " ".join([task.group(1).strip()] + comments).strip()
        comments.insert(0, _COMMENT.match(lines[j]).group(1).strip())
        j -= 1
    return None


def _literal(text: str) -> str:
    """A double-quoted Python string literal of `text`."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def explain_stubs(source: str, assignment: str, where: str) -> str:
    """Replace each bare ``raise NotImplementedError()`` with one carrying its TASK text.

    Raises:
        ValueError: if a stub has no ``# TASK:`` comment above it (names `where` and the function).
    """
    lines = source.split("\n")
    for i, line in enumerate(lines):
        if line.strip() != STUB_LINE:
            continue
        function = enclosing_name(lines, i) or "(cell)"
        task = _task_text(lines, i)
        if task is None:
            raise SourceError(f"{where}: the solution region in {function} has no '# TASK:' line right before it")
        indent = line[: len(line) - len(line.lstrip())]
        lines[i] = f"{indent}raise NotImplementedError({_literal(f'{assignment} {function}: {task}')})"
    return "\n".join(lines)


def _restamp(cell: NotebookNode) -> None:
    """Swap the instructor-facing 'generated' first line for one a student can act on."""
    first, _, rest = cell.source.partition("\n")
    if not first.startswith(STAMP_PREFIX):
        return
    if notebooks.nbgrader_meta(cell).get("solution"):
        cell.source = SOLUTION_STAMP + "\n" + rest
    else:
        files = first[len(STAMP_PREFIX):].split(" by ")[0]
        cell.source = GIVEN_STAMP.format(files=files) + "\n" + rest


def postprocess(nb: NotebookNode, assignment: str, name: str) -> NotebookNode:
    """Turn nbgrader's release notebook into the committed student notebook (in place)."""
    from nbgrader.utils import compute_checksum

    for index, cell in enumerate(nb.cells):
        before = cell.source
        if cell.cell_type == "code":
            cell.source = explain_stubs(cell.source, assignment, f"{name}: cell {index}")
            _restamp(cell)
        meta = notebooks.nbgrader_meta(cell)
        if cell.source != before and "checksum" in meta:
            meta["checksum"] = compute_checksum(cell)
    note = nbformat.v4.new_markdown_cell(note_markdown(assignment))
    note["id"] = NOTE_CELL_ID
    nb.cells.insert(0, note)
    nb.metadata.setdefault("kit", {})["generated"] = {
        "from": f"solutions/{assignment}/{assignment}.ipynb",
        "by": "make notebooks (python -m courseware build)",
    }
    return notebooks.normalize(nb, keep_ids=True)


def build_assignment(solution_dir: Path, assignment: str, out_dir: Path, library: Path = LIBRARY) -> list[Path]:
    """Generate the release of one assignment into `out_dir` (replacing its contents).

    First (re)writes ``solution_dir/backprop_lib/``, the modules `assignment` may import
    (`library_package.write_release_package`): the solution notebook then runs from its own
    folder, and nbgrader's generate_assignment (this one, or a TA's own) carries the package
    into the release, so a student's folder runs on its own.

    Args:
        solution_dir: ``solutions/<a>`` (already synced).
        assignment: the assignment name.
        out_dir: ``notebooks/<a>``.
        library: the reference package the modules are copied from.

    Returns:
        The files written into `out_dir`.
    """
    write_release_package(assignment, solution_dir, library)
    with tempfile.TemporaryDirectory(prefix="courseware-build-") as tmp:
        release = run_nbgrader(solution_dir, assignment, Path(tmp))
        staged = Path(tmp) / "staged"
        shutil.copytree(release, staged)
        for path in sorted(staged.rglob("*.ipynb")):
            nb = postprocess(notebooks.read(path), assignment, str(path.relative_to(staged)))
            path.write_text(notebooks.dumps(nb), encoding="utf-8")
        for path in staged.rglob("*"):
            if path.is_file():
                path.chmod(0o644)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        shutil.copytree(staged, out_dir)
    return sorted(p for p in out_dir.rglob("*") if p.is_file())


def build(layout: Layout, assignments: list[str], out_notebooks: Path | None = None, solutions: Path | None = None) -> list[Path]:
    """Build the releases of `assignments`; return every file written.

    Args:
        layout: the project's trees.
        assignments: assignment names.
        out_notebooks: write into this tree instead of ``notebooks/`` (used by `check`).
        solutions: read the (synced) solutions from this tree instead of ``solutions/``.
    """
    written: list[Path] = []
    for assignment in assignments:
        source = (solutions or layout.solutions) / assignment
        written += build_assignment(source, assignment, (out_notebooks or layout.notebooks) / assignment,
                                    layout.library)
    return written
