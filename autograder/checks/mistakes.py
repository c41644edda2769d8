"""Which common wrong answer a wrong output matches, named in the student's words.

A check that finds an output wrong asks `diagnose(student, reference, context)`: the student's
array, the right one (from the reference library) and a `Context` saying what the output is
(its name, whether it is a gradient, the batch size N, whether it is a bias gradient) plus the
wrong answers only the check can compute (e.g. the gradient with sigma' taken at the
activation, or the parameter path with the momentum terms swapped). It returns the first
mistake whose wrong answer the student's output matches within `MATCH_TOL`, else None.

The names are a contract (CURRICULUM.md, "The grading command"): `MISTAKES`. When the
student's function raised because a gradient had the wrong shape (the library validates
shapes outside the solution markers, so a student usually gets a `ValueError` instead of
returning the bad array), `diagnose_error` reads the shapes from the message instead.

Matching rule: a candidate counts only when it is itself far from the right answer
(norm-wise relative error > `DISTINCT_TOL`), so a mistake is never named for an output that
the mistake would not have changed; a student's output matches a candidate when
``||student - candidate|| / max(||student|| + ||candidate||, 1e-8) < MATCH_TOL``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

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
)
"""The mistake names a results file may carry (the contract of CURRICULUM.md)."""

MATCH_TOL = 1e-6
DISTINCT_TOL = 1e-3
_FLOOR = 1e-8


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


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), _FLOOR))


def _matches(student: np.ndarray, candidate: np.ndarray, reference: np.ndarray) -> bool:
    candidate = np.asarray(candidate, dtype=np.float64)
    if candidate.shape != student.shape or not np.all(np.isfinite(candidate)):
        return False
    if candidate.shape == reference.shape and _rel(candidate, reference) <= DISTINCT_TOL:
        return False
    return _rel(student, candidate) < MATCH_TOL


def shape_mistake(got: tuple[int, ...], expected: tuple[int, ...], bias: bool = False,
                  batch_size: int | None = None) -> str | None:
    """Name the mistake behind a gradient of shape `got` where `expected` was right.

    (M, D) for (D, M) is missing_transpose; (N, M) for a bias gradient (M,) is
    bias_not_summed; any other difference is wrong_shape; None when the shapes agree.
    """
    got, expected = tuple(got), tuple(expected)
    if got == expected:
        return None
    if len(expected) == 2 and got == expected[::-1]:
        return "missing_transpose"
    if bias and len(got) == len(expected) + 1 and got[1:] == expected and (
            batch_size is None or got[0] == batch_size) and got[0] > 1:
        return "bias_not_summed"
    return "wrong_shape"


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
    for name, wrong_answers in context.candidates.items():
        if any(_matches(student, wrong, reference) for wrong in wrong_answers):
            return name
    if context.gradient:
        if _matches(student, -reference, reference):
            return "wrong_sign"
        if reference.ndim == 2 and reference.shape[0] == reference.shape[1] and _matches(
                student, reference.T, reference):
            return "missing_transpose"
    if context.mean and context.batch_size and context.batch_size > 1:
        if _matches(student, context.batch_size * reference, reference):
            return "missing_mean"
    return None


_SHAPE_MESSAGE = re.compile(
    r"(?P<name>[A-Za-z_][\w\[\]]*) has shape \((?P<got>[\d, ]*)\) but must have the shape of the "
    r"variable it differentiates, \((?P<want>[\d, ]*)\)")
_MLP_SHAPE_MESSAGE = re.compile(
    r"dW(?P<l>\d+) / db\d+ must have the shapes of W\d+ \((?P<w>[\d, ]*)\) and b\d+ \((?P<b>[\d, ]*)\), "
    r"got \((?P<gw>[\d, ]*)\) and \((?P<gb>[\d, ]*)\)")


def _shape(text: str) -> tuple[int, ...]:
    return tuple(int(s) for s in text.replace(" ", "").split(",") if s)


def diagnose_error(error: str, batch_size: int | None = None) -> tuple[str | None, str]:
    """Read a shape mistake from the message of the library's own shape check.

    The library (and so the student's copy) raises e.g. ``ValueError: dW has shape (3, 4) but
    must have the shape of the variable it differentiates, (4, 3)``.

    Returns:
        (mistake, output name), or (None, "") when the message is not a shape check's.
    """
    match = _SHAPE_MESSAGE.search(error or "")
    if match:
        name = match["name"]
        got, want = _shape(match["got"]), _shape(match["want"])
        bias = name.startswith("db") or name.startswith("b")
        return shape_mistake(got, want, bias=bias, batch_size=batch_size), name
    match = _MLP_SHAPE_MESSAGE.search(error or "")
    if match:
        layer = match["l"]
        mistake = shape_mistake(_shape(match["gw"]), _shape(match["w"]))
        if mistake:
            return mistake, f"dW{layer}"
        return shape_mistake(_shape(match["gb"]), _shape(match["b"]), bias=True,
                             batch_size=batch_size), f"db{layer}"
    return None, ""


_PHRASES: dict[str, str] = {
    "missing_transpose": "your {name} looks like the transpose of the right one",
    "wrong_sign": "your {name} has the wrong sign (it is the negative of the right one)",
    "missing_mean": "your {name} is N = {N} times too large: the loss is a mean over the batch, "
                    "so divide by N",
    "activation_not_preactivation": "your {name} takes sigma' at the activation a = sigma(z) "
                                    "instead of at the pre-activation z",
    "ignored_upstream": "your {name} ignores the upstream gradient: it is the local gradient "
                        "alone; multiply it by the upstream gradient (chain rule)",
    "momentum_order": "your update applies the momentum terms in the wrong order: first "
                      "v = dw + momentum * v, then w = w - learning_rate * v",
    "wrong_reg_factor": "your {name} uses reg * W for the regularization gradient; the "
                        "derivative of reg * ||W||^2 is 2 * reg * W",
    "bias_not_summed": "your {name} has one row per example: sum it over the batch (axis 0) "
                       "so it has the shape of the bias",
    "wrong_shape": "your {name} has the wrong shape: a gradient has exactly the shape of the "
                   "variable it differentiates",
}


def describe(mistake: str, name: str, batch_size: int | None = None) -> str:
    """The sentence feedback shows for `mistake` in output `name`, e.g.
    "your dW looks like the transpose of the right one"."""
    if mistake not in _PHRASES:
        raise ValueError(f"unknown mistake {mistake!r}; expected one of {MISTAKES}")
    return _PHRASES[mistake].format(name=name, N=batch_size if batch_size else "N")
