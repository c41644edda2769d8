"""Checks of `layer_gradient_norms` and `clip_gradients` (assignment 5, `backprop_lib.diagnostics`).

Both take a grads dict ``{"W1", "b1", ..., "WL", "bL"}`` of a deep net (L from 10 to 12, so
that "W10" sorted as a string before "W2" is caught) and are checked by value against the
reference (norm-wise relative error < 1e-9):

- ``layer_gradient_norms``: ``values`` (||dW^l||_F in layer order, shape (L,));
- ``clip_gradients``: ``clips`` (global norm above max_norm: every array scaled by
  max_norm / total) and ``keeps_small`` (global norm below max_norm: unchanged), and
  ``input_untouched`` (on the clipping run: no input array written in place) and
  ``returns_copies`` (on the unchanged run: every returned array a new one, not an input
  array or a view of it; the docstring's "copies; the input is not modified").

No common mistake of the list applies beyond ``wrong_shape``; messages say what differs.
"""
from __future__ import annotations

import numpy as np
from backprop_lib import diagnostics as ref

from .core import FLOOR_EXACT, TOL_EXACT, Outcome, Task, Verdict, combine, compare

FUNCTIONS: tuple[str, ...] = ("layer_gradient_norms", "clip_gradients")


def _grads(rng: np.random.Generator) -> dict[str, np.ndarray]:
    L = int(rng.integers(10, 13))
    widths = rng.integers(2, 5, size=L + 1)
    grads = {}
    for l in range(1, L + 1):
        scale = float(np.exp(rng.uniform(-3, 1)))  # norms spread over decades, like a deep net's
        grads[f"W{l}"] = scale * rng.standard_normal((widths[l], widths[l - 1]))
        grads[f"b{l}"] = scale * rng.standard_normal(widths[l])
    return grads


def _global_norm(grads: dict[str, np.ndarray]) -> float:
    return float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))


def tasks_for(function: str, rng: np.random.Generator) -> list[Task]:
    """``values`` for the norms; ``clips`` and ``keeps_small`` for clipping."""
    if function == "layer_gradient_norms":
        args = {"fn": function, **{f"grad_{k}": v for k, v in _grads(rng).items()}}
        return [Task(function, "values", "grad_norms", args)]
    if function == "clip_gradients":
        tasks = []
        for check, factor in (("clips", rng.uniform(0.1, 0.7)), ("keeps_small", rng.uniform(1.3, 3.0))):
            grads = _grads(rng)
            args = {"fn": function, **{f"grad_{k}": v for k, v in grads.items()},
                    "max_norm": float(factor * _global_norm(grads))}
            tasks.append(Task(function, check, "clip", args))
        return tasks + [Task(function, "input_untouched", "clip", tasks[0].args),
                        Task(function, "returns_copies", "clip", tasks[1].args)]
    raise KeyError(function)


def _untouched(task: Task, values: dict) -> Verdict:
    changed = float(np.sum(values.get("inputs_changed", np.array(1.0))))
    aliased = float(np.sum(values.get("aliased", np.array(1.0))))
    if changed:
        return Verdict(0.0, False, f"clip_gradients modified its input: {changed:g} of the grads "
                                   f"arrays it was given changed in place (scale new arrays, "
                                   f"g * scale, and leave the caller's alone)")
    if aliased and task.check == "returns_copies":
        return Verdict(0.0, False, f"clip_gradients returned {aliased:g} of its input arrays "
                                   f"themselves (or views of them): return new arrays, so that "
                                   f"changing the result cannot change the input")
    return Verdict(1.0, True, "the input grads are unmodified" + (
        ", the result holds new arrays" if task.check == "returns_copies" else ""))


def evaluate(task: Task, outcome: Outcome) -> Verdict:
    """Verdict of one diagnostics check."""
    grads = {k[5:]: v for k, v in task.args.items() if k.startswith("grad_")}
    values = outcome.values
    if task.function == "layer_gradient_norms":
        return compare(values, "norms", ref.layer_gradient_norms(grads), name="norms",
                       tol=TOL_EXACT, floor=FLOOR_EXACT)
    if task.check in ("input_untouched", "returns_copies"):
        return _untouched(task, values)
    clipped = ref.clip_gradients(grads, task.args["max_norm"])
    missing = sorted(set(clipped) - {k[5:] for k in values})
    if missing:
        return Verdict(0.0, False, f"the clipped grads are missing {', '.join(missing)}")
    return combine([compare(values, f"grad_{k}", v, name=k, tol=TOL_EXACT, floor=FLOOR_EXACT)
                    for k, v in clipped.items()])
