# Generated for a3_mlp from backprop_lib/gradcheck.py by `make notebooks (python -m courseware build)`: do not edit; edit the library and regenerate.
"""Numerical gradients and gradient checks (assignment 2).

Centered differences, the lecture's "numerical gradient":
    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2 h),  h = 1e-5,
with error O(h^2) from the Taylor series plus about eps * |f| / h from rounding (float64).

Graded in a2: `numerical_gradient`, `numerical_gradient_array`. Given: `rel_error`,
`norm_rel_error` (defined once in `backprop_lib.checks`, re-exported here).

Cheap checks (not graded; for the grader, tests and TAs):
    check_random_coordinates(f, x, analytic)            a few coordinates of a scalar f
    check_random_coordinates_array(f, x, dout, analytic)  same, for array-valued f and upstream dout
    check_random_directions(f, x, analytic)             (f(x + h u) - f(x - h u)) / 2h  vs  <analytic, u>
    check_random_directions_array(f, x, dout, analytic) same with <dout, f(x +- h u)>, i.e. v^T J u
Each returns the largest relative error |num - ana| / max(|num| + |ana|, floor) over its
samples. A full numerical gradient costs 2 evaluations per entry of x; a direction check costs
2 per direction whatever the size of x, and catches a wrong entry anywhere in x.

Tolerances (float64, well-scaled inputs: Xavier / He init, values at least ~1e-3 away from
kinks of ReLU / max / hinge, h = 1e-5):
    DISPLAY_TOL = 1e-7   rel_error (elementwise max) printed by the notebooks: below it, "correct";
                         1e-7..1e-4 is typical near a kink or for a tiny gradient entry, so
                         notebooks say "check for kinks" rather than "wrong".
    NORM_TOL    = 1e-6   norm_rel_error(analytic, numerical) of a whole gradient: checks that must
                         not flake (a correct gradient is ~1e-10; a wrong one ~1e-1 or more). The
                         grader's own constants (autograder/checks/core.py: TOL_GRAD = 1e-6 with
                         floor 1e-2 for gradients, TOL_VALUE = 1e-7 for forward values) match it.
    SPOT_TOL    = 1e-5   check_random_coordinates / check_random_directions. Pass `floor` as a
                         small fraction of the gradient's scale, e.g. 1e-6 * (||analytic|| + 1), so
                         a coordinate or direction along which the derivative is ~0 does not turn
                         rounding noise into a failure (the default 1e-8 only guards exact zeros).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .checks import norm_rel_error, rel_error
from .validate import as_float_array, check_positive, check_same_shape

__all__ = [
    "numerical_gradient",
    "numerical_gradient_array",
    "rel_error",
    "norm_rel_error",
    "check_random_coordinates",
    "check_random_coordinates_array",
    "check_random_directions",
    "check_random_directions_array",
    "DISPLAY_TOL",
    "NORM_TOL",
    "SPOT_TOL",
]

DISPLAY_TOL = 1e-7
NORM_TOL = 1e-6
SPOT_TOL = 1e-5

RngLike = np.random.Generator | int | None


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centered-difference gradient of a scalar function f at x.

    Perturbs `x` IN PLACE, one entry at a time (so `f` may ignore its argument and read
    `x` from a closure), and restores every entry, also when `f` raises.

    Args:
        f: scalar function of x (returns a float or a 0-d array).
        x: point, a float ndarray of any shape (float64 for checks).
        h: step size, > 0.

    Returns:
        grad of the shape of x, grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h).
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError(f"x must be a float numpy array (it is perturbed in place), got {type(x).__name__}"
                         + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else ""))
    h = check_positive(h, "h")
    # TASK: for each index ix (np.nditer with multi_index): grad[ix] = (f(x with x[ix]+h) - f(x with x[ix]-h)) / (2h), then restore x[ix].
    ### BEGIN SOLUTION
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        try:
            x[ix] = old + h
            f_plus = float(f(x))
            x[ix] = old - h
            f_minus = float(f(x))
        finally:
            x[ix] = old
        grad[ix] = (f_plus - f_minus) / (2 * h)
        it.iternext()
    ### END SOLUTION
    return grad


def numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray,
                             h: float = 1e-5) -> np.ndarray:
    """Numerical gradient of L = sum(f(x) * dout) for an array-valued f (a layer's forward).

    This is v^T J with v = dout, the vector-Jacobian product that a backward pass computes.
    Perturbs `x` in place and restores it, like `numerical_gradient`.

    Args:
        f: function of x returning an array of the shape of dout.
        x: point, a float ndarray of any shape.
        dout: upstream gradient, of the shape of f(x).
        h: step size, > 0.

    Returns:
        grad of the shape of x, grad[i] = sum((f(x + h e_i) - f(x - h e_i)) * dout) / (2 h).
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError(f"x must be a float numpy array (it is perturbed in place), got {type(x).__name__}"
                         + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else ""))
    h = check_positive(h, "h")
    dout = as_float_array(dout, "dout")
    check_same_shape(dout, np.asarray(f(x)), "dout", "f(x)")
    # TASK: for each index ix: grad[ix] = sum((f(x with x[ix]+h) - f(x with x[ix]-h)) * dout) / (2h); copy f's outputs, restore x[ix].
    ### BEGIN SOLUTION
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        try:
            x[ix] = old + h
            out_plus = np.array(f(x), dtype=np.float64)   # a copy: f may return a view of x
            x[ix] = old - h
            out_minus = np.array(f(x), dtype=np.float64)
        finally:
            x[ix] = old
        grad[ix] = np.sum((out_plus - out_minus) * dout) / (2 * h)
        it.iternext()
    ### END SOLUTION
    return grad


