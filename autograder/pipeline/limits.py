"""Limits that follow the work: what one notebook may take, measured from the reference.

Once per grading run, on the machine that runs the command, `measure` sends the reference
solution (the source notebook's own cells) through the same sandbox path as a student's
notebook, with the same tasks, and records how long it took to load, how long each check's run
took and how many bytes each run sent back. `WorkLimits.from_reference` turns those numbers
into the limits of every submission of that assignment:

==========================  ==================================================================
loading the cells           max(LOAD_FLOOR_SECONDS, TIME_MULTIPLE x the reference's load),
                            at most `--timeout` (`Limits.wall_seconds`)
each check                  max(CHECK_FLOOR_SECONDS, TIME_MULTIPLE x the reference's run),
                            at most `--task-timeout` (`Limits.task_seconds`)
each check's result         BYTES_MULTIPLE x the reference's bytes + HEADER_ALLOWANCE
the notebook's results      the sum of the checks' bounds (also counts re-runs after a crash)
==========================  ==================================================================

Inputs are drawn per student, so sizes differ between students: the shapes the checks draw
vary by at most 1.6x in elements (mlp sizes 180..220 squared, init fans 80..100 x 450..550),
well inside BYTES_MULTIPLE. A check the reference itself fails keeps the defaults (the
`Limits`' per-check time, `wire.MAX_BLOB_BYTES`) and the run warns.

`WorkLimits` is plain data (numbers and dicts of numbers, picklable): it travels with each
notebook's task, so every engine (the thread pool here, a Dask worker elsewhere) applies the
same numbers whatever its own speed.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..sandbox.inside import wire
from ..sandbox.launch import Limits, SandboxCgroups, warn_once

if TYPE_CHECKING:
    from .grade import Checks
    from .notebook import SourceNotebook

LOAD_FLOOR_SECONDS = 8.0
CHECK_FLOOR_SECONDS = 5.0
TIME_MULTIPLE = 10.0
BYTES_MULTIPLE = 4
HEADER_ALLOWANCE = 64 << 10
"""Bytes a result may hold beyond its arrays: the frame's header (an honest one is < 8 KiB)."""
LOAD_FRAME_BYTES = wire.FRAME_OVERHEAD + wire.MAX_HEADER_BYTES
"""The `loaded` / `load_error` frame carries no arrays: a header only."""
REFERENCE_ID = "reference"
"""The student id whose random inputs the reference is measured on."""


def task_keys(planned: list[Any]) -> dict[int, str]:
    """Task index -> a key that names the same task for every student ("function/check").

    The number and order of a function's checks do not depend on the random inputs, so the
    reference's task and a student's task of one key are the same check on other numbers.
    """
    keys: dict[int, str] = {}
    seen: dict[str, int] = {}
    for p in planned:
        base = f"{p.function}/{getattr(p.task, 'check', 'check')}"
        n = seen.get(base, 0)
        seen[base] = n + 1
        keys[p.index] = base if n == 0 else f"{base}#{n}"
    return keys


