"""`not_backprop` (CURRICULUM.md, "What grading promises"): a backward computed by numerical
differences of the student's own forward earns no points for its gradient checks, measured by
CPU time from outside the student's code; a correct backward is never flagged.

In-process (fast): the numerical submission of `fixtures.numerical_backward` loses every
gradient check of every listed function, named; the reference (the code of all five correct
solution notebooks) is never flagged on 200 seeds while another process keeps both cores busy;
code that recognizes the large inputs and answers cheaply fails too. Through the sandbox (slow):
the numerical a2 and a3 notebooks lose those points with the mistake in the JSON and feedback,
and the correct ones keep full marks on a few seeds.
"""
from __future__ import annotations

import importlib
import io
import subprocess
import time
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import checks
from autograder.checks import cost
from autograder.pipeline.results import read_result
from fixtures.numerical_backward import COST_FUNCTIONS, PLANTS, namespace

REPO = Path(__file__).resolve().parents[3]
GRADIENT_CHECKS = {"squared_norm_backward": None, "affine_backward": None, "maxout_backward": None,
                   "softmax_loss": {"dscores"}, "svm_loss": {"dscores"}, "mse_loss": {"dpred"},
                   "mlp_backward": None, "mlp_loss": {"softmax_grads", "svm_grads", "mse_grads"}}
"""Function -> its gradient checks (None: every check)."""


def _is_gradient_check(function: str, check: str) -> bool:
    wanted = GRADIENT_CHECKS[function]
    return wanted is None or check in wanted


def _grade(ns: dict, function: str, seed: int):
    """(task, outcome, verdict) for each check, one driver run per distinct args (as the worker)."""
    runs, out = {}, []
    for task in checks.tasks_for(function, np.random.default_rng(seed)):
        key = id(task.args)
        if key not in runs:
            runs[key] = checks.run_in_process(ns, task)
        out.append((task, runs[key], checks.evaluate(task, runs[key])))
    return out


def _reference() -> dict:
    ns: dict = {}
    for module in ("layers", "gradcheck", "init", "mlp"):
        ns.update(vars(importlib.import_module(f"backprop_lib.{module}")))
    return ns


def test_the_listed_functions_have_cost_runs_and_the_elementwise_ones_do_not():
    listed = {f for fs in COST_FUNCTIONS.values() for f in fs}
    assert listed == set(GRADIENT_CHECKS)
    for function in checks.known_functions():
        timed = any(t.args.get("cpu_timed") for t in checks.tasks_for(function, np.random.default_rng(0)))
        assert timed == (function in listed), function


@pytest.mark.parametrize("assignment", list(COST_FUNCTIONS))
def test_numerical_backward_loses_every_gradient_check_named(assignment):
    ns = namespace(assignment)
    for function in COST_FUNCTIONS[assignment]:
        tasks = checks.tasks_for(function, np.random.default_rng(3))
        first = [t for t in tasks if t.args is tasks[0].args]  # one run each: ~1-3 s of CPU
        outcome = checks.run_in_process(ns, first[0])
        for task in first:
            verdict = checks.evaluate(task, outcome)
            if _is_gradient_check(function, task.check):
                assert outcome.cpu_seconds > cost.MAX_CPU_SECONDS, (function, outcome.cpu_seconds)
                assert verdict.fraction == 0.0 and verdict.mistake == "not_backprop", (function, verdict)
                assert "numerical differences" in verdict.message, verdict.message
            else:  # the loss values are right, and keep their points
                assert verdict.passed, (function, task.check, verdict.message)


