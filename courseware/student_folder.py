"""What a student's folder is, and what it must never hold: the work done, the answer lines, leaks.

A student receives ``notebooks/<a>/`` whole (nbgrader's exchange, or a zip): ``<a>.ipynb`` and
its generated ``backprop_lib/``. The release tests (tests/courseware/test_student_folder.py)
copy it alone into an empty folder and use these functions:

- `completed_notebook`: the release with the work done (each solution cell replaced by the
  solution notebook's cell of the same grade_id), as a student who finished would have it;
- `answer_lines`: the lines of the solution regions of some library modules (any line over
  15 characters that is not a comment and that the library does not also show outside a
  solution region);
- `leaked_answer_lines`: which of those lines some file of a folder holds.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .errors import SourceError
from .notebooks import nbgrader_meta
from .verify import BEGIN_SOLUTION, END_SOLUTION, regions

MIN_ANSWER_CHARS = 16  # "any line over 15 characters"


def completed_notebook(release: NotebookNode, solution: NotebookNode) -> NotebookNode:
    """A copy of `release` whose solution cells hold the solution notebook's code (same grade_id).

    Raises:
        SourceError: a solution cell of the release has no counterpart in `solution`.
    """
    answers = {nbgrader_meta(c).get("grade_id"): c.source for c in solution.cells
               if c.cell_type == "code" and nbgrader_meta(c).get("solution")}
    done = nbformat.from_dict(release)
    for cell in done.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and meta.get("solution"):
            if meta.get("grade_id") not in answers:
                raise SourceError(f"release cell {meta.get('grade_id')!r} has no solution cell")
            cell.source = answers[meta["grade_id"]]
    return done


def _answer_candidate(line: str) -> bool:
    s = line.strip()
    return len(s) >= MIN_ANSWER_CHARS and not s.startswith("#") and BEGIN_SOLUTION not in s and END_SOLUTION not in s


def answer_lines(library: Path, modules: tuple[str, ...]) -> set[str]:
    """Stripped lines inside the solution regions of `library/<m>.py` for each of `modules`,
    minus every line the library shows outside a solution region (in any of its modules).

    Args:
        library: the reference package folder (``backprop_lib/``).
        modules: graded module names, e.g. ``forbidden_modules("a3_mlp")``.
    """
    inside: set[str] = set()
    outside: set[str] = set()
    for path in sorted(library.glob("*.py")):
        lines = path.read_text(encoding="utf-8").split("\n")
        marked = [False] * len(lines)
        for region in regions("\n".join(lines)):
            for i in range(region.begin, region.end + 1):
                marked[i] = True
        for line, in_region in zip(lines, marked):
            if not _answer_candidate(line):
                continue
            if in_region and path.stem in modules:
                inside.add(line.strip())
            elif not in_region:
                outside.add(line.strip())
    return inside - outside


@dataclass(frozen=True)
class Leak:
    """An answer line found in a file of a student's folder."""

    file: str   # relative to the folder
    line: str


def leaked_answer_lines(folder: Path, answers: set[str]) -> list[Leak]:
    """Every (file, line) of `folder` (recursively, text or not) whose stripped line is in `answers`.

    Notebooks are read as JSON text too: a line of a cell shows up inside a JSON string, so
    the cells' sources are also scanned line by line.
    """
    leaks: list[Leak] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        text = path.read_bytes().decode("utf-8", errors="replace")
        lines = text.split("\n")
        if path.suffix == ".ipynb":
            nb = nbformat.reads(text, as_version=4)
            lines = [line for cell in nb.cells for line in cell.source.split("\n")]
        rel = str(path.relative_to(folder))
        leaks += [Leak(rel, line.strip()) for line in lines if line.strip() in answers]
    return leaks
