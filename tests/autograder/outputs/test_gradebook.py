"""nbgrader's gradebook written through nbgrader's own API: its totals equal our auto_score,
written answers wait for the TA, and nbgrader's own `export` command sees the scores."""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook, MissingEntry

from autograder.outputs.gradebook import CellPlan, cell_scores, write_gradebook
from fixtures.outputs import ASSIGNMENT, class_results, full_checks, result, write_solutions


@pytest.fixture()
def graded(tmp_path, monkeypatch):
    # nbgrader itself runs `alembic` from PATH for a new db; ours must not need it
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    solutions = write_solutions(tmp_path)
    db = tmp_path / "out" / "gradebook.db"
    results = class_results()
    write_gradebook(results, db, solutions)
    return db, results, solutions


def test_totals_equal_auto_score(graded):
    db, results, _ = graded
    with Gradebook(f"sqlite:///{db}") as gb:
        assert [a.name for a in gb.assignments] == [ASSIGNMENT]
        assert sorted(s.id for s in gb.students) == [f"s0{i}" for i in range(1, 8)]
        for r in results:
            if r["status"] == "missing":
                with pytest.raises(MissingEntry):
                    gb.find_submission(ASSIGNMENT, r["student_id"])
                continue
            sub = gb.find_submission(ASSIGNMENT, r["student_id"])
            assert sub.score == pytest.approx(r["auto_score"])
            assert sub.max_score == 8.0  # 6 autograded + 2 for the written answer


def test_cell_scores_and_manual_cells(graded):
    db, _, _ = graded
    with Gradebook(f"sqlite:///{db}") as gb:
        grade = lambda cell, sid: gb.find_grade(cell, ASSIGNMENT, ASSIGNMENT, sid)
        assert grade("test_affine", "s02").auto_score == 3.0  # dW check lost
        assert grade("test_mse_loss", "s02").auto_score == 2.0
        assert grade("test_mse_loss", "s03").auto_score == 1.0
        assert grade("test_affine", "s05").auto_score == 0.0  # error
        written = grade("written_jacobian", "s01")
        assert written.needs_manual_grade and written.auto_score is None
        assert not grade("test_affine", "s01").needs_manual_grade
        assert gb.find_submission(ASSIGNMENT, "s01").needs_manual_grade


def test_regrading_keeps_manual_grades(graded):
    db, results, solutions = graded
    with Gradebook(f"sqlite:///{db}") as gb:
        gb.find_grade("written_jacobian", ASSIGNMENT, ASSIGNMENT, "s02").manual_score = 1.5
        gb.db.commit()
    results[1] = result("s02", full_checks())  # s02 fixed the transpose and resubmitted
    write_gradebook(results, db, solutions)
    with Gradebook(f"sqlite:///{db}") as gb:
        assert gb.find_grade("written_jacobian", ASSIGNMENT, ASSIGNMENT, "s02").manual_score == 1.5
        assert gb.find_submission(ASSIGNMENT, "s02").score == pytest.approx(6 + 1.5)
        assert len(gb.find_assignment(ASSIGNMENT).submissions) == 6
    assert [p.name for p in db.parent.iterdir()] == ["gradebook.db"]  # temp copy replaced it


def test_function_shared_by_two_cells_and_uncovered_points():
    plans = [CellPlan("t1", 4.0, ["f", "g"]), CellPlan("t2", 2.0, ["g"])]
    r = result("s", [dict(function="f", check="a", points=2.0, max_points=2.0, passed=True),
                     dict(function="g", check="a", points=2.0, max_points=4.0, passed=False)])
    # g is worth 2 in t1 and 2 in t2: its 2 earned points split 1 / 1
    assert cell_scores(r, plans) == {"t1": 3.0, "t2": 1.0}
    r["checks"].append(dict(function="h", check="a", points=1.0, max_points=1.0, passed=True))
    r["auto_score"] = 5.0
    with pytest.warns(RuntimeWarning, match="not covered"):
        scores = cell_scores(r, plans)
    assert sum(scores.values()) == pytest.approx(5.0)
    assert all(0 <= scores[p.name] <= p.points for p in plans)


def test_missing_source_notebook_raises(tmp_path):
    with pytest.raises(ValueError, match="a1_gates"):
        write_gradebook([result("s1", [], assignment="a1_gates")], tmp_path / "g.db", tmp_path)


@pytest.mark.slow
def test_nbgrader_export_sees_our_scores(graded, tmp_path):
    db, results, _ = graded
    out = tmp_path / "export.csv"
    nbgrader = Path(sys.executable).parent / "nbgrader"
    subprocess.run([str(nbgrader), "export", f"--db=sqlite:///{db}", f"--to={out}"], cwd=tmp_path,
                   check=True, capture_output=True, timeout=120)
    rows = {r["student_id"]: r for r in csv.DictReader(out.open())}
    assert set(rows) == {r["student_id"] for r in results}
    for r in results:
        assert float(rows[r["student_id"]]["raw_score"]) == pytest.approx(r["auto_score"])
        assert float(rows[r["student_id"]]["max_score"]) == 8.0
