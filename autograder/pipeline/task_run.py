"""Run one notebook's planned tasks in sandboxes: the loop `grade.grade_notebook` drives.

`TaskRun.run(planned, started)` starts a sandbox with the student's cells and every pending task,
reads the load frame, then one frame per task, each within its limit (`limits.WorkLimits`), and
restarts a fresh sandbox after a task that hangs or kills the worker, so the remaining tasks
still run. Tasks that share one `args` object and driver run once. It returns an `Outcome` per
task index and records what it measured (how `limits.measure` measures the reference).
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..sandbox import cpu_time
from ..sandbox.inside import wire
from ..sandbox.launch import Limits, RefusedFrame, Sandbox, SandboxCgroups, SandboxEnded
from .limits import LOAD_FRAME_BYTES, WorkLimits

if TYPE_CHECKING:
    from .grade import _Planned

MAX_REFUSED_FRAMES = 3
"""Malformed results (which only a student's code forges) after which a notebook's remaining
checks fail unrun: each costs a fresh sandbox. A well-formed result over its bound (a function
that returned far too much) fails its check and never counts here."""


def sentence(text: str) -> str:
    """'the notebook is not valid JSON' -> 'The notebook is not valid JSON.'"""
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


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


class TaskRun:
    """Runs the planned tasks, restarting the sandbox after a task that hangs or kills it.

    Every read is bounded by `work` (`limits.py`): the load by `work.load_seconds`, each check
    by its key's seconds and bytes, the notebook's frames together by `work.notebook_bytes`;
    the notebook's whole run by `limits.wall_seconds`; after MAX_REFUSED_FRAMES malformed frames
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

    @staticmethod
    def _cpu_since(sandbox: Sandbox, before: float | None) -> dict[str, float]:
        """``{"cpu_seconds": ...}``: the sandbox's CPU time since `before`; ``{}`` when not timed
        (`before` None) or not readable (the sandbox is gone, or its total fell: a process
        that spent the time ended outside the count)."""
        after = cpu_time.tree_cpu_seconds(sandbox.proc.pid) if before is not None else None
        if after is None or after < before:
            return {}
        return {"cpu_seconds": after - before}

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
            self.reason = sentence(problem)
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
            # a task that asks for it gets the sandbox's CPU time, read from /proc (checks/cost.py)
            # (the worker waits for the release before the task and for the acknowledgement after
            # its result, so the window holds this task's work alone, read from live processes)
            cpu_before = cpu_time.tree_cpu_seconds(sandbox.proc.pid) if p.task.args.get("cpu_timed") else None
            if cpu_before is not None and not sandbox.release_timed_task():
                # a result came before the task was released: the student's code ran ahead
                outcomes[p.index] = self._fail(p, "the notebook's code ran this cost-timed task "
                                                  "before the grader released it", "exception")
                return  # restart for the rest
            try:
                frame = self._read(sandbox, deadline, self.work.result_limit(key))
            except SandboxEnded as ended:
                outcomes[p.index] = self._fail(p, ended.detail)
                if isinstance(ended, RefusedFrame) and ended.malformed:
                    self.refused += 1
                    if self.refused >= MAX_REFUSED_FRAMES:  # a flooder: no more restarts
                        for q in pending:
                            outcomes.setdefault(q.index, self._fail(
                                q, f"not run: this notebook's code sent {self.refused} "
                                   f"malformed results"))
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
                # a cost run that ran out of time still says how much CPU it had burnt by then
                outcomes[p.index] = self.outcome(ok=False, values={}, error=message, kind="timeout",
                                                 **self._cpu_since(sandbox, cpu_before))
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
            cpu = self._cpu_since(sandbox, cpu_before)
            if cpu_before is not None:
                if not cpu:  # never for a worker that waits as it should (it is idle, alive)
                    outcomes[p.index] = self._fail(p, "the notebook's process ended before the "
                                                      "grader could read the CPU time of this "
                                                      "cost-timed task")
                    return  # restart for the rest
                sandbox.acknowledge_timed_task()
            outcomes[p.index] = self.outcome(ok=ok, values=values if ok else {}, error=error,
                                             kind="" if ok else str(frame.get("kind", "exception"))[:40],
                                             **({"shape": shape} if shape else {}), **cpu)