def test_correct_backward_is_never_flagged_over_200_seeds_on_a_busy_machine():
    """All five correct notebooks run this library code; the cost-checked functions are in a2
    and a3. 200 seeds x 8 functions, with a busy-looping process meanwhile (CPU time, not
    wall time, is measured, so a loaded machine must not change the verdict)."""
    ns = _reference()
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(1)]
    worst = 0.0
    try:
        for seed in range(200):
            for function in GRADIENT_CHECKS:
                seen = set()
                for task in checks.tasks_for(function, np.random.default_rng(seed)):
                    if id(task.args) in seen or not task.args.get("cpu_timed"):
                        continue
                    seen.add(id(task.args))
                    outcome = checks.run_in_process(ns, task)
                    assert outcome.ok, outcome.error
                    worst = max(worst, outcome.cpu_seconds)
                    assert cost.too_slow(outcome, function) is None, (seed, function, outcome.cpu_seconds)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert worst < cost.MAX_CPU_SECONDS / 3, worst  # a wide margin, measured: ~0.005 s
    # and the full verdicts of a few seeds pass, the large run's gradients included
    for seed in range(3):
        for function in GRADIENT_CHECKS:
            for task, _outcome, verdict in _grade(ns, function, seed):
                assert verdict.passed, (seed, function, task.check, verdict.message)


def test_cheap_answers_on_the_large_inputs_fail():
    """A backward that is right on the small inputs but skips the work on large ones."""
    ns = _reference()
    right = ns["affine_backward"]

    def affine_backward(dout, cache):
        dx, dW, db = right(dout, cache)
        if cache[0].size > 1000:  # the cost run: answer zeros fast
            return np.zeros_like(dx), np.zeros_like(dW), np.zeros_like(db)
        return dx, dW, db
    results = _grade({**ns, "affine_backward": affine_backward}, "affine_backward", seed=5)
    assert all(not verdict.passed and "larger input" in verdict.message for _t, _o, verdict in results)


def test_cpu_time_of_a_process_tree_counts_reaped_children():
    from autograder.sandbox.cpu_time import tree_cpu_seconds

    shell = subprocess.Popen(["bash", "-c", f"{sys.executable} -c 'sum(range(20_000_000))'; sleep 30"])
    try:
        for _ in range(200):
            seconds = tree_cpu_seconds(shell.pid)
            if seconds and seconds > 0.1:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        assert seconds is not None and seconds > 0.1
    finally:
        shell.kill()
        shell.wait()
    assert tree_cpu_seconds(shell.pid) is None  # gone


# ----------------------------------------------------------------------------- sandbox
def _planted(assignment: str) -> nbformat.NotebookNode:
    from tools.demo_class import as_submitted

    nb = as_submitted(nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4))
    for cell_id, code in PLANTS[assignment].items():
        (cell,) = [c for c in nb.cells if c.get("id") == cell_id]
        cell.source += "\n" + code
    return nb


@pytest.mark.slow
@pytest.mark.sandbox
def test_through_the_sandbox_numerical_loses_and_correct_keeps(tmp_path):
    from autograder.sandbox.launch import bwrap_skip_reason
    from autograder.pipeline.run import grade_class
    from tools.demo_class import as_submitted

    skip = bwrap_skip_reason()
    if skip:
        pytest.skip(skip)
    for assignment in COST_FUNCTIONS:
        for sid, nb in (("numerical", _planted(assignment)), ("correct", as_submitted(
                nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)))):
            for submitted in (tmp_path / "both", tmp_path / "correct_only")[:1 if sid == "numerical" else 2]:
                folder = submitted / sid / assignment
                folder.mkdir(parents=True)
                nbformat.write(nb, folder / f"{assignment}.ipynb")
    for seed in (0, 1, 2):  # the numerical ones once (seconds each), the correct ones on 3 seeds
        out = tmp_path / f"out{seed}"
        grade_class(tmp_path / ("both" if seed == 0 else "correct_only"), out, solutions=REPO / "solutions",
                    jobs=1, seed=seed, progress=False, outputs=seed == 0, stream=io.StringIO())
        for assignment, functions in COST_FUNCTIONS.items():
            good = read_result(out / "results" / "correct" / f"{assignment}.json")
            assert good["status"] == "ok" and good["auto_score"] == good["auto_max_score"], good
            if seed:
                continue
            bad = read_result(out / "results" / "numerical" / f"{assignment}.json")
            assert bad["status"] == "ok", bad["reason"]
            rows = [r for r in bad["checks"] if r["function"] in functions]
            for row in rows:
                if not _is_gradient_check(row["function"], row["check"]):
                    # the loss values are right (skipped only after a check of the function
                    # timed out on a busy machine: the sandbox's rule)
                    assert row["passed"] or "skipped" in row["message"], row
                    continue
                assert row["points"] == 0, row
                # named, unless a busy machine pushed its wall time past the check's limit
                assert row["mistake"] == "not_backprop" or "did not finish" in row["message"], row
            named = {r["function"] for r in rows if r["mistake"] == "not_backprop"}
            assert len(named) >= len(functions) - 1, named
            html = (out / "feedback" / "numerical" / f"{assignment}.html").read_text(encoding="utf-8")
            assert "not_backprop" in html and "numerical differences" in html