# ----------------------------------------------------------------------------- cheap checks
def _perturbable(x: Any) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError(f"x must be a float numpy array (it is perturbed in place), got {type(x).__name__}")
    return x


def _spot_error(num: float, ana: float, floor: float) -> float:
    return abs(num - ana) / max(abs(num) + abs(ana), floor)


def _scalar_of(f: Callable, dout: np.ndarray | None) -> Callable[[np.ndarray], float]:
    """f itself when dout is None, else x -> sum(f(x) * dout) (copying f's output first)."""
    if dout is None:
        return lambda x: float(f(x))
    return lambda x: float(np.sum(np.array(f(x), dtype=np.float64) * dout))


def _check_coordinates(g: Callable, x: np.ndarray, analytic: Any, num_checks: int, h: float,
                       rng: RngLike, floor: float) -> float:
    x = _perturbable(x)
    analytic = check_same_shape(as_float_array(analytic, "analytic"), x, "analytic", "x")
    h = check_positive(h, "h")
    if x.size == 0:
        return 0.0
    rng = np.random.default_rng(rng)
    worst = 0.0
    for flat in rng.choice(x.size, size=min(int(num_checks), x.size), replace=False):
        ix = np.unravel_index(flat, x.shape)
        old = x[ix]
        try:
            x[ix] = old + h
            f_plus = g(x)
            x[ix] = old - h
            f_minus = g(x)
        finally:
            x[ix] = old
        worst = max(worst, _spot_error((f_plus - f_minus) / (2 * h), float(analytic[ix]), floor))
    return worst


def _check_directions(g: Callable, x: np.ndarray, analytic: Any, num_dirs: int, h: float,
                      rng: RngLike, floor: float) -> float:
    x = _perturbable(x)
    analytic = check_same_shape(as_float_array(analytic, "analytic"), x, "analytic", "x")
    h = check_positive(h, "h")
    if x.size == 0:
        return 0.0
    rng = np.random.default_rng(rng)
    saved = x.copy()
    worst = 0.0
    for _ in range(int(num_dirs)):
        u = rng.standard_normal(x.shape)
        u /= np.linalg.norm(u)
        try:
            x += h * u
            f_plus = g(x)
            x[...] = saved - h * u
            f_minus = g(x)
        finally:
            x[...] = saved
        worst = max(worst, _spot_error((f_plus - f_minus) / (2 * h), float(np.sum(analytic * u)), floor))
    return worst


def check_random_coordinates(f: Callable[[np.ndarray], float], x: np.ndarray, analytic: np.ndarray,
                             num_checks: int = 10, h: float = 1e-5, rng: RngLike = None,
                             floor: float = 1e-8) -> float:
    """Compare `analytic` with centered differences of a scalar f at `num_checks` random entries.

    Args:
        f: scalar function of x; x is perturbed in place and restored.
        x: float ndarray of any shape.
        analytic: the gradient to check, of the shape of x.
        num_checks: how many distinct entries (all of them if x is smaller).
        rng: a Generator, a seed, or None.
        floor: lower bound of each relative error's denominator.

    Returns:
        max over the entries of |num - ana| / max(|num| + |ana|, floor).
    """
    return _check_coordinates(_scalar_of(f, None), x, analytic, num_checks, h, rng, floor)


def check_random_coordinates_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray,
                                   analytic: np.ndarray, num_checks: int = 10, h: float = 1e-5,
                                   rng: RngLike = None, floor: float = 1e-8) -> float:
    """`check_random_coordinates` for an array-valued f with upstream `dout` (L = sum(f(x) * dout))."""
    dout = check_same_shape(as_float_array(dout, "dout"), np.asarray(f(_perturbable(x))), "dout", "f(x)")
    return _check_coordinates(_scalar_of(f, dout), x, analytic, num_checks, h, rng, floor)


def check_random_directions(f: Callable[[np.ndarray], float], x: np.ndarray, analytic: np.ndarray,
                            num_dirs: int = 3, h: float = 1e-5, rng: RngLike = None,
                            floor: float = 1e-8) -> float:
    """Compare <analytic, u> with (f(x + h u) - f(x - h u)) / (2 h) along random unit directions u.

    Args:
        f: scalar function of x; x is moved in place and restored exactly.
        x: float ndarray of any shape.
        analytic: the gradient to check, of the shape of x.
        num_dirs: how many random directions (each costs two evaluations of f).
        rng: a Generator, a seed, or None.
        floor: lower bound of each relative error's denominator.

    Returns:
        max over the directions of |num - <analytic, u>| / max(|num| + |<analytic, u>|, floor).
    """
    return _check_directions(_scalar_of(f, None), x, analytic, num_dirs, h, rng, floor)


def check_random_directions_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray,
                                  analytic: np.ndarray, num_dirs: int = 3, h: float = 1e-5,
                                  rng: RngLike = None, floor: float = 1e-8) -> float:
    """`check_random_directions` for an array-valued f: v^T J u with v = dout against <analytic, u>."""
    dout = check_same_shape(as_float_array(dout, "dout"), np.asarray(f(_perturbable(x))), "dout", "f(x)")
    return _check_directions(_scalar_of(f, dout), x, analytic, num_dirs, h, rng, floor)
