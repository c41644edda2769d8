"""`python -m autograder export OUT [--roster EXPORT.csv]`: the grade tables from nbgrader's gradebook.

The grading command's `lms.csv` and `canvas.csv` hold the autograded points only: the written
answers are graded later, by the TA in formgrader, into `OUT/gradebook.db`. After that,
`export_grades(out, roster)` rewrites both from the gradebook, so each cell is nbgrader's own
total for the submission (`SubmittedAssignment.score`: every cell's manual score where the TA
gave one, else its autograded score, plus extra credit) and Points Possible is nbgrader's
`Assignment.max_score` (autograded and written points together).

Every student of the gradebook has a row and every assignment a column; a student without a
submission of an assignment gets 0 there (as nbgrader counts it). `lms.csv` keeps its columns
(`student_id`, one per assignment, `total`; `outputs/lms.py`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import CourseLayoutError
from .canvas import Matching, Roster, write_canvas_csv
from .lms import write_lms_csv


@dataclass(frozen=True)
class GradebookTotals:
    """nbgrader's totals: every (student, assignment) pair, 0 where nothing was submitted."""

    students: tuple[str, ...]
    assignments: tuple[str, ...]
    scores: dict[tuple[str, str], float]
    maxima: dict[str, float]


def read_totals(db_path: Path) -> GradebookTotals:
    """The totals of the gradebook at `db_path`, through nbgrader's API.

    Raises:
        CourseLayoutError: there is no gradebook at `db_path`.
    """
    from nbgrader.api import Gradebook

    db_path = Path(db_path)
    if not db_path.is_file():
        raise CourseLayoutError(f"no gradebook at {db_path}: run `python -m autograder grade "
                                f"SUBMITTED --output {db_path.parent}` first")
    with Gradebook(f"sqlite:///{db_path}") as gb:
        assignments = sorted(a.name for a in gb.assignments)
        maxima = {a.name: float(a.max_score or 0.0) for a in gb.assignments}
        students = sorted(s.id for s in gb.students)
        scores = {(s, a): 0.0 for s in students for a in assignments}
        for a in assignments:
            for submission in gb.assignment_submissions(a):
                scores[(submission.student.id, a)] = float(submission.score or 0.0)
    return GradebookTotals(tuple(students), tuple(assignments), scores, maxima)


@dataclass(frozen=True)
class Exported:
    """What `export_grades` wrote: the files and, with a roster, the matching report."""

    totals: GradebookTotals
    written: tuple[Path, ...]
    matching: Matching | None = None


def export_grades(out: Path, roster: Roster | None = None) -> Exported:
    """Rewrite `OUT/lms.csv` (and `OUT/canvas.csv` with a roster) from `OUT/gradebook.db`."""
    out = Path(out)
    totals = read_totals(out / "gradebook.db")
    # lms.csv's writer takes result-shaped rows: here each carries nbgrader's total.
    rows = [{"student_id": s, "assignment": a, "auto_score": totals.scores[(s, a)]}
            for s in totals.students for a in totals.assignments]
    write_lms_csv(rows, out / "lms.csv", list(totals.assignments))
    written = [out / "lms.csv"]
    matching = None
    if roster is not None:
        matching = write_canvas_csv(out / "canvas.csv", roster, totals.scores, totals.maxima,
                                    list(totals.assignments))
        written.append(out / "canvas.csv")
    return Exported(totals, tuple(written), matching)
