"""Find the work: every student folder x every assignment in `solutions/` is one job.

`SUBMITTED/<student_id>/<assignment>/<assignment>.ipynb` is nbgrader's submitted layout. A
student folder without that notebook still gets a job (graded `missing`, with a reason naming
what was found instead), so every student has a row for every assignment.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import CourseLayoutError


@dataclass(frozen=True)
class Job:
    """One (student, assignment) to grade. `notebook` is None when nothing was submitted."""

    student_id: str
    assignment: str
    notebook: Path | None
    reason: str = ""


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


def _missing_reason(folder: Path, assignment: str) -> str:
    expected = f"{assignment}/{assignment}.ipynb"
    if not folder.is_dir():
        return f"No submission: {expected} not found."
    others = sorted(p.name for p in folder.glob("*.ipynb"))
    if others:
        return f"No submission: {expected} not found (the folder holds {', '.join(others[:3])})."
    return f"No submission: {expected} not found (the folder holds no notebook)."


def discover(submitted: Path, solutions: Path) -> list[Job]:
    """All jobs, sorted by (student_id, assignment)."""
    submitted = Path(submitted)
    assignments = find_assignments(solutions)
    jobs: list[Job] = []
    for student in find_students(submitted):
        for assignment in assignments:
            folder = submitted / student / assignment
            notebook = folder / f"{assignment}.ipynb"
            if notebook.is_file():
                jobs.append(Job(student, assignment, notebook))
            else:
                jobs.append(Job(student, assignment, None, _missing_reason(folder, assignment)))
    return jobs
