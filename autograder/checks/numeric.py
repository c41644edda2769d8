"""The grader's numbers: one relative error and one centred-difference gradient.

- `rel_error(got, want, floor)` is the library's `backprop_lib.checks.norm_rel_error`,
  ``||got - want|| / max(||got|| + ||want||, floor)`` in float64 (the notebooks' public checks
  use the same function, so a student sees the grader's metric).
- `numerical_gradient(f, x, h)` is the one centred difference the checks use,
  ``grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h)``, on a float64 copy of `x`. A caller may
  pass `batched`, the same function evaluated on a stack of perturbed copies at once (the MLP
  checks do: 2P forward passes in one numpy call instead of 2P calls). The batched values are
  used only when `batched` agrees with `f` at `x` to 1e-12 (relative); otherwise the routine
  logs a warning on the ``autograder.checks.numeric`` logger and evaluates `f` once per
  perturbation. Both paths compute the same perturbed points and the same difference, so they
  give the same numbers to the last bit when `batched` is right.
"""
from __future__ import annotations

import logging
from typing import Callable

import numpy as np

from backprop_lib.checks import norm_rel_error

H = 1e-5
"""The step of every centred difference of the grader."""

AGREE_TOL = 1e-12
"""How closely `batched` must reproduce `f` at the unperturbed point to be used."""

log = logging.getLogger(__name__)

__all__ = ["H", "rel_error", "numerical_gradient", "perturbations"]


def rel_error(got: np.ndarray, want: np.ndarray, floor: float) -> float:
    """||got - want|| / max(||got|| + ||want||, floor), in float64 (the library's norm_rel_error)."""
    return norm_rel_error(got, want, floor)


def perturbations(x: np.ndarray, h: float = H) -> np.ndarray:
    """The 2P points of a centred difference of `x` (P = x.size), stacked on a new first axis.

    Returns an array of shape (2P, *x.shape): rows 0..P-1 are x + h e_i, rows P..2P-1 are
    x - h e_i.
    """
    x = np.asarray(x, dtype=np.float64)
    steps = (h * np.eye(x.size)).reshape(x.size, *x.shape)
    return np.concatenate([x + steps, x - steps])


def _centred(values: np.ndarray, h: float, shape: tuple[int, ...]) -> np.ndarray:
    P = values.shape[0] // 2
    return ((values[:P] - values[P:]) / (2 * h)).reshape(shape)


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = H, *,
                       batched: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Centred differences of a scalar function `f` at `x` (`x` itself is never modified).

    Args:
        f: float64 array of x's shape -> float.
        x: the point, any shape.
        h: the step.
        batched: optional; an array of shape (K, *x.shape) -> K values of `f`, one per row.

    Returns:
        grad of x's shape, grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h).
    """
    x = np.array(x, dtype=np.float64)
    if batched is not None:
        want = float(f(x.copy()))
        got = float(np.asarray(batched(x[np.newaxis]), dtype=np.float64).reshape(-1)[0])
        if abs(got - want) <= AGREE_TOL * max(1.0, abs(want)):
            values = np.asarray(batched(perturbations(x, h)), dtype=np.float64).reshape(-1)
            return _centred(values, h, x.shape)
        log.warning("numerical gradient: the batched function gives %r where f gives %r at the "
                    "same point; falling back to one evaluation of f per perturbation", got, want)
    P = x.size
    values = np.empty(2 * P)
    flat = x.reshape(-1)
    for i in range(P):
        old = flat[i]
        flat[i] = old + h
        values[i] = float(f(x))
        flat[i] = old - h
        values[P + i] = float(f(x))
        flat[i] = old
    return _centred(values, h, x.shape)
