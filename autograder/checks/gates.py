"""Checks of the ten gate classes (assignment 1, `backprop_lib.gates`).

Each gate gets one run (driver ``gate``): construct it (``ScaleGate(a)``, ``OffsetGate(c)``),
``forward`` on arrays of shape (3, 4) (gates work elementwise), then ``backward`` with a random
upstream gradient (``CopyGate`` gets two). Checks: ``forward`` (the output against the
reference) and one per input, ``dx`` / ``dy`` (the gradient against the numerical gradient of
``sum(forward(...) * dout)`` of the reference gate). Inputs stay on each gate's domain and
away from its kink: ``MaxGate`` inputs differ by >= 1e-2 (ties never drawn), ``LogGate``
inputs lie in [0.5, 3], ``ReciprocalGate`` inputs have |x| in [0.5, 2].

Mistakes tried for a wrong gradient: ``ignored_upstream`` (the local gradient alone, i.e. the
backward of an upstream of ones), ``wrong_sign``, and for ``SigmoidGate``
``activation_not_preactivation`` (sigma'(s) with s the output, or the slope computed from
the upstream gradient, instead of sigma'(x)); ``CopyGate``: ``not_accumulated`` (one of the two
upstream gradients alone); ``MaxGate``: ``wrong_mask`` (dout routed to the input that lost).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from backprop_lib import gates as ref

from .mistakes import Context
from . import inputs
from .core import (FLOOR_GRAD, FLOOR_VALUE, TOL_GRAD, TOL_VALUE, Outcome, Task, Verdict, combine,
                   compare, memo)
from .numeric import numerical_gradient

SHAPE = (3, 4)


@dataclass(frozen=True)
class GateSpec:
    """How to check one gate class: input names, output count, constructor argument, inputs."""

    inputs: tuple[str, ...]
    draw: Callable[[np.random.Generator], list[np.ndarray]]
    outputs: int = 1
    ctor: Callable[[np.random.Generator], float] | None = None


def _normal(scale: float = 1.0, count: int = 1):
    return lambda rng: [inputs.normal(rng, SHAPE, scale) for _ in range(count)]


def _max_inputs(rng: np.random.Generator) -> list[np.ndarray]:
    x = inputs.normal(rng, SHAPE)
    return [x, x - inputs.away_from(rng, SHAPE)]  # |x - y| >= GAP: no ties


SPECS: dict[str, GateSpec] = {
    "AddGate": GateSpec(("x", "y"), _normal(count=2)),
    "MultiplyGate": GateSpec(("x", "y"), _normal(count=2)),
    "MaxGate": GateSpec(("x", "y"), _max_inputs),
    "CopyGate": GateSpec(("x",), _normal(), outputs=2),
    "ExpGate": GateSpec(("x",), _normal()),
    "ReciprocalGate": GateSpec(("x",), lambda rng: [inputs.uniform_magnitude(rng, SHAPE, 0.5, 2.0)]),
    "ScaleGate": GateSpec(("x",), _normal(),
                          ctor=lambda rng: float(inputs.uniform_magnitude(rng, (), 0.5, 3.0))),
    "OffsetGate": GateSpec(("x",), _normal(), ctor=lambda rng: float(inputs.normal(rng, ()))),
    "SigmoidGate": GateSpec(("x",), _normal(2.0)),
    "LogGate": GateSpec(("x",), lambda rng: [rng.uniform(0.5, 3.0, SHAPE)]),
}
FUNCTIONS: tuple[str, ...] = tuple(SPECS)


def tasks_for(function: str, rng: np.random.Generator) -> list[Task]:
    """``forward`` and ``d<input>`` for gate class `function`, all on one run."""
    spec = SPECS[function]
    args: dict = {"fn": function, "n_in": len(spec.inputs), "n_out": spec.outputs,
                  "ctor": spec.ctor(rng) if spec.ctor else None}
    for i, x in enumerate(spec.draw(rng)):
        args[f"in{i}"] = x
    for i in range(spec.outputs):
        args[f"dout{i}"] = inputs.normal(rng, SHAPE)
    checks = ["forward"] + [f"d{name}" for name in spec.inputs]
    return [Task(function, check, "gate", args) for check in checks]


def _ref_gate(task: Task):
    cls = getattr(ref, task.function)
    ctor = task.args.get("ctor")
    return cls(ctor) if ctor is not None else cls()


def _reference(task: Task) -> dict:
    """Reference outputs, gradients, numerical gradients and wrong answers of one run."""
    spec, args = SPECS[task.function], task.args
    xs = [args[f"in{i}"].copy() for i in range(len(spec.inputs))]
    douts = [args[f"dout{i}"] for i in range(spec.outputs)]

    def outputs(values: list[np.ndarray]) -> list[np.ndarray]:
        out = _ref_gate(task).forward(*values)
        return list(out) if spec.outputs > 1 else [out]

    def backward(upstreams: list[np.ndarray]) -> list[np.ndarray]:
        gate = _ref_gate(task)
        gate.forward(*[x.copy() for x in xs])
        return [np.asarray(g, dtype=np.float64) for g in gate.backward(*upstreams)]

    numerical = []
    for i in range(len(xs)):
        def f(xi: np.ndarray, i: int = i) -> float:
            values = [xi if j == i else x for j, x in enumerate(xs)]
            return float(sum(np.sum(o * d) for o, d in zip(outputs(values), douts)))
        numerical.append(numerical_gradient(f, xs[i]))
    local = backward([np.ones(SHAPE)] * spec.outputs)
    extra: list[dict] = [{"ignored_upstream": [g]} for g in local]
    if task.function == "SigmoidGate":
        s = outputs(xs)[0]
        at_output = 1.0 / (1.0 + np.exp(-s))
        at_upstream = 1.0 / (1.0 + np.exp(-douts[0]))
        extra[0]["activation_not_preactivation"] = [
            at_output * (1.0 - at_output) * douts[0],          # sigma' at the output s
            douts[0] * (1.0 - douts[0]),                        # s (1 - s) with s = dout
            at_upstream * (1.0 - at_upstream) * douts[0]]       # sigma' at dout
    elif task.function == "CopyGate":  # x fans out: dx = dz1 + dz2; one of them alone
        extra[0]["not_accumulated"] = [douts[0], douts[1]]
    elif task.function == "MaxGate":  # dout routed to the input that lost
        x_won = xs[0] > xs[1]
        extra[0]["wrong_mask"] = [douts[0] * ~x_won]
        extra[1]["wrong_mask"] = [douts[0] * x_won]
    return {"out": outputs(xs), "grads": backward(douts), "numerical": numerical, "extra": extra}


def evaluate(task: Task, outcome: Outcome) -> Verdict:
    """Verdict of ``forward`` or ``d<input>`` for one gate run."""
    spec = SPECS[task.function]
    refs = memo(task.function, task.args, lambda: _reference(task))
    values = outcome.values
    if task.check == "forward":
        parts = [compare(values, f"out{i}", want, name="forward output" + (f" {i + 1}" if spec.outputs > 1 else ""),
                         tol=TOL_VALUE, floor=FLOOR_VALUE) for i, want in enumerate(refs["out"])]
        return combine(parts)
    i = spec.inputs.index(task.check[1:])
    context = Context(name=task.check, candidates=refs["extra"][i])
    return compare(values, f"d{i}", refs["numerical"][i], name=task.check, tol=TOL_GRAD,
                   floor=FLOOR_GRAD, context=context, right=refs["grads"][i], sample=True)
