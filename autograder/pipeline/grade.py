"""Grade one notebook: load it, run its tasks in a sandbox, evaluate outside, score.

`grade_notebook` returns the curriculum's result dict (`student_id, assignment, auto_score,
auto_max_score, status, reason, checks[...]`) plus `seconds`. It never raises for anything a
submission does. Every row's `max_points` add up to `auto_max_score`, whatever the status.

Points: each graded function's share (from the source's test cells) is split among its tasks
in proportion to `Task.weight` (evenly by default); a check earns `max_points * fraction`.

Statuses: `error` when the cells cannot be loaded (unreadable notebook, syntax error, exception
or exit at definition time), `timeout` when the notebook's code outruns the wall limit, else
`ok`. A task that hangs fails "timed out after N s" (the function's later checks are skipped,
they would hang too); a task that kills the worker fails with how it ended; either way a fresh
sandbox runs the remaining tasks. Tasks sharing one `args` object (and driver) run once.

Limits follow the work (`limits.WorkLimits`, measured from the reference once per run): the
load, each check and each check's result bytes have their own bound. Whatever the worker sends
is the student's code's doing: a malformed or oversized result at load time makes the notebook
`error`, during a check it fails that check (status `ok`); after MAX_REFUSED_FRAMES malformed
results (never one an honest worker writes) the notebook's remaining checks fail unrun.
"""
from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..sandbox import inside
from .discover import Job, read_notebook
from .safe_files import UnsafeFile
from .notebook import NotebookError, SourceNotebook, load_student
from .results import row_numbers
from ..sandbox.launch import Limits, SandboxCgroups, warn_once
from .limits import WorkLimits, task_keys
from .task_run import MAX_REFUSED_FRAMES, TaskRun as _Run, sentence as _sentence  # noqa: F401


@dataclass(frozen=True)
class Checks:
    """The checks registry the grader uses (GR-CHECKS' `autograder.checks`, or a fake in tests).

    Attributes:
        tasks_for: (function, rng) -> list of Task (KeyError for an unknown function).
        evaluate: (task, outcome) -> Verdict(fraction, passed, message, mistake).
        outcome: the Outcome class (ok, values, error, kind).
        drivers: path of the drivers module copied into the sandbox.
    """

    tasks_for: Callable[[str, np.random.Generator], list]
    evaluate: Callable[[Any, Any], Any]
    outcome: type
    drivers: Path


def default_checks() -> Checks:
    """The real registry: `autograder.checks` and `autograder/sandbox/inside/drivers.py`."""
    from .. import checks as registry

    return Checks(tasks_for=registry.tasks_for, evaluate=registry.evaluate,
                  outcome=registry.Outcome, drivers=Path(inside.__file__).with_name("drivers.py"))


def function_rng(seed: int, student_id: str, assignment: str, function: str) -> np.random.Generator:
    """The inputs' generator of one student's function (same seed -> same grades)."""
    crc = [zlib.crc32(s.encode()) for s in (student_id, assignment, function)]
    return np.random.default_rng([seed, *crc])


def _row(function: str, check: str, max_points: float, fraction: float, passed: bool,
         message: str, mistake: str | None) -> dict[str, Any]:
    return {"function": function, "check": check, "points": round(max_points * fraction, 6),
            "max_points": round(max_points, 6), "passed": bool(passed), "message": message,
            "mistake": mistake}


def _failed_functions(source: SourceNotebook, message: str) -> list[dict[str, Any]]:
    """One failing row per graded function (missing / unreadable / unloadable notebooks)."""
    return [_row(f, "notebook", p, 0.0, False, message, None) for f, p in source.points.items()]


def unreadable(job: Job, source: SourceNotebook, reason: str) -> dict[str, Any]:
    """The `error` row of a notebook the command refused to read (a link, a special file, too
    large: `safe_files.read_beneath`'s `reason`); no sandbox runs for it."""
    return {"student_id": job.student_id, "assignment": job.assignment, "auto_score": 0.0,
            "auto_max_score": source.max_score, "status": "error", "reason": _sentence(reason),
            "checks": _failed_functions(source, reason), "seconds": 0.0}


def internal_error(job: Job, source: SourceNotebook, exc: BaseException) -> dict[str, Any]:
    """The row of a notebook the grader itself failed on (a bug to report, not the student's)."""
    reason = f"The grader failed on this notebook ({type(exc).__name__}: {exc}); please report it."
    return {"student_id": job.student_id, "assignment": job.assignment, "auto_score": 0.0,
            "auto_max_score": source.max_score, "status": "error", "reason": reason,
            "checks": _failed_functions(source, reason), "seconds": 0.0}


@dataclass
class _Planned:
    index: int
    function: str
    task: Any
    max_points: float


