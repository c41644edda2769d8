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
`error`, during a check it fails that check (status `ok`); after MAX_REFUSED_FRAMES such
results the notebook's remaining checks fail unrun.
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
from ..sandbox.inside import wire
from .discover import Job, read_notebook
from .safe_files import UnsafeFile
from .notebook import NotebookError, SourceNotebook, load_student
from .results import row_numbers
from ..sandbox.launch import (Limits, RefusedFrame, SandboxCgroups, Sandbox, SandboxEnded,
                              warn_once)
from .limits import LOAD_FRAME_BYTES, WorkLimits, task_keys


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
    """The real registry: `autograder.checks` and `autograder/drivers.py`."""
    from .. import checks as registry

    return Checks(tasks_for=registry.tasks_for, evaluate=registry.evaluate,
                  outcome=registry.Outcome, drivers=Path(inside.__file__).with_name("drivers.py"))


def function_rng(seed: int, student_id: str, assignment: str, function: str) -> np.random.Generator:
    """The inputs' generator of one student's function (same seed -> same grades)."""
    crc = [zlib.crc32(s.encode()) for s in (student_id, assignment, function)]
    return np.random.default_rng([seed, *crc])


def _sentence(text: str) -> str:
    """'the notebook is not valid JSON' -> 'The notebook is not valid JSON.'"""
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


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


MAX_REFUSED_FRAMES = 3
"""Refused (malformed or oversized) results after which a notebook's remaining checks fail
unrun: each refusal costs a fresh sandbox, so a flooder would otherwise cost one per check."""


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


def _shared_runs(planned: list[_Planned]) -> dict[int, int]:
    """task index -> index of the task whose run it shares (same driver and same args object)."""
    first: dict[tuple[str, int], int] = {}
    return {p.index: first.setdefault((p.task.driver, id(p.task.args)), p.index) for p in planned}


def _request(cells: list[dict[str, str]], tasks: list[_Planned],
             limits: Limits) -> tuple[dict[str, Any], bytes]:
    blob = bytearray()
    wire_tasks = []
    for p in tasks:
        meta, data = wire.encode_arrays(dict(p.task.args))
        for value in meta.values():
            if isinstance(value, dict) and "__array__" in value:
                value["__array__"][2] += len(blob)
        blob += data
        wire_tasks.append({"index": p.index, "function": p.function, "driver": p.task.driver,
                           "args": meta})
    return {"cells": cells, "tasks": wire_tasks, "limits": limits.for_worker()}, bytes(blob)


