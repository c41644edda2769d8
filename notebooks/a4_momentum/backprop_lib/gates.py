# Generated for a4_momentum from backprop_lib/gates.py by `make notebooks (python -m courseware build)`: do not edit; edit the library and regenerate.
"""Gates: the nodes of a computational graph, each a forward and a backward (assignment 1).

Every gate follows one API:
    out = gate.forward(*inputs)        # computes the output, keeps what backward needs
    grads = gate.backward(dout)        # a tuple, one gradient per input (also for one input)
and its backward is the chain rule, "local gradient times upstream gradient":
dL/dinput = (dout/dinput) * dL/dout.

The lecture's nicknames: add is the gradient *distributor*, multiply the *swap multiplier*,
max the gradient *router*, copy (a value that fans out) the gradient *adder*.

They work on Python floats and elementwise on numpy arrays (of one shape, no broadcasting).
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "AddGate",
    "MultiplyGate",
    "MaxGate",
    "CopyGate",
    "ExpGate",
    "ReciprocalGate",
    "ScaleGate",
    "OffsetGate",
    "SigmoidGate",
    "LogGate",
]

Value = Any  # a float or an ndarray


class AddGate:
    """z = x + y. Local gradients are 1 and 1: backward hands dz to both inputs ("distributor")."""

    def forward(self, x: Value, y: Value) -> Value:
        # TASK: return x + y (nothing needs keeping: the local gradients are constants).
        ### BEGIN SOLUTION
        return x + y
        ### END SOLUTION

    def backward(self, dz: Value) -> tuple[Value, Value]:
        # TASK: (dL/dx, dL/dy) = (1 * dz, 1 * dz).
        ### BEGIN SOLUTION
        return 1.0 * dz, 1.0 * dz
        ### END SOLUTION


class MultiplyGate:
    """z = x * y. Backward swaps the inputs: dz/dx = y, dz/dy = x ("swap multiplier")."""

    def forward(self, x: Value, y: Value) -> Value:
        # TASK: keep x and y for backward, return x * y.
        ### BEGIN SOLUTION
        self.x, self.y = x, y
        return x * y
        ### END SOLUTION

    def backward(self, dz: Value) -> tuple[Value, Value]:
        # TASK: (dL/dx, dL/dy) = (y * dz, x * dz).
        ### BEGIN SOLUTION
        return self.y * dz, self.x * dz
        ### END SOLUTION


class MaxGate:
    """z = max(x, y). Backward routes dz to the input that won, 0 to the other ("router").

    On a tie (x == y) the whole gradient goes to the first input, x.
    """

    def forward(self, x: Value, y: Value) -> Value:
        # TASK: keep which input won (x >= y, so x wins ties), return max(x, y) elementwise.
        ### BEGIN SOLUTION
        self.x_won = np.greater_equal(x, y)
        return np.maximum(x, y)
        ### END SOLUTION

    def backward(self, dz: Value) -> tuple[Value, Value]:
        # TASK: (dL/dx, dL/dy) = (dz where x won else 0, dz where y won else 0).
        ### BEGIN SOLUTION
        return dz * self.x_won, dz * np.logical_not(self.x_won)
        ### END SOLUTION


class CopyGate:
    """(z1, z2) = (x, x): one value used twice. Backward adds the two gradients ("adder").

    This is the rule behind every branch in a graph: gradients add where a value fans out.
    """

    def forward(self, x: Value) -> tuple[Value, Value]:
        # TASK: return the value twice, (x, x).
        ### BEGIN SOLUTION
        return x, x
        ### END SOLUTION

    def backward(self, dz1: Value, dz2: Value) -> tuple[Value]:
        # TASK: dL/dx = dz1 + dz2 (a one-element tuple).
        ### BEGIN SOLUTION
        return (dz1 + dz2,)
        ### END SOLUTION


class ExpGate:
    """z = exp(x). Local gradient exp(x) = z, so backward reuses the output."""

    def forward(self, x: Value) -> Value:
        # TASK: keep z = exp(x) for backward and return it.
        ### BEGIN SOLUTION
        self.z = np.exp(x)
        return self.z
        ### END SOLUTION

    def backward(self, dz: Value) -> tuple[Value]:
        # TASK: dL/dx = exp(x) * dz.
        ### BEGIN SOLUTION
        return (self.z * dz,)
        ### END SOLUTION


class ReciprocalGate:
    """z = 1 / x. Local gradient -1 / x^2."""

    def forward(self, x: Value) -> Value:
        # TASK: keep x, return 1 / x.
        ### BEGIN SOLUTION
        self.x = x
        return 1.0 / x
        ### END SOLUTION

    def backward(self, dz: Value) -> tuple[Value]:
        # TASK: dL/dx = (-1 / x**2) * dz.
        ### BEGIN SOLUTION
        return (-1.0 / self.x**2 * dz,)
        ### END SOLUTION


class ScaleGate:
    """z = a * x for a constant a (the lecture's "*-1" is ScaleGate(-1)). Local gradient a."""

    def __init__(self, a: float):
        self.a = float(a)

    def forward(self, x: Value) -> Value:
        # TASK: return a * x.
        ### BEGIN SOLUTION
        return self.a * x
        ### END SOLUTION

    def backward(self, dz: Value) -> tuple[Value]:
        # TASK: dL/dx = a * dz.
        ### BEGIN SOLUTION
        return (self.a * dz,)
        ### END SOLUTION


class OffsetGate:
    """z = c + x for a constant c (the lecture's "+1" is OffsetGate(1)). Local gradient 1."""

    def __init__(self, c: float):
        self.c = float(c)

    def forward(self, x: Value) -> Value:
        # TASK: return c + x.
        ### BEGIN SOLUTION
        return self.c + x
        ### END SOLUTION

    def backward(self, dz: Value) -> tuple[Value]:
        # TASK: dL/dx = 1 * dz.
        ### BEGIN SOLUTION
        return (1.0 * dz,)
        ### END SOLUTION


class SigmoidGate:
    """s = sigma(x) = 1 / (1 + exp(-x)) as one gate; local gradient (1 - s) s.

    Gives the same gradient as the chain *-1, exp, +1, 1/x, in one step.
    """

    def forward(self, x: Value) -> Value:
        # TASK: keep s = 1 / (1 + exp(-x)) for backward and return it.
        ### BEGIN SOLUTION
        with np.errstate(over="ignore"):  # exp(-x) = inf for x << 0 gives s = 0, as it should
            self.s = 1.0 / (1.0 + np.exp(-x))
        return self.s
        ### END SOLUTION

    def backward(self, dz: Value) -> tuple[Value]:
        # TASK: dL/dx = (1 - s) * s * dz.
        ### BEGIN SOLUTION
        return ((1.0 - self.s) * self.s * dz,)
        ### END SOLUTION


class LogGate:
    """z = log(x) (natural log, x > 0). Local gradient 1 / x."""

    def forward(self, x: Value) -> Value:
        # TASK: keep x, return log(x).
        ### BEGIN SOLUTION
        self.x = x
        return np.log(x)
        ### END SOLUTION

    def backward(self, dz: Value) -> tuple[Value]:
        # TASK: dL/dx = (1 / x) * dz.
        ### BEGIN SOLUTION
        return (dz / self.x,)
        ### END SOLUTION
