"""Find the work: every student folder x every assignment in `solutions/` is one job.

`SUBMITTED/<student_id>/<assignment>/<assignment>.ipynb` is nbgrader's submitted layout. A
student folder without that notebook still gets a job (graded `missing`, with a reason naming
what was found instead), so every student has a row for every assignment.

`SUBMITTED` is written by nbgrader's exchange, so by students: nothing in it is followed. A
student folder that is a symbolic link gets a `refused` job per assignment (an `error` row,
never read); otherwise the notebook is read by `read_notebook` with `safe_files.read_beneath`
(no link followed, a regular file only, inside the student's own folder, at most
`MAX_NOTEBOOK_BYTES`), once, by the command: an engine's task carries the bytes. Nothing else
in a student's folder is read or imported (their own `backprop_lib/`, for instance).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CourseLayoutError
from .safe_files import MAX_NOTEBOOK_BYTES, UnsafeFile, is_real_folder, read_beneath


@dataclass(frozen=True)
class Job:
    """One (student, assignment) to grade. `notebook` is None when nothing was submitted; an
    engine's task replaces the path by the notebook's bytes, read by the command."""

    student_id: str
    assignment: str
    notebook: Path | bytes | None
    reason: str = ""
    root: Path | None = field(default=None, compare=False)
    """SUBMITTED, when `discover` found the job there; the notebook is `root/parts...`."""
    parts: tuple[str, ...] = field(default=(), compare=False)
    refused: str = ""
    """Not empty: the job is an `error` row with this reason, nothing is read (a linked folder)."""


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def find_assignments(solutions: Path) -> list[str]:
    """Assignments with a source notebook `solutions/<a>/<a>.ipynb`, sorted by name.

    Raises CourseLayoutError when `solutions` is not a folder or holds no assignment.
    """
    solutions = Path(solutions)
    if not solutions.is_dir():
        raise CourseLayoutError(f"solutions folder {solutions} does not exist")
    found = [p.name for p in _visible_dirs(solutions) if (p / f"{p.name}.ipynb").is_file()]
    if not found:
        raise CourseLayoutError(f"solutions folder {solutions} holds no <assignment>/<assignment>.ipynb")
    return found


def find_students(submitted: Path) -> list[str]:
    """Student ids: the visible sub-folders of `submitted`, sorted.

    Raises CourseLayoutError when `submitted` is not a folder.
    """
    submitted = Path(submitted)
    if not submitted.is_dir():
        raise CourseLayoutError(f"submitted folder {submitted} does not exist")
    return [p.name for p in _visible_dirs(submitted)]


def _lexists(path: Path) -> bool:
    """True when something (a file, a folder, a link, even a dangling one) is at `path`."""
    try:
        os.lstat(path)
        return True
    except OSError:
        return False


def _missing_reason(folder: Path, assignment: str) -> str:
    expected = f"{assignment}/{assignment}.ipynb"
    if not is_real_folder(folder):
        return f"No submission: {expected} not found."
    others = sorted(name for name in os.listdir(folder) if name.endswith(".ipynb"))
    if others:
        return f"No submission: {expected} not found (the folder holds {', '.join(others[:3])})."
    return f"No submission: {expected} not found (the folder holds no notebook)."


def discover(submitted: Path, solutions: Path) -> list[Job]:
    """All jobs, sorted by (student_id, assignment). Reads no notebook (see `read_notebook`)."""
    submitted = Path(submitted)
    assignments = find_assignments(solutions)
    jobs: list[Job] = []
    for student in find_students(submitted):
        linked = not is_real_folder(submitted / student)
        for assignment in assignments:
            folder = submitted / student / assignment
            notebook = folder / f"{assignment}.ipynb"
            parts = (student, assignment, f"{assignment}.ipynb")
            if linked:
                jobs.append(Job(student, assignment, notebook, root=submitted, parts=parts,
                                refused=f"The student folder {student} is a symbolic link; only "
                                        f"a real folder counts, so none of its notebooks is read."))
            elif _lexists(notebook) or (_lexists(folder) and not is_real_folder(folder)):
                jobs.append(Job(student, assignment, notebook, root=submitted, parts=parts))
            else:
                jobs.append(Job(student, assignment, None, _missing_reason(folder, assignment)))
    return jobs


def read_notebook(job: Job, max_bytes: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The bytes of `job`'s notebook, read without following any link (`read_beneath`).

    A job made by hand (`Job(sid, a, path)`, tests) reads `path`'s last component beneath its
    folder. Raises `safe_files.UnsafeFile` (its `reason` for the row, `missing` for a file
    that is gone); its reason begins "Not read: " and then the student's path as it is.
    """
    if job.root is not None and job.parts:
        root, parts = job.root, job.parts
    else:
        path = Path(job.notebook)
        root, parts = path.parent, (path.name,)
    try:
        return read_beneath(root, parts, max_bytes)
    except UnsafeFile as exc:  # the reason starts with the student's path: keep it as it is
        raise UnsafeFile(f"Not read: {exc.reason}", missing=exc.missing) from None
