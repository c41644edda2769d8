"""Canvas's gradebook import: `OUT/canvas.csv` from a roster (a gradebook export of Canvas).

`read_roster(path, key="SIS Login ID")` reads the export Canvas writes (Grades > Export):

    Student,ID,SIS User ID,SIS Login ID,Section,a1_gates (12345),...,Current Score,...
        Points Possible,,,,,10.00,...          (Canvas pads this cell with four spaces)
    "Lovelace, Ada",1001,S1001,ada,Section 1,8.50,...

It keeps the identifying columns `Student, ID, SIS User ID, SIS Login ID, Section` (those the
export has; `Student` and `ID` are required), the key column, every student row exactly as
exported, and the export's assignment headers. Rows that are not students are skipped: the
`Points Possible` row, and rows with neither a name nor an ID (Canvas's `Manual Posting` row).

`canvas_table(roster, scores, maxima, assignments)` builds the import file:

- the identifying columns, then one column per assignment: the export's own header for it
  when it has one (`a1_gates (12345)`: the name before ` (<digits>)`, or the whole header,
  equals the assignment's, ignoring case and surrounding spaces), so Canvas updates that
  assignment; else the assignment's name, which Canvas creates;
- a second row whose first cell is `Points Possible`, with each assignment's maximum;
- one row per roster student, in the export's order, matched to a `student_id` by the key
  column (surrounding whitespace and case ignored; when several ids match, the one equal
  before case-folding wins, else the row is ambiguous). A roster student without a
  submission gets 0 in every column; so does an ambiguous one. Nothing is dropped silently:
  `Matching` lists the roster students without a submission, the ambiguous rows and the
  submissions without a roster row (which cannot be imported: Canvas adds no students).

Identity cells are written exactly as exported (the curriculum's rule); every other cell we
write goes through `safe_text.csv_cell`, and scores are numbers.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import GraderError
from ..pipeline.results import write_atomic
from .safe_text import csv_cell

IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
REQUIRED_COLUMNS = ("Student", "ID")
DEFAULT_KEY = "SIS Login ID"
POINTS_POSSIBLE = "Points Possible"
MAX_ROSTER_BYTES = 64 << 20
_WITH_ID = re.compile(r"^(?P<name>.*)\s\((?P<id>\d+)\)\s*$")


class RosterError(GraderError, ValueError):
    """The roster file is not a usable Canvas gradebook export."""


@dataclass(frozen=True)
class Roster:
    """A Canvas export: its identifying columns, student rows and assignment headers.

    Attributes:
        path: where it was read from.
        key: the column students are matched by.
        columns: the identifying columns present, in `IDENTITY_COLUMNS` order.
        rows: one dict per student, with the identifying columns and the key, as exported.
        headers: every header of the export (to find an assignment's own column).
    """

    path: Path
    key: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, str], ...]
    headers: tuple[str, ...]


@dataclass
class Matching:
    """How roster rows met submissions (as data; `lines()` says it in sentences).

    Attributes:
        matched: number of roster rows that got a student's scores.
        roster_without_submission: names (with the key's value) of roster students given 0.
        ambiguous: roster rows whose key matched several ids, or that share a key, given 0.
        submissions_without_roster_row: student ids that no roster row names (the ids an
            ambiguous row could mean are not repeated here).
    """

    key: str
    matched: int = 0
    roster_without_submission: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    submissions_without_roster_row: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"canvas.csv: {self.matched} roster students matched by {self.key!r}"]
        if self.roster_without_submission:
            out.append(f"canvas.csv: {len(self.roster_without_submission)} roster students have "
                       f"no submission and get 0: {', '.join(self.roster_without_submission)}")
        if self.ambiguous:
            out.append(f"canvas.csv: {len(self.ambiguous)} roster rows match ambiguously and get 0: "
                       f"{', '.join(self.ambiguous)}")
        if self.submissions_without_roster_row:
            out.append(f"canvas.csv: {len(self.submissions_without_roster_row)} submissions have no "
                       f"roster row and are not in canvas.csv: "
                       f"{', '.join(self.submissions_without_roster_row)}")
        return out


def normalize(value: str) -> str:
    """The matching form of an id: surrounding whitespace stripped, case folded."""
    return value.strip().casefold()


def read_roster(path: Path, key: str = DEFAULT_KEY) -> Roster:
    """Read a Canvas gradebook export (see the module docstring).

    Raises:
        RosterError: unreadable, too large, not CSV, or without the required or key column.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_ROSTER_BYTES:
            raise RosterError(f"roster {path} is larger than {MAX_ROSTER_BYTES >> 20} MiB")
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise RosterError(f"cannot read roster {path} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise RosterError(f"roster {path} is not UTF-8 text (export it from Canvas as CSV)") from None
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise RosterError(f"roster {path} is not a CSV file ({exc})") from None
    if not table:
        raise RosterError(f"roster {path} is empty")
    headers = tuple(table[0])
    for column in (*REQUIRED_COLUMNS, key):
        if column not in headers:
            raise RosterError(f"roster {path} has no {column!r} column (its columns: "
                              f"{', '.join(headers[:8])}); export the gradebook from Canvas")
    index = {name: headers.index(name) for name in (*IDENTITY_COLUMNS, key) if name in headers}
    rows = []
    for raw in table[1:]:
        cells = {name: raw[i] if i < len(raw) else "" for name, i in index.items()}
        if cells["Student"].strip() == POINTS_POSSIBLE:
            continue
        if not cells["Student"].strip() and not cells["ID"].strip():
            continue  # Canvas's "Manual Posting" row, or an empty line
        rows.append(cells)
    columns = tuple(c for c in IDENTITY_COLUMNS if c in headers)
    return Roster(path, key, columns, tuple(rows), headers)


def assignment_header(roster: Roster, assignment: str) -> str:
    """The export's own header for `assignment` (e.g. "a1_gates (12345)"), else its name.

    Raises:
        RosterError: two columns of the export name the assignment.
    """
    want = normalize(assignment)
    found = []
    for header in roster.headers:
        match = _WITH_ID.match(header)
        name = match.group("name") if match else header
        if normalize(name) == want and header not in roster.columns and header != roster.key:
            found.append(header)
    if len(found) > 1:
        raise RosterError(f"roster {roster.path} has {len(found)} columns for {assignment}: "
                          f"{', '.join(found)}; rename or delete one in Canvas")
    return found[0] if found else assignment


def match(roster: Roster, student_ids: list[str]) -> tuple[list[str | None], Matching]:
    """The student id of each roster row (None: no submission or ambiguous), and the report."""
    by_key: dict[str, list[str]] = {}
    for sid in sorted(set(student_ids)):
        by_key.setdefault(normalize(sid), []).append(sid)
    keys = [normalize(row[roster.key]) for row in roster.rows]
    shared = {k for k in keys if k and keys.count(k) > 1}
    report = Matching(roster.key)
    chosen: list[str | None] = []
    unsure: set[str] = set()  # ids an ambiguous row could mean: listed with that row
    for row, k in zip(roster.rows, keys):
        shown = f"{row['Student'].strip()} ({roster.key} {row[roster.key].strip() or 'empty'})"
        candidates = by_key.get(k, []) if k else []
        if len(candidates) > 1:
            exact = [sid for sid in candidates if sid.strip() == row[roster.key].strip()]
            candidates = exact if len(exact) == 1 else candidates
        if k in shared or len(candidates) > 1:
            report.ambiguous.append(shown)
            chosen.append(None)
            unsure.update(candidates)
        elif not candidates:
            report.roster_without_submission.append(shown)
            chosen.append(None)
        else:
            report.matched += 1
            chosen.append(candidates[0])
    used = {sid for sid in chosen if sid is not None}
    report.submissions_without_roster_row = sorted(set(student_ids) - used - unsure)
    return chosen, report


def canvas_table(roster: Roster, scores: dict[tuple[str, str], float], maxima: dict[str, float],
                 assignments: list[str]) -> tuple[list[list[object]], Matching]:
    """The import file's rows (header, Points Possible, one per roster student) and the report.

    Args:
        roster: from `read_roster`.
        scores: (student_id, assignment) -> points; a missing pair counts 0.
        maxima: assignment -> its maximum (the Points Possible row).
        assignments: the assignment columns, in order.
    """
    headers = [csv_cell(assignment_header(roster, a)) for a in assignments]
    chosen, report = match(roster, sorted({sid for sid, _ in scores}))
    rows: list[list[object]] = [[*roster.columns, *headers]]
    rows.append([csv_cell(POINTS_POSSIBLE), *([""] * (len(roster.columns) - 1)),
                 *(round(float(maxima.get(a, 0.0)), 4) for a in assignments)])
    for row, sid in zip(roster.rows, chosen):
        points = [round(float(scores.get((sid, a), 0.0)) if sid is not None else 0.0, 4)
                  for a in assignments]
        rows.append([*(row[c] for c in roster.columns), *points])
    return rows, report


def write_canvas_csv(path: Path, roster: Roster, scores: dict[tuple[str, str], float],
                     maxima: dict[str, float], assignments: list[str]) -> Matching:
    """Write `canvas.csv` to `path` atomically, and `canvas_matching.json` beside it (the
    `Matching` as data); return the `Matching`."""
    rows, report = canvas_table(roster, scores, maxima, assignments)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    write_atomic(Path(path), buffer.getvalue())
    write_atomic(Path(path).with_name("canvas_matching.json"),
                 json.dumps(asdict(report), indent=1) + "\n")
    return report


def read_matching(out: Path) -> Matching | None:
    """The `Matching` that the last canvas.csv written into `out` left, if any."""
    try:
        data = json.loads((Path(out) / "canvas_matching.json").read_text(encoding="utf-8"))
        return Matching(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_canvas_for_results(results: list[dict], out: Path, roster: Roster, solutions: Path,
                             assignments: list[str]) -> Matching:
    """The grading command's canvas step: `OUT/canvas.csv` with each result's `auto_score`
    (autograded points only) and each assignment's `auto_max_score` as Points Possible."""
    from ..pipeline.notebook import load_source

    scores = {(str(r["student_id"]), str(r["assignment"])): float(r.get("auto_score") or 0.0)
              for r in results}
    maxima = {a: load_source(Path(solutions) / a / f"{a}.ipynb", a).max_score for a in assignments}
    return write_canvas_csv(Path(out) / "canvas.csv", roster, scores, maxima, assignments)