@pytest.mark.parametrize("cpu, named", [(2.4, True), (0.01, False), (None, False)])
def test_a_cost_run_that_times_out_is_named_by_the_cpu_it_burnt(cpu, named):
    # on a busy machine a numerical backward can reach the check's wall limit before it
    # returns: the grader still read the sandbox's CPU time, and that decides the name
    task = next(t for t in checks.tasks_for("affine_backward", np.random.default_rng(0))
                if t.args.get("cpu_timed"))
    outcome = checks.Outcome(False, {}, "timed out after 5 s", "timeout", cpu_seconds=cpu)
    verdict = checks.evaluate(task, outcome)
    assert verdict.fraction == 0.0 and not verdict.passed
    assert (verdict.mistake == "not_backprop") is named
    assert verdict.message.startswith("timed out after 5 s" if named else "affine_backward did not finish")


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_cpu_time_is_read_while_the_worker_waits_even_after_its_last_task(tmp_path, monkeypatch):
    # The grader reads the sandbox's CPU time after a cost-timed task's result. A worker that
    # ran on (or ended, after its last task) before that read took the time with it: the
    # sandbox's processes were gone, the reading fell to 0 and a numerical backward passed
    # (a flaky full mark in CI). The worker now waits for the grader's acknowledgement, so a
    # grader slowed before every reading still sees all of it.
    from autograder.pipeline import task_run
    from autograder.pipeline.run import grade_class
    from autograder.sandbox.launch import bwrap_skip_reason
    from tools.demo_class import as_submitted

    skip = bwrap_skip_reason()
    if skip:
        pytest.skip(skip)
    read = task_run.cpu_time.tree_cpu_seconds
    readings: list[float | None] = []

    def slow_read(pid):
        time.sleep(0.3)  # long enough for an unblocked worker to finish and its sandbox to end
        readings.append(read(pid))
        return readings[-1]

    monkeypatch.setattr(task_run.cpu_time, "tree_cpu_seconds", slow_read)
    a = "a2_vectorized"
    for sid, nb in (("numerical", _planted(a)), ("correct", as_submitted(
            nbformat.read(REPO / "solutions" / a / f"{a}.ipynb", as_version=4)))):
        (tmp_path / "submitted" / sid / a).mkdir(parents=True)
        nbformat.write(nb, tmp_path / "submitted" / sid / a / f"{a}.ipynb")
    grade_class(tmp_path / "submitted", tmp_path / "out", solutions=REPO / "solutions", jobs=1,
                progress=False, outputs=False, stream=io.StringIO())
    assert readings and None not in readings
    bad = read_result(tmp_path / "out" / "results" / "numerical" / f"{a}.json")
    rows = [r for r in bad["checks"] if r["function"] in COST_FUNCTIONS[a]
            and _is_gradient_check(r["function"], r["check"])]
    assert rows and all(r["points"] == 0 for r in rows), [r for r in rows if r["points"]]
    named = {r["function"] for r in rows if r["mistake"] == "not_backprop"}
    assert len(named) >= len(COST_FUNCTIONS[a]) - 1, named
    good = read_result(tmp_path / "out" / "results" / "correct" / f"{a}.json")
    assert good["auto_score"] == good["auto_max_score"], [r for r in good["checks"] if not r["passed"]]
