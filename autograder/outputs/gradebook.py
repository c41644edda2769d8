"""nbgrader's gradebook with our scores, written through nbgrader's own API.

`write_gradebook(results, db_path, solutions_dir)` makes `db_path` a gradebook that nbgrader's
own tools read as if `nbgrader generate_assignment` and `nbgrader autograde` had run:

- assignments, notebooks, grade / solution / source cells and points come from the trusted
  source notebooks `solutions_dir/<assignment>/<assignment>.ipynb`, run through nbgrader's own
  generate preprocessors (`LockCells`, `ClearSolutions`, `ClearOutput`, `CheckCellMetadata`,
  `ComputeChecksums`, `SaveCells`), so a later `nbgrader autograde` against this db behaves;
- every student and, for every result whose status is not `missing`, a submission built like
  `Gradebook.add_submission` builds it (nbgrader's ORM classes, one commit for the class); a
  missing notebook gets no submission, which nbgrader counts as 0, like ours;
- `auto_score` on every autograded grade cell, so that nbgrader's total for the submission
  equals our `auto_score`. A test cell's points are split evenly among its `kit.functions`, and
  each function's share among its checks, so a cell scores the sum of the check points of its
  functions (`check["function"]`); a function listed by several cells is shared in proportion
  to the points each cell gives it;
- written answers (manually graded cells) keep `needs_manual_grade = True` for the TA in
  formgrader; a manual score already in the db is kept.

An existing db is updated (a copy is changed, then moved into place with `os.replace`), so
re-grading into the same folder keeps the TA's manual grades and comments.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import warnings
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import nbformat

@dataclass
class CellPlan:
    """One autograded test cell of a source notebook: its points and the functions they cover."""

    name: str
    points: float
    functions: list[str] = field(default_factory=list)


def autograded_cells(nb: nbformat.NotebookNode) -> list[CellPlan]:
    """The autograded test cells (grade, not solution, code) of a source notebook, in order."""
    plans = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution"):
            functions = cell.get("metadata", {}).get("kit", {}).get("functions", []) or []
            plans.append(CellPlan(str(meta.get("grade_id")), float(meta.get("points", 0) or 0),
                                  [str(f) for f in functions]))
    return plans


def cell_scores(result: dict, plans: list[CellPlan]) -> dict[str, float]:
    """`auto_score` per autograded cell for one result, summing to the result's `auto_score`.

    Points of a function are shared among the cells that list it in proportion to what each
    cell gives it (`points / len(functions)`). Points the cells cannot place (a check whose
    function no cell lists) are spread over the cells' headroom, with a warning, so nbgrader's
    total still equals ours.
    """
    earned: dict[str, float] = {}
    for check in result.get("checks") or []:
        f = str(check.get("function", ""))
        earned[f] = earned.get(f, 0.0) + float(check.get("points") or 0.0)
    given: dict[str, float] = {}
    for plan in plans:
        for f in plan.functions:
            given[f] = given.get(f, 0.0) + plan.points / len(plan.functions)
    scores = {}
    for plan in plans:
        s = sum(earned.get(f, 0.0) * (plan.points / len(plan.functions)) / given[f]
                for f in plan.functions if given[f] > 0)
        scores[plan.name] = min(max(s, 0.0), plan.points)
    if result.get("status", "ok") != "ok":
        return {name: 0.0 for name in scores}
    target = float(result.get("auto_score") or 0.0)
    remainder = target - sum(scores.values())
    if abs(remainder) > 1e-9 and plans:
        if abs(remainder) > 1e-3:  # more than the rounding of auto_score in the results
            warnings.warn(
                f"{result.get('student_id')}/{result.get('assignment')}: {remainder:+.4g} points of "
                "auto_score are not covered by the cells' kit.functions; spreading them over the cells",
                RuntimeWarning, stacklevel=2)
        room = {p.name: (p.points - scores[p.name]) if remainder > 0 else scores[p.name] for p in plans}
        total_room = sum(room.values())
        if total_room > 0:
            fraction = min(1.0, abs(remainder) / total_room)
            for p in plans:
                scores[p.name] += (1.0 if remainder > 0 else -1.0) * fraction * room[p.name]
    return scores


def _source_notebook(solutions_dir: Path, assignment: str) -> Path:
    path = Path(solutions_dir) / assignment / f"{assignment}.ipynb"
    if not path.is_file():
        raise ValueError(f"no source notebook for assignment {assignment!r}: {path} does not exist")
    return path


def _stamp_new_db(path: Path) -> None:
    """Create `path` as an empty gradebook stamped with nbgrader's current alembic revision.

    `nbgrader.api.Gradebook` stamps a brand-new db by running the `alembic heads` command, found
    by name on PATH: missing when the grader runs as `.venv/bin/python` without an activated
    venv, and a whole second Python start-up (seconds on a busy machine) when present. We read
    the same head in-process from nbgrader's own migration scripts; nbgrader then sees a
    stamped db and creates its tables itself.
    """
    import nbgrader
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(nbgrader.__file__).parent / "alembic"))
    head = ScriptDirectory.from_config(config).get_current_head()
    with closing(sqlite3.connect(path)) as con, con:
        con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        con.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (head,))


@contextmanager
def _unsynced(path: Path) -> Iterator[None]:
    """While inside, sqlite connections to `path` skip fsync and keep their journal in memory.

    nbgrader's `SaveCells` commits once per cell; on a busy disk each commit's fsync costs tens
    of milliseconds. `path` is our private temporary copy, which replaces the real gradebook
    only after everything succeeded (and after one fsync), so a crash loses nothing.
    """
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    target = os.path.realpath(path)

    def on_connect(dbapi_connection, _record) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        for _, name, file in dbapi_connection.execute("PRAGMA database_list").fetchall():
            if name == "main" and file and os.path.realpath(file) == target:
                dbapi_connection.execute("PRAGMA synchronous = OFF")
                dbapi_connection.execute("PRAGMA journal_mode = MEMORY")

    event.listen(Engine, "connect", on_connect)
    try:
        yield
    finally:
        event.remove(Engine, "connect", on_connect)


def save_assignment(db_url: str, assignment: str, nb: nbformat.NotebookNode) -> None:
    """Record the assignment's notebook, cells and points in the db with nbgrader's preprocessors."""
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, ClearSolutions,
                                        ComputeChecksums, LockCells, SaveCells)

    with Gradebook(db_url) as gb:
        gb.update_or_create_assignment(assignment)
    resources = {"nbgrader": {"notebook": assignment, "assignment": assignment, "db_url": db_url}}
    nb = nbformat.from_dict(nb)
    for step in (LockCells, ClearSolutions, ClearOutput, CheckCellMetadata, ComputeChecksums, SaveCells):
        try:
            nb, resources = step().preprocess(nb, resources)
        except RuntimeError as exc:  # SaveCells: cells changed while submissions exist
            raise ValueError(f"cannot update the gradebook's {assignment!r}: {exc}") from exc


def _new_submission(gb, assignment, student):
    """A new submission mirroring the assignment's structure, as `Gradebook.add_submission` builds
    it (one SubmittedNotebook per notebook, one Grade per grade / task cell, one Comment per
    solution / task cell), but without its commit per submission: `write_gradebook` commits once
    (one commit per submission costs ~40 ms, a minute for 300 x 5 notebooks).

    Args:
        assignment, student: nbgrader's `Assignment` and `Student` objects.
    """
    from nbgrader.api import Comment, Grade, SubmittedAssignment, SubmittedNotebook

    with gb.db.no_autoflush:
        submission = SubmittedAssignment(assignment=assignment, student=student)
        for notebook in assignment.notebooks:
            nb = SubmittedNotebook(notebook=notebook, assignment=submission)
            for cell in notebook.grade_cells:
                Grade(cell_id=cell.id, notebook=nb)
            for cell in notebook.solution_cells:
                Comment(cell_id=cell.id, notebook=nb)
            for cell in notebook.task_cells:
                Comment(cell_id=cell.id, notebook=nb)
                Grade(cell_id=cell.id, notebook=nb)
        gb.db.add(submission)
    return submission


def _record_submissions(gb, results: list[dict], plans: dict[str, list[CellPlan]]) -> None:
    """Create or update every non-missing result's submission and set its cells' grades."""
    from nbgrader.api import Student, SubmittedAssignment

    students = {s.id: s for s in gb.db.query(Student)}
    for sid in sorted({str(r["student_id"]) for r in results} - set(students)):
        students[sid] = Student(id=sid)
        gb.db.add(students[sid])
    assignments = {a.name: a for a in gb.assignments}
    existing = {(s.assignment.name, s.student.id): s for s in gb.db.query(SubmittedAssignment)}
    cell_names = {c.id: c.name for a in assignments.values() for nb in a.notebooks
                  for c in [*nb.grade_cells, *nb.task_cells]}
    with gb.db.no_autoflush:
        for r in results:
            if r.get("status") == "missing":
                continue
            key = (str(r["assignment"]), str(r["student_id"]))
            submission = existing.get(key)
            if submission is None:
                submission = _new_submission(gb, assignments[key[0]], students[key[1]])
            scores = cell_scores(r, plans[key[0]])
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    name = cell_names.get(grade.cell_id)
                    if name in scores:
                        grade.auto_score = float(scores[name])
                        grade.needs_manual_grade = False
                    elif grade.manual_score is None:  # written answers and tasks: the TA's turn
                        grade.auto_score = None
                        grade.needs_manual_grade = True
    gb.db.commit()


def write_gradebook(results: list[dict], db_path: Path, solutions_dir: Path) -> None:
    """Write (or update) nbgrader's gradebook at `db_path` with the scores of `results`.

    Args:
        results: result dicts of one grading run (the curriculum's JSON).
        db_path: the sqlite file, e.g. `OUT/gradebook.db`; `nbgrader export --db
            sqlite:///<db_path>` then lists the same totals as our grades.csv.
        solutions_dir: folder of the trusted source notebooks, `<a>/<a>.ipynb`.

    Raises:
        ValueError: a result without student_id / assignment, or an assignment without a source
            notebook.
    """
    from nbgrader.api import Gradebook

    for r in results:
        if not isinstance(r, dict) or "student_id" not in r or "assignment" not in r:
            raise ValueError(f"every result needs student_id and assignment, got {r!r:.120}")
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{db_path.name}.", suffix=".tmp", dir=db_path.parent)
    os.close(fd)
    try:
        if db_path.exists():
            shutil.copyfile(db_path, tmp)
        else:
            os.unlink(tmp)
            _stamp_new_db(Path(tmp))
        db_url = f"sqlite:///{tmp}"
        assignments = sorted({str(r["assignment"]) for r in results})
        plans = {}
        with _unsynced(Path(tmp)):
            for a in assignments:
                nb = nbformat.read(_source_notebook(solutions_dir, a), as_version=4)
                save_assignment(db_url, a, nb)
                plans[a] = autograded_cells(nb)
            with Gradebook(db_url) as gb:
                _record_submissions(gb, results, plans)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, db_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
