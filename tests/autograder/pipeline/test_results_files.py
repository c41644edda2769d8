"""Result files: JSON per notebook and grades.csv, written atomically."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from autograder.pipeline import results


def result(sid="s1", score=2.5, status="ok", reason=""):
    return {"student_id": sid, "assignment": "a2_vectorized", "auto_score": score,
            "auto_max_score": 80.0, "status": status, "reason": reason, "seconds": 0.3,
            "checks": [{"function": "affine_forward", "check": "out", "points": score,
                        "max_points": 5.0, "passed": False, "message": "m", "mistake": None,
                        "sample": np.array([[1.0, 2.0]])}]}


def test_json_per_notebook_round_trips(tmp_path):
    path = results.write_result(result(), tmp_path)
    assert path == tmp_path / "results" / "s1" / "a2_vectorized.json"
    back = results.read_result(path)
    assert back["checks"][0]["sample"] == [[1.0, 2.0]] and back["auto_score"] == 2.5
    with pytest.raises(ValueError, match="status 'done'"):
        results.write_result(result(status="done"), tmp_path)


def test_grades_csv_sorted_with_the_contract_columns(tmp_path):
    rows = [result("zoe", 1 / 3), result("adam", 80.0, reason="a\nmultiline, \"quoted\" reason")]
    path = results.write_grades_csv(rows, tmp_path / "grades.csv")
    text = path.read_text()
    assert text.splitlines()[0] == "student_id,assignment,auto_score,auto_max_score,status,reason"
    read = results.read_grades_csv(path)
    assert [r["student_id"] for r in read] == ["adam", "zoe"]
    assert read[1]["auto_score"] == "0.3333" and read[0]["reason"] == 'a multiline, "quoted" reason'


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "grades.csv"
    target.write_text("old complete file\n")

    def broken_replace(src, dst):
        raise KeyboardInterrupt  # as if Ctrl-C arrived between write and rename

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(KeyboardInterrupt):
        results.write_grades_csv([result()], target)
    assert target.read_text() == "old complete file\n"
    assert os.listdir(tmp_path) == ["grades.csv"]
