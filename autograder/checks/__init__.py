"""What the grader checks for every graded function: tasks for the sandbox, verdicts after.

For each graded function (or gate class) of CURRICULUM.md, `tasks_for(function, rng)` draws
fresh inputs (kink-free, see `inputs`) and returns the `Task`s the sandbox runs through a
driver of `autograder/sandbox/inside/drivers.py`; `evaluate(task, outcome)` turns what came back into a
`Verdict` (credit in [0, 1], a message, a mistake name) by comparing with the reference
library and with numerical gradients of the reference forward, computed here, in the
grader's process. Tolerances are written down in `core`.

One module per graded library module, with the library module's name (`backprop_lib/layers.py`
is checked by `autograder/checks/layers.py`): `gates`, `layers`, `gradcheck`, `init`, `mlp`,
`optim`, `diagnostics`; each has ``FUNCTIONS`` (the literal function names it checks, the only
list of them: `autograder.registry` derives `MODULE_OF` from it), ``tasks_for(function, rng)``
and ``evaluate(task, outcome)`` (called only for an ok outcome). Shared: `core` (data classes,
comparisons, tolerances), `numeric` (numerical gradients), `inputs` (kink-free inputs),
`mistakes` (naming a wrong answer).

Also here for the grader's other steps: `known_functions()` (every function the grader can
check), `check_names(function)` (the names of its checks, the same for every rng) and
`run_in_process(ns, task)` (runs a driver in THIS process: for tests with the trusted
reference library only, never for student code).
"""
from __future__ import annotations

import importlib
import time
from types import ModuleType

import numpy as np

from .. import registry
from . import cost
from .core import Outcome, Task, Verdict, failed_outcome

__all__ = ["Task", "Outcome", "Verdict", "tasks_for", "evaluate", "known_functions",
           "check_names", "run_in_process", "MODULE_OF"]

MODULE_OF: dict[str, str] = registry.module_of()
"""Graded function (or gate class) -> its check module, named like its library module
(derived by `autograder.registry` from each check module's ``FUNCTIONS``)."""


def known_functions() -> list[str]:
    """Every function / gate class the grader has checks for, in curriculum order."""
    return list(MODULE_OF)


def _module(function: str) -> ModuleType:
    if function not in MODULE_OF:
        raise KeyError(f"the grader has no checks for {function!r}; known: {', '.join(MODULE_OF)}")
    return importlib.import_module(f"{__name__}.{MODULE_OF[function]}")


def tasks_for(function: str, rng: np.random.Generator) -> list[Task]:
    """The tasks that check `function`, on inputs drawn from `rng`.

    Raises:
        KeyError: for a function the grader does not know.
    """
    return _module(function).tasks_for(function, rng)


def check_names(function: str) -> list[str]:
    """The names of `function`'s checks (the same whatever the rng)."""
    return [task.check for task in tasks_for(function, np.random.default_rng(0))]


def evaluate(task: Task, outcome: Outcome) -> Verdict:
    """The verdict of one task, from the sandbox's outcome and the reference library.

    A run that produced no numbers fails with its error; numbers that cannot be compared
    (wrong shapes, NaN) fail with a message; never raises for anything the student returned.
    A cost run that timed out after burning more CPU than `cost.MAX_CPU_SECONDS` is named
    `not_backprop` (on a busy machine a numerical backward can reach the wall limit first).
    """
    module = _module(task.function)
    if not outcome.ok:
        if outcome.kind == "timeout" and task.args.get("cpu_timed"):
            slow = cost.too_slow(outcome, task.function, task.check)
            if slow is not None:
                slow.message = f"{outcome.error or 'timed out'}: {slow.message}"
                return slow
        return failed_outcome(task, outcome, batch_size=_batch_size(task))
    try:
        verdict = module.evaluate(task, outcome)
    except (ValueError, TypeError, IndexError, KeyError, FloatingPointError, OverflowError) as exc:
        return Verdict(0.0, False, f"{task.check}: your output could not be checked "
                                   f"({type(exc).__name__}: {exc})")
    verdict.fraction = float(min(1.0, max(0.0, verdict.fraction)))
    return verdict


def _batch_size(task: Task) -> int | None:
    for key in ("x", "in0", "X", "scores"):
        value = task.args.get(key)
        if isinstance(value, np.ndarray) and value.ndim == 2:
            return int(value.shape[0])
    return None


def run_in_process(ns: dict, task: Task) -> Outcome:
    """Run `task`'s driver on namespace `ns` in this process (tests, trusted code only).

    Mirrors the sandbox worker: a missing function is ``not_defined``, an exception is
    ``exception`` with ``"TypeName: message"``; values come back as plain float64 arrays.
    A task whose args say ``cpu_timed`` gets ``cpu_seconds``, this process's CPU time for the
    driver's call (the sandbox's is read from /proc by the grader: `sandbox/cpu_time.py`).
    """
    from ..sandbox.inside import drivers, wire

    if task.function not in ns:
        return Outcome(False, {}, f"{task.function} is not defined", "not_defined")
    started = time.process_time()
    try:
        values = drivers.run(ns, task.driver, task.args)
    except Exception as exc:  # noqa: BLE001 - the worker catches everything too
        return Outcome(False, {}, f"{type(exc).__name__}: {exc}", "exception",
                       wire.grad_shape_of(exc))
    cpu = time.process_time() - started if task.args.get("cpu_timed") else None
    return Outcome(True, {k: np.array(v, dtype=np.float64) for k, v in values.items()},
                   cpu_seconds=cpu)
