# Generated for a1_gates from backprop_lib/validate.py by `make notebooks (python -m courseware build)`: do not edit; edit the library and regenerate.
"""Input validation shared by the library: small checks that raise a clear `ValueError`.

A helper module (every assignment may import it, it imports nothing graded). Every message
names the argument that was wrong and says what was expected, e.g.
``ValueError: W must have shape (M, 3) to match x, got (4, 2)``.

Functions (each returns the value it checked, so calls chain):
    as_float_array(x, name)                  -> float ndarray (float64 unless already float32/64)
    check_ndim(x, ndim, name)                -> x
    check_shape(x, shape, name)              -> x            (None in `shape` matches any size)
    check_same_shape(a, b, name_a, name_b)   -> a
    check_grad_shape(grad, like, name)       -> grad         (a gradient has the shape of its variable;
                                                              raises GradShapeError, a ValueError
                                                              carrying name / got / expected)
    check_labels(y, num_classes, name="y", num_examples=None) -> int64 ndarray of shape (N,)
    check_choice(value, options, name)       -> value        (unknown activation / loss / init names)
    check_positive(value, name), check_nonnegative(value, name) -> float
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "as_float_array",
    "check_ndim",
    "check_shape",
    "check_same_shape",
    "check_grad_shape",
    "GradShapeError",
    "check_labels",
    "check_choice",
    "check_positive",
    "check_nonnegative",
]


def _fmt_shape(shape: Iterable[Any]) -> str:
    """(2, None) -> '(2, *)'; (3,) -> '(3,)'."""
    parts = ["*" if s is None else str(s) for s in shape]
    return "(" + parts[0] + ",)" if len(parts) == 1 else "(" + ", ".join(parts) + ")"


def as_float_array(x: Any, name: str) -> np.ndarray:
    """Return `x` as a floating-point array, without copying when it already is one.

    float32 and float64 arrays keep their dtype; integers, booleans, Python floats and lists
    become float64.

    Raises:
        ValueError: when `x` is not numeric (strings, None, objects, complex numbers, ragged lists).
    """
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ValueError(f"{name} must be a numeric array, got {type(x).__name__} ({exc})") from None
    if arr.dtype in (np.float32, np.float64):
        return arr
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64)
    raise ValueError(
        f"{name} must be a real numeric array, got dtype {arr.dtype} (from {type(x).__name__})"
    )


def check_ndim(x: np.ndarray, ndim: int | tuple[int, ...], name: str) -> np.ndarray:
    """Check that `x` has `ndim` dimensions (or one of several, when `ndim` is a tuple)."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if np.ndim(x) not in allowed:
        want = " or ".join(str(d) for d in allowed)
        raise ValueError(
            f"{name} must have {want} dimension(s), got {np.ndim(x)} (shape {_fmt_shape(np.shape(x))})"
        )
    return x


def check_shape(x: np.ndarray, shape: tuple[int | None, ...], name: str, hint: str = "") -> np.ndarray:
    """Check that `x` has exactly `shape`; a `None` entry matches any size.

    Args:
        x: the array to check.
        shape: the expected shape, e.g. ``(None, 3)`` for "N rows of 3".
        name: the argument's name, used in the message.
        hint: optional tail of the message, e.g. ``"to match x"``.
    """
    got = np.shape(x)
    ok = len(got) == len(shape) and all(s is None or s == g for s, g in zip(shape, got))
    if not ok:
        tail = f" {hint}" if hint else ""
        raise ValueError(f"{name} must have shape {_fmt_shape(shape)}{tail}, got {_fmt_shape(got)}")
    return x


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> np.ndarray:
    """Check that `a` and `b` have the same shape (e.g. `pred` and `target`, `dout` and `out`)."""
    if np.shape(a) != np.shape(b):
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, "
            f"got {_fmt_shape(np.shape(a))} and {_fmt_shape(np.shape(b))}"
        )
    return a


class GradShapeError(ValueError):
    """A gradient whose shape is not its variable's; the shapes travel as data.

    Attributes:
        name: the gradient's name, e.g. ``"dW"`` or ``"db2"``.
        got: the gradient's shape (tuple of ints).
        expected: the variable's shape (tuple of ints).
    """

    def __init__(self, name: str, got: tuple[int, ...], expected: tuple[int, ...]):
        self.name, self.got, self.expected = str(name), tuple(got), tuple(expected)
        super().__init__(
            f"{self.name} has shape {_fmt_shape(self.got)} but must have the shape of the variable "
            f"it differentiates, {_fmt_shape(self.expected)}"
        )


def check_grad_shape(grad: Any, like: Any, name: str) -> Any:
    """Check that a gradient has exactly the shape of the variable it differentiates.

    Used on what a backward pass returns, so a missing transpose or an unsummed bias
    gradient is named at once rather than surfacing three layers later. The one shape check
    of every backward in the library (layers and mlp).

    Raises:
        GradShapeError: (a ValueError) with the name and both shapes as attributes.
    """
    if np.shape(grad) != np.shape(like):
        raise GradShapeError(name, np.shape(grad), np.shape(like))
    return grad


def check_labels(y: Any, num_classes: int, name: str = "y", num_examples: int | None = None) -> np.ndarray:
    """Check class labels: integer dtype, 1-D, length N (when given), every label in [0, C).

    Args:
        y: labels, of shape (N,).
        num_classes: C, the number of classes (columns of the scores).
        name: the argument's name, used in the message.
        num_examples: N, the number of rows of the scores, or None to skip the length check.

    Returns:
        `y` as an int64 array of shape (N,).
    """
    arr = np.asarray(y)
    if arr.dtype.kind not in "iu":
        raise ValueError(
            f"{name} must hold integer class labels, got dtype {arr.dtype} "
            f"(convert with {name}.astype(int) if the values are whole numbers)"
        )
    check_ndim(arr, 1, name)
    if num_examples is not None and arr.shape[0] != num_examples:
        raise ValueError(f"{name} must have one label per example, {num_examples}, got {arr.shape[0]}")
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(
            f"{name} must hold labels in [0, {num_classes}), got values from {arr.min()} to {arr.max()}"
        )
    return arr.astype(np.int64, copy=False)


def check_choice(value: Any, options: Iterable[str], name: str) -> Any:
    """Check that `value` is one of `options` (e.g. an activation, loss or init name)."""
    options = list(options)
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"unknown {name} {value!r}; choose one of: {', '.join(map(repr, options))}")
    return value


def _as_real_scalar(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_positive(value: Any, name: str) -> float:
    """Check that `value` is a finite real number > 0 (a learning rate, a step h, a norm bound)."""
    value = _as_real_scalar(value, name)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_nonnegative(value: Any, name: str) -> float:
    """Check that `value` is a finite real number >= 0 (a regularization strength, a momentum)."""
    value = _as_real_scalar(value, name)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value
