"""Random inputs the student never saw, well scaled and kept away from every kink.

Every graded function is checked on inputs drawn here from the task's rng (seeded by the
grader from --seed and the student id). "Kink-free" means: a numerical gradient with
h = 1e-5 never crosses a point where the function is not differentiable, so a correct
submission can never fail from a kink:

- ReLU-type inputs (relu, leaky ReLU, ELU, MLP pre-activations Z^l): |x| >= GAP;
- max branches (MaxGate, maxout): |x - y| >= GAP;
- hinge margins (SVM): |s_j - s_{y_i} + 1| >= GAP for every j != y_i;

with GAP = 1e-2 (1000 times h; a perturbation of one entry by h moves any value here by
at most h * max|weight| << GAP). Weights are Xavier-like, std sqrt(2 / (fan_in + fan_out)).
"""
from __future__ import annotations

from typing import Callable, TypeVar

import numpy as np

GAP = 1e-2
MAX_TRIES = 2000
T = TypeVar("T")


def normal(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    """float64 normal samples of `shape` with std `scale`."""
    return scale * rng.standard_normal(shape)


def away_from(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0,
              kink: float = 0.0, gap: float = GAP) -> np.ndarray:
    """Normal samples (std `scale`) redrawn until every |x - kink| >= gap."""
    x = kink + normal(rng, shape, scale)
    for _ in range(MAX_TRIES):
        bad = np.abs(x - kink) < gap
        if not bad.any():
            return x
        x[bad] = kink + normal(rng, (int(bad.sum()),), scale)
    raise RuntimeError("could not draw inputs away from the kink")  # pragma: no cover


def uniform_magnitude(rng: np.random.Generator, shape: tuple[int, ...], low: float, high: float,
                      signed: bool = True) -> np.ndarray:
    """|x| uniform in [low, high], with a random sign when `signed`."""
    x = rng.uniform(low, high, shape)
    if signed:
        x *= rng.choice([-1.0, 1.0], size=shape)
    return x


def xavier(rng: np.random.Generator, fan_out: int, fan_in: int) -> np.ndarray:
    """A weight matrix of shape (fan_out, fan_in), std sqrt(2 / (fan_in + fan_out))."""
    return normal(rng, (fan_out, fan_in), np.sqrt(2.0 / (fan_in + fan_out)))


def labels(rng: np.random.Generator, N: int, C: int) -> np.ndarray:
    """int64 labels of shape (N,) in [0, C)."""
    return rng.integers(0, C, size=N).astype(np.int64)


def hinge_safe(scores: np.ndarray, y: np.ndarray, gap: float = GAP) -> bool:
    """True when every margin s_j - s_{y_i} + 1 (j != y_i) is at least `gap` from 0."""
    N = scores.shape[0]
    margins = scores - scores[np.arange(N), y][:, None] + 1.0
    margins[np.arange(N), y] = np.inf
    return bool(np.all(np.abs(margins) >= gap))


def redraw_until(draw: Callable[[], T], ok: Callable[[T], bool]) -> T:
    """`draw()` again until `ok` holds (for conditions on a whole draw, e.g. all Z^l of a net)."""
    for _ in range(MAX_TRIES):
        value = draw()
        if ok(value):
            return value
    raise RuntimeError("could not draw kink-free inputs")  # pragma: no cover


def hinge_scores(rng: np.random.Generator, N: int, C: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """SVM scores of shape (N, C) and labels (N,), every margin >= GAP from the hinge."""
    return redraw_until(lambda: (normal(rng, (N, C), scale), labels(rng, N, C)),
                        lambda pair: hinge_safe(*pair))
