"""Checks of the students' numerical gradient checkers (assignment 2, `backprop_lib.gradcheck`).

The driver builds a known smooth function inside the sandbox from plain arrays and calls the
student's checker with the default h = 1e-5:

- ``numerical_gradient(f, x)`` with ``f(x) = sum(c * tanh(x)) + 0.5 * ||A x||^2``, x of
  shape (3, 4); its gradient is ``c * (1 - tanh(x)^2) + A^T A x``;
- ``numerical_gradient_array(f, x, dout)`` with ``f(x) = tanh(x @ B) + x^2 @ C``; the gradient
  of ``sum(f(x) * dout)`` is ``((1 - tanh(x @ B)^2) * dout) @ B^T + 2 x * (dout @ C^T)``.

Checks: ``gradient`` (against the analytic gradient, norm-wise relative error < 1e-7:
centered differences err by ~1e-10 here, one-sided differences by ~1e-6) and
``restores_x`` (x holds its original values after the call, to 1e-12) and
``restores_x_on_error`` (a second run whose f raises on its 6th call, in the middle of the
loop: x must hold its original values all the same, the docstring's "restores every entry,
also when f raises"; a try / finally around the perturbation does it).
Mistakes tried: ``wrong_sign``, ``ignored_upstream`` (the array version with dout = ones).
"""
from __future__ import annotations

import numpy as np

from .mistakes import Context
from . import inputs
from .core import FLOOR_VALUE, Outcome, Task, Verdict, compare, value_check

FUNCTIONS: tuple[str, ...] = ("numerical_gradient", "numerical_gradient_array")
TOL_NUMERICAL = 1e-7
RAISE_AFTER = 5
"""f raises on its 6th call: during the 3rd entry's x + h evaluation, an entry perturbed."""


def tasks_for(function: str, rng: np.random.Generator) -> list[Task]:
    """``gradient`` and ``restores_x`` on one run of the student's checker, and
    ``restores_x_on_error`` on a run whose f raises."""
    x = inputs.normal(rng, (3, 4))
    if function == "numerical_gradient":
        args = {"fn": function, "x": x, "A": inputs.normal(rng, (3, 3), 0.7),
                "c": inputs.normal(rng, (3, 4)), "h": None}
    elif function == "numerical_gradient_array":
        args = {"fn": function, "x": x, "B": inputs.normal(rng, (4, 2), 0.7),
                "C": inputs.normal(rng, (4, 2), 0.5), "dout": inputs.normal(rng, (3, 2))}
    else:
        raise KeyError(function)
    raising = {**args, "raise_after": RAISE_AFTER}
    return [Task(function, check, function, args) for check in ("gradient", "restores_x")] + [
        Task(function, "restores_x_on_error", function, raising)]


def analytic_gradient(function: str, args: dict, dout: np.ndarray | None = None) -> np.ndarray:
    """The exact gradient of the known function the driver builds from `args`."""
    x = args["x"]
    if function == "numerical_gradient":
        A, c = args["A"], args["c"]
        return c * (1.0 - np.tanh(x) ** 2) + A.T @ (A @ x)
    B, C = args["B"], args["C"]
    dout = args["dout"] if dout is None else dout
    return ((1.0 - np.tanh(x @ B) ** 2) * dout) @ B.T + 2.0 * x * (dout @ C.T)


def evaluate(task: Task, outcome: Outcome) -> Verdict:
    """Verdict of ``gradient`` or ``restores_x``."""
    args, values = task.args, outcome.values
    if task.check in ("restores_x", "restores_x_on_error"):
        after = values.get("x_after")
        x = args["x"]
        ok = (after is not None and np.shape(after) == x.shape and bool(np.all(np.isfinite(after)))
              and float(np.max(np.abs(after - x))) <= 1e-12 * max(1.0, float(np.max(np.abs(x)))))
        if task.check == "restores_x_on_error":
            return value_check(ok, "x restored when f raised",
                               "x was left perturbed when f raised: restore x[ix] = old in a "
                               "finally block, so an error in f leaves x as it was")
        return value_check(ok, "x restored after the call",
                           "x was not restored: after each perturbation, put back the original "
                           "entry x[ix] = old")
    right = analytic_gradient(task.function, args)
    candidates = {}
    if task.function == "numerical_gradient_array":
        candidates["ignored_upstream"] = [analytic_gradient(task.function, args, np.ones_like(args["dout"]))]
    return compare(values, "grad", right, name="gradient", tol=TOL_NUMERICAL, floor=FLOOR_VALUE,
                   context=Context("gradient", candidates=candidates), sample=True)
