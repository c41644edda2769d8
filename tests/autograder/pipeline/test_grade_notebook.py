"""Grading one notebook of the toy assignment (fake checks registry, real sandbox)."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from autograder.pipeline.discover import Job
from autograder.pipeline.grade import function_rng, grade_notebook, plan_tasks
from autograder.pipeline.notebook import load_source
from autograder.sandbox.launch import Limits, SandboxCgroups

from fixtures import toy_notebooks as toy
from fixtures.toy_class import TOY_CHECKS, toy_stage

FAST = Limits(wall_seconds=10, task_seconds=1.5)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    source = load_source(toy.write_source(root / "solutions"))
    stage = toy_stage(root / "stage")
    cgroups = SandboxCgroups()
    yield root, source, stage, cgroups
    cgroups.close()


def grade(env, name: str, solutions: dict | None = None, nb=None, limits: Limits = FAST, seed: int = 0):
    root, source, stage, cgroups = env
    path = toy.write_submission(root / "submitted", name, solutions, nb=nb)
    return grade_notebook(Job(name, toy.ASSIGNMENT, path), source, TOY_CHECKS, stage, seed=seed,
                          limits=limits, cgroups=cgroups)


def scores(result) -> dict[str, float]:
    out: dict[str, float] = {}
    for row in result["checks"]:
        out[row["function"]] = out.get(row["function"], 0.0) + row["points"]
    return out


def assert_consistent(result):
    assert sum(r["max_points"] for r in result["checks"]) == pytest.approx(toy.MAX_SCORE)
    assert result["auto_max_score"] == toy.MAX_SCORE
    assert result["auto_score"] == pytest.approx(sum(r["points"] for r in result["checks"]))


def test_function_rng_is_the_documented_formula():
    expected = np.random.default_rng([7, zlib.crc32(b"s1"), zlib.crc32(b"a2"), zlib.crc32(b"f")])
    assert function_rng(7, "s1", "a2", "f").normal() == expected.normal()


def test_points_split_among_a_functions_checks(env):
    planned, unknown = plan_tasks(env[1], TOY_CHECKS, "s1", seed=0)
    assert [p.max_points for p in planned] == [1.5, 1.5, 1.0, 1.0]
    assert unknown == []


def test_correct_submission_gets_full_marks(env):
    result = grade(env, "correct")
    assert (result["status"], result["reason"], result["auto_score"]) == ("ok", "", 5.0)
    assert all(r["passed"] for r in result["checks"]) and len(result["checks"]) == 4
    assert 0 < result["seconds"] < 5
    assert_consistent(result)


def test_stubs_fail_their_checks_with_the_message_and_stay_ok(env):
    result = grade(env, "stub", toy.STUBS)
    assert (result["status"], result["auto_score"]) == ("ok", 0.0)
    assert {r["message"] for r in result["checks"]} == {
        "NotImplementedError: toy double: 2 x", "NotImplementedError: toy square_backward: 2 x dout"}
    assert_consistent(result)


def test_partial_credit_per_function_and_mistake_names(env):
    wrong = "def square_backward(dout, x):\n    return -2 * x * dout\n"
    result = grade(env, "sign", {"sol_square_backward": wrong})
    assert scores(result) == {"double": 3.0, "square_backward": 0.0}
    mistakes = {r["mistake"] for r in result["checks"] if r["function"] == "square_backward"}
    assert mistakes == {"wrong_sign"}
    assert_consistent(result)


def test_a_hanging_function_fails_alone(env):
    result = grade(env, "hang", {"sol_double": "def double(x):\n    while True:\n        pass\n"})
    assert result["status"] == "ok"
    assert scores(result) == {"double": 0.0, "square_backward": 2.0}
    messages = [r["message"] for r in result["checks"] if r["function"] == "double"]
    assert messages[0] == "timed out after 1.5 s" and messages[1].startswith("skipped")
    assert result["seconds"] < 8  # one 1.5 s timeout and a restart, not the 10 s wall


def test_a_function_that_kills_its_process_fails_alone(env):
    result = grade(env, "exit", {"sol_double": "import os\ndef double(x):\n    os._exit(0)\n"})
    assert result["status"] == "ok"
    assert scores(result) == {"double": 0.0, "square_backward": 2.0}
    assert "exit code 0" in result["checks"][0]["message"]


@pytest.mark.parametrize("code, status, reason, wall", [
    ("def double(x):\n    return 2 * x +\n", "error", "Cell sol_double raised SyntaxError", 10),
    ("def double(x):\n    return 2 * x\n1 / 0\n", "error",
     "Cell sol_double raised ZeroDivisionError", 10),
    ("import os\nos._exit(0)\n", "error", "exit code 0", 10),
    ("while True:\n    pass\n", "timeout", "still running after the 2 s limit", 2),
])
def test_code_that_cannot_load_scores_zero_with_a_reason(env, code, status, reason, wall):
    result = grade(env, "broken", {"sol_double": code}, limits=Limits(wall_seconds=wall, task_seconds=1))
    assert result["status"] == status and reason in result["reason"], result["reason"]
    assert result["auto_score"] == 0.0
    assert_consistent(result)


def test_missing_solution_cell_says_so(env):
    nb = toy.notebook({"sol_square_backward": toy.SOLUTIONS["sol_square_backward"]})
    result = grade(env, "nocell", nb=nb)
    assert scores(result) == {"double": 0.0, "square_backward": 2.0}
    assert "solution cell sol_double is missing" in result["checks"][0]["message"]


def test_missing_and_unreadable_notebooks_are_rows(env):
    root, source, stage, cgroups = env
    missing = grade_notebook(Job("nobody", "toy", None, "No submission: toy/toy.ipynb not found."),
                             source, TOY_CHECKS, stage)
    assert missing["status"] == "missing"
    assert missing["reason"] == "No submission: toy/toy.ipynb not found."
    assert_consistent(missing)
    bad = root / "bad.ipynb"
    bad.write_text("{not json")
    error = grade_notebook(Job("bad", "toy", bad), source, TOY_CHECKS, stage)
    assert error["status"] == "error" and "not valid JSON" in error["reason"]
    assert_consistent(error)


def test_same_seed_same_inputs_other_seed_other_inputs(env):
    _, source, _, _ = env
    a = plan_tasks(source, TOY_CHECKS, "s1", seed=0)[0][0].task.args["x"]
    b = plan_tasks(source, TOY_CHECKS, "s1", seed=0)[0][0].task.args["x"]
    c = plan_tasks(source, TOY_CHECKS, "s1", seed=1)[0][0].task.args["x"]
    d = plan_tasks(source, TOY_CHECKS, "s2", seed=0)[0][0].task.args["x"]
    assert np.array_equal(a, b) and not np.array_equal(a, c) and not np.array_equal(a, d)


def test_unknown_function_scores_zero_but_counts_toward_the_maximum(env, tmp_path):
    tests = {**toy.TESTS, "test_extra": (1, ["mystery"], "pass\n")}
    path = tmp_path / "toy" / "toy.ipynb"
    path.parent.mkdir()
    import nbformat

    nbformat.write(toy.notebook(toy.SOLUTIONS, tests=tests), path)
    source = load_source(path)
    result = grade_notebook(Job("s", "toy", path), source, TOY_CHECKS, env[2], limits=FAST)
    assert (result["auto_score"], result["auto_max_score"]) == (5.0, 6.0)
    assert result["checks"][-1]["message"] == "the grader has no checks for mystery"