def plan_tasks(source: SourceNotebook, checks: Checks, student_id: str,
               seed: int) -> tuple[list[_Planned], list[dict[str, Any]]]:
    """Tasks per graded function with their points; rows for functions the grader cannot check."""
    planned: list[_Planned] = []
    unknown: list[dict[str, Any]] = []
    for function, share in source.points.items():
        rng = function_rng(seed, student_id, source.assignment, function)
        problem = f"the grader has no checks for {function}"
        try:
            tasks = list(checks.tasks_for(function, rng))
        except KeyError:
            tasks = []
        except Exception as exc:  # a checks bug: this function scores 0, the rest still grade
            tasks = []
            problem = (f"the grader could not build the checks of {function} "
                       f"({type(exc).__name__}: {exc})")
            warn_once(f"tasks-{function}", problem)
        if not tasks:
            unknown.append(_row(function, "known", share, 0.0, False, problem, None))
            continue
        weights = [max(float(getattr(t, "weight", 1.0)), 0.0) for t in tasks]
        if sum(weights) <= 0:
            weights = [1.0] * len(tasks)
        for task, weight in zip(tasks, weights):
            planned.append(_Planned(len(planned), function, task, share * weight / sum(weights)))
    return planned, unknown


def _evaluate(checks: Checks, p: _Planned, outcome: Any) -> dict[str, Any]:
    check = str(getattr(p.task, "check", "check"))
    try:
        verdict = checks.evaluate(p.task, outcome)
        fraction = float(verdict.fraction)
        if not np.isfinite(fraction):
            fraction = 0.0
        fraction = min(max(fraction, 0.0), 1.0)
        row = _row(p.function, check, p.max_points, fraction, bool(verdict.passed),
                   str(verdict.message), verdict.mistake)
        row.update(row_numbers(verdict))  # rel_error, tol, shapes: numbers, not message text
        sample = getattr(verdict, "sample", None)
        if sample is not None:
            row["sample"] = sample
        return row
    except Exception as exc:  # a checks bug must not crash the class; it shows in the row
        return _row(p.function, check, p.max_points, 0.0, False,
                    f"the grader could not evaluate this check ({type(exc).__name__}: {exc})", None)


def grade_notebook(job: Job, source: SourceNotebook, checks: Checks, stage: Path, *,
                   seed: int = 0, limits: Limits | None = None,
                   cgroups: SandboxCgroups | None = None, use_bwrap: bool | None = None,
                   stop: threading.Event | None = None,
                   work: WorkLimits | None = None) -> dict[str, Any]:
    """Grade one submission of `source.assignment` (see the module docstring).

    Args:
        job: the student and the notebook: its bytes (read by the command), its path (read
            here with `discover.read_notebook`, no link followed) or None when missing.
        source: the trusted source notebook.
        checks: the checks registry.
        stage: the assignment's sandbox stage folder (`sandbox.stage.build_stage`).
        seed: base seed of the random inputs.
        limits: the fixed caps (`--timeout`, `--task-timeout`, memory, processes).
        work: the assignment's limits measured from the reference (`limits.measure`);
            None: the fixed caps alone.
        stop: when set, grading stops and KeyboardInterrupt is raised (the sandbox is killed).
    """
    limits = limits or Limits()
    work = work or WorkLimits.unmeasured(limits)
    started = time.monotonic()
    result: dict[str, Any] = {
        "student_id": job.student_id, "assignment": job.assignment, "auto_score": 0.0,
        "auto_max_score": source.max_score, "status": "ok", "reason": "", "checks": [],
    }

    def finish() -> dict[str, Any]:
        result["auto_score"] = round(sum(r["points"] for r in result["checks"]), 4)
        result["seconds"] = round(time.monotonic() - started, 3)
        return result

    if job.refused:
        return unreadable(job, source, job.refused)
    data = job.notebook
    if isinstance(data, Path):
        try:
            data = read_notebook(job)
        except UnsafeFile as exc:
            if not exc.missing:
                return unreadable(job, source, exc.reason)
            data = None
    if data is None:
        result.update(status="missing", reason=job.reason or "No notebook was submitted.")
        result["checks"] = _failed_functions(source, "no notebook was submitted")
        return finish()
    try:
        code = load_student(data, source)
    except NotebookError as exc:
        result.update(status="error", reason=_sentence(str(exc)))
        result["checks"] = _failed_functions(source, str(exc))
        return finish()

    planned, unknown = plan_tasks(source, checks, job.student_id, seed)
    cells = [{"name": c.name, "source": c.source} for c in code.cells]
    runner = _Run(cells, stage, limits, cgroups, use_bwrap, stop, checks.outcome, work,
                  task_keys(planned))
    outcomes = runner.run(planned, started)
    if runner.status != "ok":
        result.update(status=runner.status, reason=runner.reason)
        if runner.status == "error":
            result["checks"] = _failed_functions(source, runner.reason)
            return finish()
    missing_note = ""
    if code.missing:
        missing_note = f" (solution cell {', '.join(code.missing)} is missing from the notebook)"
    rows = []
    for p in planned:
        outcome = outcomes[p.index]
        if getattr(outcome, "kind", "") == "not_defined" and missing_note:
            outcome = checks.outcome(ok=False, values={}, kind="not_defined",
                                     error=outcome.error + missing_note)
        rows.append(_evaluate(checks, p, outcome))
    result["checks"] = rows + unknown
    return finish()