class _Run:
    """Runs the planned tasks, restarting the sandbox after a task that hangs or kills it.

    Every read is bounded by `work` (`limits.py`): the load by `work.load_seconds`, each check
    by its key's seconds and bytes, the notebook's frames together by `work.notebook_bytes`;
    the notebook's whole run by `limits.wall_seconds`; after MAX_REFUSED_FRAMES refused frames
    the remaining checks fail unrun. Records what it measured (`load_seconds`,
    `measured`: index -> (seconds, bytes) of each run), which is how the reference is measured.
    """

    def __init__(self, cells: list[dict[str, str]], stage: Path, limits: Limits,
                 cgroups: SandboxCgroups | None, use_bwrap: bool | None,
                 stop: threading.Event | None, outcome: type, work: WorkLimits,
                 keys: dict[int, str]):
        self.cells, self.stage, self.limits = cells, stage, limits
        self.cgroups, self.use_bwrap, self.stop, self.outcome = cgroups, use_bwrap, stop, outcome
        self.work, self.keys = work, keys
        self.bytes_left = work.notebook_bytes
        self.refused = 0
        self.status, self.reason = "ok", ""
        self.load_seconds: float | None = None
        self.measured: dict[int, tuple[float, int]] = {}
        self.run_indices: list[int] = []

    def run(self, planned: list[_Planned], started: float) -> dict[int, Any]:
        """Outcome per task index (tasks sharing args with an earlier task share its run)."""
        shared = _shared_runs(planned)
        runs = [p for p in planned if shared[p.index] == p.index]
        self.run_indices = [p.index for p in runs]
        outcomes = self._run(runs, started)
        return {p.index: outcomes[shared[p.index]] for p in planned}

    def _fail(self, p: _Planned, error: str, kind: str = "crash") -> Any:
        return self.outcome(ok=False, values={}, error=error, kind=kind)

    def _read(self, sandbox: Sandbox, deadline: float, max_bytes: int):
        """One frame within `deadline` and `max_bytes` (and what is left of the notebook's)."""
        frame = sandbox.read_frame(deadline, self.stop, max_bytes=min(max_bytes, self.bytes_left))
        if frame is not None:
            self.bytes_left -= frame.nbytes
        return frame

    def _run(self, planned: list[_Planned], started: float) -> dict[int, Any]:
        outcomes: dict[int, Any] = {}
        wall_end = started + self.limits.wall_seconds
        first = True
        while True:
            pending = [p for p in planned if p.index not in outcomes]
            if not pending and not first:
                break
            if self.bytes_left < LOAD_FRAME_BYTES:  # the flood ate the notebook's allowance
                for p in pending:
                    outcomes[p.index] = self._fail(p, "not run: this notebook's code already "
                                                      "sent back more than its checks may need")
                break
            request, blob = _request(self.cells, pending, self.limits)
            with Sandbox(self.stage, request, blob, self.limits, self.cgroups,
                         self.use_bwrap) as sandbox:
                loaded = self._load(sandbox, wall_end, first, pending, outcomes)
                if loaded:
                    self._tasks(sandbox, pending, outcomes, wall_end)
            first = False
            if self.status != "ok":
                break
        return outcomes

    def _load(self, sandbox: Sandbox, wall_end: float, first: bool, pending: list[_Planned],
              outcomes: dict[int, Any]) -> bool:
        status = "error"
        opened = time.monotonic()
        load_end = min(opened + self.work.load_seconds, wall_end)
        try:
            frame = self._read(sandbox, load_end, LOAD_FRAME_BYTES)
            if frame is not None and frame.get("event") == "loaded":
                if first:
                    self.load_seconds = time.monotonic() - opened
                return True
            if frame is None:
                status = "timeout"
                limit = min(self.work.load_seconds, self.limits.wall_seconds)
                problem = (f"the notebook's code was still running after the {limit:g} s "
                           f"limit for loading its cells")
                if self.work.reference is not None:
                    problem += (f" (the reference solution loads in "
                                f"{self.work.reference.load_seconds:.2f} s here)")
            elif frame.get("event") == "load_error":
                cell = str(frame.get("cell"))[:80]
                problem = f"cell {cell} raised {str(frame.get('error'))[:wire.MAX_MESSAGE_CHARS]}"
            else:
                problem = "the grading process sent an unexpected message"
        except SandboxEnded as ended:
            problem = f"{ended.detail} while the notebook's cells were loading"
            tail = sandbox.last_output_line()
            if tail:
                problem += f" (its last output: {tail})"
        if first:
            self.status = status
            self.reason = _sentence(problem)
        for p in pending:  # a reload that failed: the remaining checks fail with the reason
            outcomes[p.index] = self._fail(p, problem)
        return False

    def _tasks(self, sandbox: Sandbox, pending: list[_Planned], outcomes: dict[int, Any],
               wall_end: float) -> None:
        for p in pending:
            if p.index in outcomes:
                continue
            key = self.keys.get(p.index, "")
            seconds = self.work.check_limit(key)
            opened = time.monotonic()
            deadline = min(opened + seconds, wall_end)
            try:
                frame = self._read(sandbox, deadline, self.work.result_limit(key))
            except SandboxEnded as ended:
                outcomes[p.index] = self._fail(p, ended.detail)
                if isinstance(ended, RefusedFrame):
                    self.refused += 1
                    if self.refused >= MAX_REFUSED_FRAMES:  # a flooder: no more restarts
                        for q in pending:
                            outcomes.setdefault(q.index, self._fail(
                                q, f"not run: this notebook's code sent {self.refused} "
                                   f"malformed or oversized results"))
                return  # restart for the rest
            if frame is None:
                if time.monotonic() >= wall_end:
                    self.status = "timeout"
                    self.reason = (f"The notebook's code ran past the "
                                   f"{self.limits.wall_seconds:g} s limit while {p.function} "
                                   f"was being checked.")
                    for q in pending:
                        outcomes.setdefault(q.index, self._fail(
                            q, "not run: the notebook ran out of time", "timeout"))
                    return
                message = f"timed out after {seconds:g} s"
                outcomes[p.index] = self._fail(p, message, "timeout")
                for q in pending:  # the function's other checks would hang too: skip them
                    if q.function == p.function:
                        outcomes.setdefault(q.index, self._fail(
                            q, f"skipped: an earlier check of {p.function} {message}", "timeout"))
                return
            if frame.get("event") != "task" or frame.get("index") != p.index:
                outcomes[p.index] = self._fail(p, "the grading process sent an unexpected message")
                return
            self.measured[p.index] = (time.monotonic() - opened, frame.nbytes)
            values = {k: np.asarray(v, dtype=np.float64) for k, v in frame["values"].items()}
            ok = frame.get("ok") is True
            error = str(frame.get("error", ""))[:wire.MAX_MESSAGE_CHARS]
            shape = None if ok else wire.shape_fields(frame.get("shape"))  # GradShapeError's numbers
            outcomes[p.index] = self.outcome(ok=ok, values=values if ok else {}, error=error,
                                             kind="" if ok else str(frame.get("kind", "exception"))[:40],
                                             **({"shape": shape} if shape else {}))


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
