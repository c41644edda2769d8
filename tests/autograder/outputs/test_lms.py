"""The LMS CSV: one row per student, one column per assignment, a total."""
from __future__ import annotations

import csv

import pytest

from autograder.outputs.lms import lms_rows, write_lms_csv
from fixtures.outputs import class_results, full_checks, result


def test_one_row_per_student_with_total(tmp_path):
    results = class_results() + [result("s01", full_checks({"shape"}), assignment="a1_gates")]
    path = tmp_path / "lms.csv"
    write_lms_csv(results, path, ["a1_gates", "a2_vectorized"])
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["student_id", "a1_gates", "a2_vectorized", "total"]
    assert rows[1] == ["s01", "5", "6", "11"]
    assert rows[2] == ["s02", "", "5", "5"]  # no a1 result: empty cell, counts 0
    assert [r[0] for r in rows[1:]] == [f"s0{i}" for i in range(1, 8)]
    assert rows[7] == ["s07", "", "0", "0"]


def test_scores_are_rounded_and_unknown_assignments_ignored():
    r = result("s1", [])
    r["auto_score"] = 2 / 3
    other = dict(result("s1", []), assignment="a9_extra", auto_score=5.0)
    assert lms_rows([r, other], ["a2_vectorized"]) == [["student_id", "a2_vectorized", "total"],
                                                      ["s1", "0.6667", "0.6667"]]


def test_formula_like_ids_are_neutralised():
    rows = lms_rows([result("=HYPERLINK(\"x\")", []), result("-1+2", [])], ["a2_vectorized"])
    assert [r[0] for r in rows[1:]] == ["'-1+2", "'=HYPERLINK(\"x\")"]


def test_bad_input_raises():
    with pytest.raises(ValueError, match="distinct"):
        lms_rows([], ["a1", "a1"])
    with pytest.raises(ValueError, match="student_id"):
        lms_rows([{"assignment": "a1"}], ["a1"])