@dataclass(frozen=True)
class Measured:
    """What the reference needed on this machine: seconds to load, and per task key the
    seconds and bytes of its run (only the tasks that ran and succeeded)."""

    load_seconds: float
    check_seconds: dict[str, float] = field(default_factory=dict)
    result_bytes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkLimits:
    """The limits of one assignment's notebooks (see the module docstring).

    Attributes:
        load_seconds: wall seconds for the sandbox to start and the cells to load.
        check_seconds: task key -> wall seconds for that check's run.
        result_bytes: task key -> the most bytes that check's result frame may hold.
        notebook_bytes: the most bytes all result frames of one notebook may hold together.
        default_check_seconds, default_result_bytes: for a key without a measured number.
        reference: the measured numbers these limits come from (None: not measured).
    """

    load_seconds: float
    check_seconds: dict[str, float]
    result_bytes: dict[str, int]
    notebook_bytes: int
    default_check_seconds: float
    default_result_bytes: int
    reference: Measured | None = None

    def check_limit(self, key: str) -> float:
        return self.check_seconds.get(key, self.default_check_seconds)

    def result_limit(self, key: str) -> int:
        return self.result_bytes.get(key, self.default_result_bytes)

    @classmethod
    def unmeasured(cls, limits: Limits) -> "WorkLimits":
        """The fixed limits of `limits` alone (a notebook graded without a reference run)."""
        blob = wire.FRAME_OVERHEAD + wire.MAX_HEADER_BYTES + wire.MAX_BLOB_BYTES
        return cls(load_seconds=limits.wall_seconds, check_seconds={}, result_bytes={},
                   notebook_bytes=1 << 62, default_check_seconds=limits.task_seconds,
                   default_result_bytes=blob)

    @classmethod
    def from_reference(cls, measured: Measured, limits: Limits,
                       unmeasured_runs: int = 0) -> "WorkLimits":
        """Generous multiples of `measured`, with floors, capped by `limits` (module docstring).

        Args:
            measured: the reference's numbers.
            limits: `--timeout` / `--task-timeout` and the other fixed limits.
            unmeasured_runs: runs the reference failed (each adds the default to the
                notebook's bound).
        """
        base = cls.unmeasured(limits)
        load = min(limits.wall_seconds, max(LOAD_FLOOR_SECONDS,
                                            TIME_MULTIPLE * measured.load_seconds))
        seconds = {k: min(limits.task_seconds, max(CHECK_FLOOR_SECONDS, TIME_MULTIPLE * s))
                   for k, s in measured.check_seconds.items()}
        sizes = {k: BYTES_MULTIPLE * b + HEADER_ALLOWANCE for k, b in measured.result_bytes.items()}
        total = (sum(sizes.values()) + unmeasured_runs * base.default_result_bytes
                 + LOAD_FRAME_BYTES)
        return cls(load_seconds=load, check_seconds=seconds, result_bytes=sizes,
                   notebook_bytes=total, default_check_seconds=limits.task_seconds,
                   default_result_bytes=base.default_result_bytes, reference=measured)

    def describe(self) -> str:
        """One line for the run's summary: the limits and what they come from."""
        if self.reference is None:
            return f"load {self.load_seconds:g} s, each check {self.default_check_seconds:g} s"
        checks = sorted(self.check_seconds.values()) or [self.default_check_seconds]
        spread = f"{checks[0]:g} s" if checks[0] == checks[-1] else f"{checks[0]:g}-{checks[-1]:g} s"
        largest = max(self.result_bytes.values(), default=0)
        return (f"load {self.load_seconds:g} s (reference {self.reference.load_seconds:.2f} s), "
                f"each check {spread} (reference at most "
                f"{max(self.reference.check_seconds.values(), default=0.0):.2f} s), "
                f"results at most {largest / 2**20:.2f} MiB a check, "
                f"{self.notebook_bytes / 2**20:.1f} MiB a notebook")


def measure(source: "SourceNotebook", checks: "Checks", stage: Path, limits: Limits, *,
            seed: int = 0, cgroups: SandboxCgroups | None = None,
            use_bwrap: bool | None = None,
            stop: threading.Event | None = None) -> WorkLimits:
    """Run the reference through the sandbox once and derive the assignment's `WorkLimits`.

    When the reference itself does not load (a course bug), warns and returns
    `WorkLimits.unmeasured(limits)`; a check the reference fails keeps the defaults.
    """
    from .grade import plan_tasks  # grade and task_run import this module: import here
    from .task_run import TaskRun

    planned, _ = plan_tasks(source, checks, REFERENCE_ID, seed)
    keys = task_keys(planned)
    cells = [{"name": c.name, "source": c.source} for c in source.cells]
    runner = TaskRun(cells, stage, limits, cgroups, use_bwrap, stop, checks.outcome,
                     WorkLimits.unmeasured(limits), keys)
    outcomes = runner.run(planned, time.monotonic())
    if runner.status != "ok" or runner.load_seconds is None:
        warn_once(f"reference-{source.assignment}", f"the reference of {source.assignment} did "
                  f"not load in the sandbox ({runner.reason}): its notebooks get the fixed limits")
        return WorkLimits.unmeasured(limits)
    seconds: dict[str, float] = {}
    sizes: dict[str, int] = {}
    for index, (run_seconds, nbytes) in runner.measured.items():
        if getattr(outcomes.get(index), "ok", False):
            seconds[keys[index]] = run_seconds
            sizes[keys[index]] = nbytes
    runs = set(runner.run_indices)
    failed = sorted({keys[i] for i in runs if not getattr(outcomes.get(i), "ok", False)})
    if failed:
        warn_once(f"reference-checks-{source.assignment}",
                  f"the reference of {source.assignment} fails {', '.join(failed[:5])}: "
                  f"those checks get the fixed limits")
    measured = Measured(runner.load_seconds, seconds, sizes)
    return WorkLimits.from_reference(measured, limits, unmeasured_runs=len(failed))
