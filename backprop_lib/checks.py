"""Public checks that the notebooks call: compare, print pass / fail with the relative error.

No graded computation lives here (the grader's sandbox exposes this module to every
assignment). `rel_error` is defined here once; `backprop_lib.gradcheck` re-exports it.
"""
from __future__ import annotations

import numpy as np


def rel_error(x, y) -> float:
    """Largest elementwise relative error, max |x - y| / max(1e-8, |x| + |y|) (for display).

    Args:
        x, y: arrays (or floats) of the same shape.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def norm_rel_error(a, b, floor: float = 1e-8) -> float:
    """Norm-wise relative error ||a - b|| / max(||a|| + ||b||, floor) (for checks that must not flake).

    Args:
        a, b: arrays (or floats) of the same shape.
        floor: lower bound of the denominator, for gradients near zero.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))
