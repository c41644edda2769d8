"""`python -m autograder export OUT --roster EXPORT.csv`: lms.csv and canvas.csv from nbgrader's
gradebook, so a written answer the TA graded (here through nbgrader's gradebook API, as
formgrader stores it) is in the totals."""
from __future__ import annotations

import csv

import pytest
from nbgrader.api import Gradebook

from autograder import cli
from autograder.outputs.gradebook import write_gradebook
from autograder.outputs.lms import lms_rows
from fixtures.canvas_class import ASSIGNMENTS, class_results_two_assignments, class_solutions, write_roster


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.fixture()
def graded(tmp_path):
    solutions = class_solutions(tmp_path)
    results = class_results_two_assignments()
    out = tmp_path / "out"
    write_gradebook(results, out / "gradebook.db", solutions)
    return out, results, write_roster(tmp_path / "export.csv")


def test_export_without_manual_grades_equals_the_autograded_tables(graded, capsys):
    out, results, roster = graded
    assert cli.main(["export", str(out), "--roster", str(roster)]) == 0
    assert _rows(out / "lms.csv") == [[str(c) for c in row] for row in lms_rows(results, ASSIGNMENTS)]
    printed = capsys.readouterr().out
    assert "7 students, 2 assignments" in printed
    assert "no submission and get 0: Zed, Missing (SIS Login ID zed)" in printed
    assert "no roster row and are not in canvas.csv: s07" in printed


def test_export_includes_a_manual_grade_entered_in_the_gradebook(graded, capsys):
    out, _, roster = graded
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        gb.find_grade("written_jacobian", "a2_vectorized", "a2_vectorized", "s01").manual_score = 1.5
        gb.find_grade("written_jacobian", "a1_gates", "a1_gates", "s02").manual_score = 2.0
        gb.db.commit()
    assert cli.main(["export", str(out), "--roster", str(roster)]) == 0
    lms = {row[0]: row[1:] for row in _rows(out / "lms.csv")}
    assert lms["student_id"] == [*ASSIGNMENTS, "total"]
    assert lms["s01"] == ["5", "7.5", "12.5"]  # a2: 6 autograded + 1.5 written
    assert lms["s02"] == ["8", "5", "13"]  # a1: 6 autograded + 2 written
    canvas = _rows(out / "canvas.csv")
    assert canvas[0][5:] == ["a1_gates (12345)", "a2_vectorized"]
    assert canvas[1] == ["Points Possible", "", "", "", "", "8.0", "8.0"]  # 6 autograded + 2 written
    by_login = {row[3].strip().lower(): row[5:] for row in canvas[2:]}
    assert by_login["s01"] == ["5.0", "7.5"] and by_login["s02"] == ["8.0", "5.0"]
    assert by_login["zed"] == ["0.0", "0.0"]


def test_export_without_a_gradebook_is_an_error(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path)]) == 2
    assert "no gradebook at" in capsys.readouterr().err
