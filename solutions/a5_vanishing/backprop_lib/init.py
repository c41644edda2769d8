# Generated for a5_vanishing from backprop_lib/init.py by `make notebooks (python -m courseware build)`: do not edit; edit the library and regenerate.
"""Weight initialization (assignment 3): how the scale of W^l decides whether signals and
gradients survive many layers.

A dense layer's ``W^l`` has shape ``(n_l, n_{l-1})`` (rows = units of layer l), so
``fan_in = n_{l-1} = shape[1]`` and ``fan_out = n_l = shape[0]``. Every scheme draws from a
zero-mean normal distribution; only the standard deviation differs:

=========  ===============================  ==========================================
scheme     std                              what it does in a deep net
=========  ===============================  ==========================================
small      0.01                             activations and gradients shrink to zero
xavier     sqrt(2 / (fan_in + fan_out))     keeps variance for tanh / sigmoid (Glorot)
he         sqrt(2 / fan_in)                 keeps variance for ReLU (half the units are off)
large      1.0                              saturates sigmoid / tanh, explodes with ReLU
float s    s                                any other std the caller wants
=========  ===============================  ==========================================
"""
from __future__ import annotations

import numpy as np

SCHEMES: tuple[str, ...] = ("small", "xavier", "he", "large")


def check_scheme(scheme) -> str | float:
    """Return ``scheme`` if it names a scheme of ``SCHEMES`` or is a positive finite float std.

    Raises:
        ValueError: naming the unknown scheme (or the non-positive std).
    """
    if isinstance(scheme, str):
        if scheme not in SCHEMES:
            raise ValueError(
                f"unknown init scheme {scheme!r}; choose one of: "
                f"{', '.join(map(repr, SCHEMES))}, or a positive float std")
        return scheme
    if isinstance(scheme, bool) or not isinstance(scheme, (int, float, np.integer, np.floating)):
        raise ValueError(f"init scheme must be a name or a float std, got {scheme!r}")
    if not np.isfinite(scheme) or scheme <= 0:
        raise ValueError(f"init std must be a positive finite number, got {scheme!r}")
    return float(scheme)


def init_weights(shape: tuple[int, int], scheme: str | float,
                 rng: np.random.Generator) -> np.ndarray:
    """Draw one layer's weights ``W`` of shape ``(n_l, n_{l-1})`` from N(0, std^2).

    Args:
        shape: ``(fan_out, fan_in) = (n_l, n_{l-1})``.
        scheme: ``"small"`` (std 0.01), ``"xavier"`` (std sqrt(2 / (fan_in + fan_out))),
            ``"he"`` (std sqrt(2 / fan_in)), ``"large"`` (std 1.0), or a positive float std.
        rng: a ``np.random.Generator``; the draw is ``std * rng.standard_normal(shape)``.

    Returns:
        W of shape ``shape``, float64.
    """
    if (not isinstance(shape, (tuple, list)) or len(shape) != 2
            or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0
                       for s in shape)):
        raise ValueError(f"shape must be a pair of positive ints (n_l, n_(l-1)), got {shape!r}")
    scheme = check_scheme(scheme)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator (np.random.default_rng(seed)), "
                         f"got {type(rng).__name__}")
    fan_out, fan_in = int(shape[0]), int(shape[1])
    # TASK: pick std by scheme (small 0.01, xavier sqrt(2/(fan_in+fan_out)), he sqrt(2/fan_in), large 1.0, float = std), return std * rng.standard_normal(shape).
    ### BEGIN SOLUTION
    if scheme == "small":
        std = 0.01
    elif scheme == "xavier":
        std = np.sqrt(2.0 / (fan_in + fan_out))
    elif scheme == "he":
        std = np.sqrt(2.0 / fan_in)
    elif scheme == "large":
        std = 1.0
    else:
        std = float(scheme)
    W = std * rng.standard_normal((fan_out, fan_in))
    ### END SOLUTION
    return W
