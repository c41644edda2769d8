"""canvas.csv for Canvas's gradebook import, checked cell by cell against grades.csv."""
from __future__ import annotations

import csv
import io
import json

import pytest

from autograder.outputs.canvas import RosterError, canvas_table, match, read_roster
from autograder.pipeline.results import read_grades_csv, write_grades_csv
from autograder.pipeline.run import write_outputs
from fixtures.canvas_class import (ASSIGNMENTS, ROSTER_CSV, class_results_two_assignments,
                                   class_solutions, write_roster)

IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("canvas")
    solutions = class_solutions(tmp)
    results = class_results_two_assignments()
    out = tmp / "out"
    write_grades_csv(results, out / "grades.csv")
    roster = read_roster(write_roster(tmp / "export.csv"))
    errors = write_outputs(results, out, solutions, ASSIGNMENTS, io.StringIO(), roster=roster)
    assert errors == []
    return out


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_headers_reuse_the_exports_column_and_points_possible_row(written):
    rows = _rows(written / "canvas.csv")
    assert rows[0] == [*IDENTITY, "a1_gates (12345)", "a2_vectorized"]
    assert rows[1] == ["Points Possible", "", "", "", "", "6.0", "6.0"]


def test_every_roster_student_in_order_with_identity_cells_as_exported(written):
    exported = list(csv.reader(io.StringIO(ROSTER_CSV, newline="")))
    students = [r for r in exported[1:] if r[0].strip() != "Points Possible" and (r[0] or r[1])]
    rows = _rows(written / "canvas.csv")[2:]
    assert [r[:5] for r in rows] == [s[:5] for s in students]
    assert rows[2][0] == '="=Evil"' and rows[3][0] == "+Plus"  # Canvas's own cells, untouched


def test_scores_cell_by_cell_equal_grades_csv(written):
    grades = {(g["student_id"], g["assignment"]): float(g["auto_score"])
              for g in read_grades_csv(written / "grades.csv")}
    rows = _rows(written / "canvas.csv")[2:]
    expected_ids = ["s01", "s02", "s03", "s04", "s05", "s06", None, None]  # zed, Test Student: none
    checked = 0
    for row, sid in zip(rows, expected_ids, strict=True):
        for cell, assignment in zip(row[5:], ASSIGNMENTS, strict=True):
            want = grades[(sid, assignment)] if sid else 0.0
            assert float(cell) == want, (row[0], assignment)
            checked += 1
    assert checked == 16
    assert [float(c) for c in rows[0][5:]] == [5.0, 6.0]  # s01: a1 lost one check, a2 full


def test_unmatched_on_either_side_are_listed(written):
    report = json.loads((written / "canvas_matching.json").read_text())
    assert report["matched"] == 6
    assert report["roster_without_submission"] == ["Zed, Missing (SIS Login ID zed)",
                                                   "Student, Test (SIS Login ID empty)"]
    assert report["submissions_without_roster_row"] == ["s07"]
    assert report["ambiguous"] == []


def _roster(tmp_path, body: str, key: str = "SIS Login ID"):
    path = tmp_path / "r.csv"
    path.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n" + body)
    return read_roster(path, key)


def test_case_twins_prefer_the_exact_id_else_are_ambiguous(tmp_path):
    roster = _roster(tmp_path, "A,1,,ana,S\nC,3,,bo,S\nD,4,,BO ,S\nE,5,,CAT,S\n")
    chosen, report = match(roster, ["ana", "Ana", "bo", "cat", "Cat", "dan"])
    assert chosen == ["ana", None, None, None]
    # bo is named by two roster rows; CAT could be cat or Cat
    assert [a.split(" (")[0] for a in report.ambiguous] == ["C", "D", "E"]
    assert report.submissions_without_roster_row == ["Ana", "dan"]


def test_roster_key_column_and_formula_safe_new_headers(tmp_path):
    roster = _roster(tmp_path, "Ada,77,X1,ada,S\n", key="SIS User ID")
    rows, report = canvas_table(roster, {("x1", "=a9"): 2.5}, {"=a9": 4.0}, ["=a9"])
    assert rows[0][-1] == "'=a9" and rows[2] == ["Ada", "77", "X1", "ada", "S", 2.5]
    assert report.matched == 1


def test_bad_rosters_are_the_graders_errors(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("Name,Email\nAda,a@x\n")
    with pytest.raises(RosterError, match="no 'Student' column"):
        read_roster(path)
    path.write_text("Student,ID,SIS Login ID,Section\n")
    with pytest.raises(RosterError, match="no 'Login' column"):
        read_roster(path, key="Login")
    path.write_text("Student,ID,SIS Login ID,Section,a1_gates (1),A1_Gates (2)\n")
    with pytest.raises(RosterError, match="2 columns for a1_gates"):
        canvas_table(read_roster(path), {}, {}, ["a1_gates"])
    path.write_bytes(b"Student,ID\n\xff\xfe\n")
    with pytest.raises(RosterError, match="not UTF-8"):
        read_roster(path)
