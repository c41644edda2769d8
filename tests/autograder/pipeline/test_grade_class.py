"""Grading a class: parallel jobs give the same grades, results and summary are complete."""
from __future__ import annotations

import io
import os

import pytest

from autograder.pipeline.results import read_grades_csv, read_result
from autograder.pipeline.run import Summary, grade_class
from autograder.sandbox.launch import Limits

from fixtures import toy_notebooks as toy
from fixtures.toy_class import TOY_CHECKS, run_cgroups, run_processes, write_class

LIMITS = Limits(wall_seconds=10, task_seconds=2)
STUDENTS = {
    "s01": None,
    "s02": toy.STUBS,
    "s03": {"sol_double": "def double(x):\n    return 3 * x\n"},
    "s04": {"sol_square_backward": "def square_backward(dout, x):\n    return -2 * x * dout\n"},
    "s05": {"sol_double": "def double(x):\n    return x +\n"},
    "s06": None,
}


@pytest.fixture(scope="module")
def toy_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    toy.write_source(root / "solutions")
    write_class(root / "submitted", STUDENTS)
    (root / "submitted" / "s07").mkdir()  # an empty folder
    return root


def run(root, out, jobs):
    return grade_class(root / "submitted", root / out, solutions=root / "solutions", jobs=jobs,
                       checks=TOY_CHECKS, limits=LIMITS, progress=False, outputs=False,
                       stream=io.StringIO())


@pytest.mark.slow
def test_jobs_1_and_jobs_2_give_identical_grades(toy_class):
    one = run(toy_class, "out1", 1)
    two = run(toy_class, "out2", 2)
    grades = (toy_class / "out1" / "grades.csv").read_text()
    assert grades == (toy_class / "out2" / "grades.csv").read_text()
    rows = read_grades_csv(toy_class / "out1" / "grades.csv")
    assert [(r["student_id"], r["auto_score"], r["status"]) for r in rows] == [
        ("s01", "5.0", "ok"), ("s02", "0.0", "ok"), ("s03", "2.0", "ok"), ("s04", "3.0", "ok"),
        ("s05", "0.0", "error"), ("s06", "5.0", "ok"), ("s07", "0.0", "missing")]
    for sid in STUDENTS:
        a = read_result(toy_class / "out1" / "results" / sid / "toy.json")
        b = read_result(toy_class / "out2" / "results" / sid / "toy.json")
        a.pop("seconds"), b.pop("seconds")
        assert a == b
    assert one.counts == two.counts == {"ok": 5, "error": 1, "timeout": 0, "missing": 1}
    assert run_processes(os.getpid()) == [] and run_cgroups(os.getpid()) == []


def test_summary_names_counts_and_slowest():
    results = [{"student_id": f"s{i}", "assignment": "a", "status": s, "seconds": float(i)}
               for i, s in enumerate(["ok", "ok", "timeout", "missing"])]
    summary = Summary(results, seconds=4.0, jobs=2, grading_seconds=3.0)
    text = summary.text()
    assert "ok 2, error 0, timeout 1, missing 1" in text
    assert "1.00 notebooks/s" in text
    assert text.index("s2/a 2.00 s (timeout)") < text.index("s1/a 1.00 s (ok)")
    assert "s3/a" not in text  # a missing notebook is never "slow"
