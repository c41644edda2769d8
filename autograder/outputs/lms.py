"""The LMS upload: one row per student with the autograded score of every assignment.

`write_lms_csv(results, path, assignments)` writes columns `student_id`, one per assignment
(its `auto_score`), and `total`, students sorted by id. A (student, assignment) pair without a
result is left empty and counts 0 in the total. Scores are written rounded to 4 decimals.

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula (CSV injection):
every cell passes through `safe_text.csv_cell`, the curriculum's escape (a student id that
starts so, or with `'`, gets one more leading `'`, so two ids stay two rows).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from ..pipeline.results import write_atomic
from .safe_text import csv_row


def _fmt(score: float) -> str:
    text = f"{score:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def lms_rows(results: list[dict], assignments: list[str]) -> list[list[str]]:
    """The CSV rows (header first) for `results` over the columns `assignments`."""
    if len(set(assignments)) != len(assignments):
        raise ValueError(f"assignments must be distinct, got {assignments}")
    scores: dict[str, dict[str, float]] = {}
    for r in results:
        if not isinstance(r, dict) or "student_id" not in r or "assignment" not in r:
            raise ValueError(f"every result needs student_id and assignment, got {r!r:.120}")
        row = scores.setdefault(str(r["student_id"]), {})
        if str(r["assignment"]) in assignments:
            row[str(r["assignment"])] = float(r.get("auto_score") or 0.0)
    rows = [csv_row(["student_id", *assignments, "total"])]
    for sid in sorted(scores):
        row = scores[sid]
        rows.append(csv_row([sid, *(_fmt(row[a]) if a in row else "" for a in assignments),
                             _fmt(sum(row.values()))]))
    return rows


def write_lms_csv(results: list[dict], path: Path, assignments: list[str]) -> None:
    """Write the LMS CSV to `path` (atomically).

    Args:
        results: result dicts of one grading run (the curriculum's JSON).
        path: e.g. `OUT/lms.csv`.
        assignments: the assignment columns, in order (e.g. every assignment in `solutions/`).
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lms_rows(results, list(assignments)))
    write_atomic(Path(path), buffer.getvalue())
