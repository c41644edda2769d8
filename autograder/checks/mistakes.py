"""Which common wrong answer a wrong output matches, named in the student's words.

A check that finds an output wrong asks `diagnose(student, reference, context)`: the student's
array, the right one (from the reference library) and a `Context` saying what the output is
(its name, whether it is a gradient, the batch size N, whether it is a bias gradient) plus the
wrong answers only the check can compute (e.g. the gradient with sigma' taken at the
activation, or the parameter path with the momentum terms swapped). It returns the first
mistake whose wrong answer the student's output matches within `MATCH_TOL`, else None.

The names are a contract (CURRICULUM.md, "The grading command"): `MISTAKES`. When the
student's function raised because a gradient had the wrong shape (the library validates
shapes outside the solution markers with `validate.check_grad_shape`, so a student usually
gets a `GradShapeError` instead of returning the bad array), the worker sends the error's
name and shapes as numbers (`Outcome.shape`) and `diagnose_shape_error` names the mistake
from them. numpy's own shape errors (a matmul, np.dot or a broadcast whose shapes do not
match) are read into the same fields once, inside the sandbox (`wire.numpy_shape_of`): a
matmul mismatch is most often a missing transpose, a broadcast of (a, b) with (b, a) too,
any other broadcast is ``wrong_shape``. The grader parses no message text.

The generic wrong answers (negated, transposed, N times) and the matching rule are the
library's, `backprop_lib.checks.wrong_answer_variants` / `name_mistake` / `shape_mistake`, the
same helpers the notebooks' public checks use: a candidate counts only when it is itself far
from the right answer (norm-wise relative error > `DISTINCT_TOL`), so a mistake is never named
for an output that the mistake would not have changed; a student's output matches a candidate
when ``||student - candidate|| / max(||student|| + ||candidate||, 1e-8) < MATCH_TOL``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from backprop_lib.checks import (DISTINCT_TOL, MATCH_TOL, MISTAKE_PHRASES, name_mistake,
                                 shape_mistake, wrong_answer_variants)

MISTAKES: tuple[str, ...] = (
    "missing_transpose",
    "wrong_sign",
    "missing_mean",
    "activation_not_preactivation",
    "ignored_upstream",
    "momentum_order",
    "wrong_reg_factor",
    "bias_not_summed",
    "wrong_shape",
    "not_backprop",
    "not_accumulated",
    "missing_local_gradient",
    "wrong_mask",
)
"""The mistake names a results file may carry (the contract of CURRICULUM.md)."""

__all__ = ["MISTAKES", "MATCH_TOL", "DISTINCT_TOL", "Context", "diagnose", "diagnose_shape_error",
           "shape_mistake", "describe", "describe_shape_error", "OPERATIONS"]


@dataclass
class Context:
    """What a checked output is, and the wrong answers only its check can compute.

    Attributes:
        name: the output's name in the student's words, e.g. "dW", "db1", "next_w".
        gradient: True for a gradient: its negation (wrong_sign) and transpose
            (missing_transpose) are candidates.
        batch_size: N, the batch size (for the shape of an unsummed bias gradient, and for
            missing_mean).
        mean: True when the output carries a 1/N (a loss averaged over the batch, or its
            gradient): N times the right answer is a candidate (missing_mean).
        bias: True for a bias gradient of shape (M,): an output of shape (N, M) is
            bias_not_summed.
        candidates: mistake name -> wrong answers computed by the check (same shape as the
            right one), tried before the generic ones.
    """

    name: str
    gradient: bool = True
    batch_size: int | None = None
    mean: bool = False
    bias: bool = False
    candidates: dict[str, list[np.ndarray]] = field(default_factory=dict)


def diagnose(student: np.ndarray, reference: np.ndarray, context: Context) -> str | None:
    """The mistake (a name of `MISTAKES`) that `student` matches, or None.

    Args:
        student: the student's output (any shape; float64).
        reference: the right output.
        context: what the output is, and extra candidates.
    """
    student = np.asarray(student, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if student.shape != reference.shape:
        if student.size == 1 and reference.size > 1:
            # a constant where an array was due, e.g. a gate's backward returning its local
            # gradient 1.0: name the mistake the constant makes, if any
            broadcast = np.broadcast_to(student.reshape(()), reference.shape)
            return _same_shape_mistake(broadcast, reference, context) or "wrong_shape"
        mistake = shape_mistake(student.shape, reference.shape, context.bias, context.batch_size)
        if mistake == "missing_transpose" and not context.gradient:
            return "wrong_shape"
        return mistake
    return _same_shape_mistake(student, reference, context)


def _same_shape_mistake(student: np.ndarray, reference: np.ndarray, context: Context) -> str | None:
    if not np.all(np.isfinite(student)):
        return None
    named = name_mistake(student, reference, context.candidates)  # the check's own, first
    if named:
        return named
    variants = wrong_answer_variants(reference, context.batch_size)
    generic: dict[str, np.ndarray] = {}
    if context.gradient:
        generic["wrong_sign"] = variants["wrong_sign"]
        if reference.ndim == 2 and reference.shape[0] == reference.shape[1]:
            generic["missing_transpose"] = variants["missing_transpose"]  # else: a shape mistake
    if context.mean and "missing_mean" in variants:
        generic["missing_mean"] = variants["missing_mean"]
    return name_mistake(student, reference, generic)


def diagnose_shape_error(shape: dict[str, Any] | None,
                         batch_size: int | None = None) -> tuple[str | None, str]:
    """Name the mistake of a gradient the library's shape check rejected.

    Args:
        shape: ``{"name": "dW", "got": [3, 4], "expected": [4, 3]}`` (`Outcome.shape`, from the
            `GradShapeError` the student's function raised), or None.
        batch_size: N, for a bias gradient left with one row per example.

    Returns:
        (mistake, output name), or (None, "") without shape fields.
    """
    if not shape:
        return None, ""
    name = str(shape["name"])
    if name in OPERATIONS:  # numpy's own shape error, read into fields in the sandbox
        if name == "broadcast":
            return shape_mistake(shape["got"], shape["expected"]), name
        return "missing_transpose", name
    bias = name.startswith("db") or name.startswith("b")
    return shape_mistake(shape["got"], shape["expected"], bias=bias, batch_size=batch_size), name


_PHRASES: dict[str, str] = {name: MISTAKE_PHRASES[name] for name in MISTAKES}
"""One source with the notebooks' public checks: `backprop_lib.checks.MISTAKE_PHRASES`."""


OPERATIONS = {"matmul": "a matrix product (@)", "dot": "a matrix product (np.dot)",
              "broadcast": "an elementwise operation"}
"""Shape fields named after a numpy operation, not an output (`wire.numpy_shape_of`)."""


def describe_shape_error(mistake: str, shape: dict[str, Any], batch_size: int | None = None) -> str:
    """The sentence for a mistake named from a raised shape error's fields."""
    name = str(shape["name"])
    if name not in OPERATIONS:
        return describe(mistake, name, batch_size)
    got, expected = shape["got"], shape["expected"]
    if name == "matmul":
        what = f"the inner sizes {got[0] if got else '?'} and {expected[0] if expected else '?'} differ"
    else:
        what = f"shapes {tuple(got)} and {tuple(expected)}"
    if mistake == "missing_transpose":
        return (f"the shapes of {OPERATIONS[name]} do not match ({what}): most often a missing "
                f"or extra transpose; write the shapes of both operands next to the formula")
    return (f"the shapes of {OPERATIONS[name]} do not match ({what}): a gradient has exactly "
            f"the shape of its variable; check each operand's shape")


def describe(mistake: str, name: str, batch_size: int | None = None) -> str:
    """The sentence feedback shows for `mistake` in output `name`, e.g.
    "your dW looks like the transpose of the right one"."""
    if mistake not in _PHRASES:
        raise ValueError(f"unknown mistake {mistake!r}; expected one of {MISTAKES}")
    return _PHRASES[mistake].format(name=name, N=batch_size if batch_size else "N")
