"""Minibatch SGD and SGD with momentum (assignment 4), and a small training loop.

The lecture's rules, for one parameter ``w`` with gradient ``dw``::

    SGD:       w <- w - learning_rate * dw
    momentum:  v <- dw + momentum * v          (v starts as zeros)
               w <- w - learning_rate * v

Each update rule has the signature ``rule(w, dw, config) -> (next_w, config)``: ``config`` is a
dict with the hyperparameters and the rule's state (the velocity); missing keys get their
defaults. The rules never modify ``w``, ``dw`` or the caller's ``config``: they return a new
array and a new dict, so the caller keeps one config per parameter and passes it back next step.
They write ``w - learning_rate * v`` as ``-learning_rate * v + w``: the same numbers, bit for
bit, but numpy then adds ``w`` into the temporary product, still in cache, instead of writing a
third array (it reuses a temporary only when it is an operand it may overwrite, and for ``-``
only the left one): 13 % of the momentum update of the benchmark's 784-256-128-10 MLP
(``benchmarks/mlp_speed.py``).

Also here: ``minibatches`` (one epoch of shuffled batches), the ill-conditioned 2-D quadratic
on which momentum's path is easy to see (``momentum_paths``), and ``train``, which records per
step the loss and the per-layer gradient norms ``||dW^l||`` and per epoch the accuracies.
``train`` computes the norms itself: this module must not import ``diagnostics``
(assignment 5 grades that module).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from .mlp import mlp_forward, mlp_loss, num_layers
from .validate import as_float_array, check_choice, check_nonnegative, check_positive

DEFAULTS: dict[str, float] = {"learning_rate": 1e-2, "momentum": 0.9}


def _config_with_defaults(config: dict | None, keys: tuple[str, ...]) -> dict:
    """A new dict: a shallow copy of ``config`` with the defaults of ``keys`` filled in.

    Raises:
        ValueError: config not a dict; learning_rate not > 0; momentum negative.
    """
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise ValueError(f"config must be a dict or None, got {type(config).__name__}")
    config = dict(config)
    for key in keys:
        config.setdefault(key, DEFAULTS[key])
    check_positive(config["learning_rate"], "config['learning_rate']")
    if "momentum" in keys:
        check_nonnegative(config["momentum"], "config['momentum']")
    return config


def _check_update_args(w, dw) -> tuple[np.ndarray, np.ndarray]:
    """``w`` and ``dw`` as float arrays of one shape, else ValueError."""
    w = as_float_array(w, "w")
    dw = as_float_array(dw, "dw")
    if w.shape != dw.shape:
        raise ValueError(f"dw must have the shape of w, {w.shape}, got {dw.shape}")
    return w, dw


def sgd(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Vanilla (minibatch) SGD: ``w <- w - learning_rate * dw``.

    Args:
        w: a parameter array, of any shape.
        dw: its gradient, of the same shape.
        config: ``{"learning_rate": float}`` (default 1e-2), or None.

    Returns:
        (next_w, config): next_w a new array of w's shape; config a new dict with the defaults.
    """
    w, dw = _check_update_args(w, dw)
    config = _config_with_defaults(config, ("learning_rate",))
    # TASK: take one step against the gradient, next_w = w - learning_rate * dw (a new array).
    ### BEGIN SOLUTION
    next_w = -config["learning_rate"] * dw + w  # = w - lr * dw, the product first so numpy can reuse its temporary
    ### END SOLUTION
    return next_w, config


def sgd_momentum(w: np.ndarray, dw: np.ndarray, config: dict | None = None
                 ) -> tuple[np.ndarray, dict]:
    """SGD with momentum, the lecture's rule: ``v <- dw + momentum * v``, ``w <- w - lr * v``.

    Args:
        w: a parameter array, of any shape.
        dw: its gradient, of the same shape.
        config: dict with ``learning_rate`` (default 1e-2), ``momentum`` (default 0.9) and
            ``velocity`` (an array of w's shape; zeros when missing), or None.

    Returns:
        (next_w, config): next_w a new array of w's shape; config a new dict whose
        ``velocity`` is the updated v (a new array: the caller's velocity is not modified).
    """
    w, dw = _check_update_args(w, dw)
    config = _config_with_defaults(config, ("learning_rate", "momentum"))
    v = config.get("velocity")
    if v is None:
        v = np.zeros_like(w)
    elif np.shape(v) != w.shape:
        raise ValueError(f"config['velocity'] must have the shape of w, {w.shape}, got {np.shape(v)}")
    # TASK: update the velocity first, v = dw + momentum * v, then step next_w = w - learning_rate * v; store v in config["velocity"].
    ### BEGIN SOLUTION
    v = dw + config["momentum"] * v
    next_w = -config["learning_rate"] * v + w  # = w - lr * v, the product first so numpy can reuse its temporary
    config["velocity"] = v
    ### END SOLUTION
    return next_w, config


UPDATE_RULES: dict[str, Callable] = {"sgd": sgd, "sgd_momentum": sgd_momentum}


def minibatches(X: np.ndarray, y: np.ndarray, batch_size: int,
                rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of shuffled minibatches.

    The rule (the grader compares against it exactly): draw ``order = rng.permutation(N)``
    once, then yield ``(X[order[k:k + batch_size]], y[order[k:k + batch_size]])`` for
    ``k = 0, batch_size, 2 * batch_size, ...``; the last batch holds the ``N % batch_size``
    leftover examples when ``batch_size`` does not divide ``N``. Every example appears exactly
    once. (A generator: the arguments are checked when iteration starts.)

    Args:
        X: inputs of shape (N, D).
        y: labels of shape (N,) (or targets of shape (N, K)).
        batch_size: B >= 1 (a B larger than N gives one batch of all N).
        rng: a ``np.random.Generator``.

    Yields:
        X_batch of shape (B, D), y_batch of shape (B,) (the last batch may be smaller).
    """
    if np.ndim(X) < 1 or np.ndim(y) < 1 or np.shape(X)[0] != np.shape(y)[0]:
        raise ValueError(f"X and y must have the same number of rows, got shapes "
                         f"{np.shape(X)} and {np.shape(y)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    N = np.shape(X)[0]
    # TASK: shuffle once with order = rng.permutation(N), then yield X[idx], y[idx] for idx = order[k:k + batch_size], k = 0, batch_size, ...
    ### BEGIN SOLUTION
    order = rng.permutation(N)
    for start in range(0, N, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
    ### END SOLUTION


# ----------------------------------------------------------------------------------------
# An ill-conditioned 2-D quadratic: where plain SGD zig-zags and momentum gets through.
# ----------------------------------------------------------------------------------------

def quadratic_loss(w: np.ndarray, curvatures: tuple[float, float] = (1.0, 25.0)) -> np.ndarray:
    """The bowl ``f(w) = 0.5 * (a * w_0^2 + b * w_1^2)`` with ``(a, b) = curvatures``.

    Its condition number is ``b / a`` (25 by default): steep across, shallow along.

    Args:
        w: points of shape (..., 2) (one point, a path of shape (T, 2), or a grid (H, W, 2)).
        curvatures: (a, b), both > 0.

    Returns:
        f of shape w.shape[:-1].
    """
    w = as_float_array(w, "w")
    if w.shape[-1:] != (2,):
        raise ValueError(f"w must have shape (..., 2), got {w.shape}")
    a, b = curvatures
    return 0.5 * (a * w[..., 0] ** 2 + b * w[..., 1] ** 2)


def quadratic_grad(w: np.ndarray, curvatures: tuple[float, float] = (1.0, 25.0)) -> np.ndarray:
    """Gradient of ``quadratic_loss``: ``(a * w_0, b * w_1)``, of the shape of ``w``."""
    w = as_float_array(w, "w")
    return w * np.asarray(curvatures, dtype=w.dtype)


def momentum_paths(momenta: tuple[float, ...] = (0.0, 0.9, 0.99), steps: int = 100,
                   learning_rate: float = 0.02, start: tuple[float, float] = (-4.0, 1.5),
                   curvatures: tuple[float, float] = (1.0, 25.0)) -> dict[float, np.ndarray]:
    """Run ``sgd_momentum`` on ``quadratic_loss`` from ``start`` once per momentum value.

    Momentum 0 is plain gradient descent: with learning_rate 0.02 it crawls along the shallow
    w_0 axis (each step shrinks w_0 by only 2 %), while momentum 0.9 builds up speed there.

    Args:
        momenta: the momentum values to compare (each in [0, 1)).
        steps: number of update steps T.
        learning_rate: step size (keep ``learning_rate * max(curvatures) < 2``).
        start: the starting point w(0).
        curvatures: (a, b) of the quadratic.

    Returns:
        {momentum: path of shape (T + 1, 2)}, row t the point after t steps (row 0 = start).
        The loss along a path is ``quadratic_loss(path, curvatures)``, of shape (T + 1,).
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    paths = {}
    for momentum in momenta:
        w = np.array(start, dtype=np.float64)
        config = {"learning_rate": learning_rate, "momentum": momentum}
        path = [w]
        for _ in range(steps):
            w, config = sgd_momentum(w, quadratic_grad(w, curvatures), config)
            path.append(w)
        paths[momentum] = np.array(path)
    return paths


# ----------------------------------------------------------------------------------------
# Training an MLP with minibatches.
# ----------------------------------------------------------------------------------------

def predict(params: dict[str, np.ndarray], X: np.ndarray, activation: str = "sigmoid") -> np.ndarray:
    """Predicted class of each row: the argmax of the network's scores, of shape (N,), int64."""
    scores, _ = mlp_forward(params, X, activation=activation)
    return np.argmax(scores, axis=1).astype(np.int64)


def accuracy(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray,
             activation: str = "sigmoid") -> float:
    """Fraction of rows of X (shape (N, D)) whose predicted class equals y (shape (N,))."""
    return float(np.mean(predict(params, X, activation) == np.asarray(y)))


def train(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, *,
          X_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
          update: str = "sgd_momentum", config: dict | None = None, epochs: int = 10,
          batch_size: int = 64, activation: str = "relu", loss: str = "softmax",
          reg: float = 0.0, seed: int | None = 0,
          grad_hook: Callable[[dict], dict] | None = None) -> dict:
    """Train an MLP by minibatch SGD (or momentum) and record what the plots need.

    Each parameter gets its own copy of ``config`` (so its own velocity). The caller's
    ``params`` are not modified; the trained ones are ``history["params"]``. Training stops
    early when the loss becomes inf / nan (the remaining steps are recorded as nan).

    Args:
        params: ``{"W1", "b1", ..., "WL", "bL"}`` as from ``init_mlp``.
        X, y: training inputs of shape (N, D) and labels of shape (N,).
        X_val, y_val: optional validation set, recorded per epoch.
        update: ``"sgd"`` or ``"sgd_momentum"``.
        config: hyperparameters of the update (``learning_rate``, ``momentum``).
        epochs, batch_size: passes over the data and rows per step.
        activation, loss, reg: as in ``mlp_loss``.
        seed: seed of the generator that shuffles the minibatches.
        grad_hook: optional ``grads -> grads`` applied after the norms are recorded and before
            the update (e.g. ``lambda g: clip_gradients(g, 5.0)``).

    Returns:
        history with ``"loss"`` of shape (steps,), ``"grad_norms"`` of shape (steps, L)
        (``||dW^l||`` of the raw gradient, column l-1 for layer l), ``"train_acc"`` and
        ``"val_acc"`` of shape (epochs,) (val_acc empty without a validation set),
        ``"steps_per_epoch"``, ``"diverged"`` (bool) and ``"params"``; steps =
        epochs * ceil(N / batch_size).
    """
    rule = UPDATE_RULES[check_choice(update, UPDATE_RULES, "update")]
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if (X_val is None) != (y_val is None):
        raise ValueError("give both X_val and y_val, or neither")
    L = num_layers(params)
    X, y = as_float_array(X, "X"), np.asarray(y)
    params = {name: value.copy() for name, value in params.items()}
    configs = {name: dict(config or {}) for name in params}
    rng = np.random.default_rng(seed)
    steps_per_epoch = -(-X.shape[0] // batch_size)
    total = epochs * steps_per_epoch
    losses = np.full(total, np.nan)
    grad_norms = np.full((total, L), np.nan)
    train_acc, val_acc = [], []
    step, diverged = 0, False
    for _ in range(epochs):
        for X_batch, y_batch in minibatches(X, y, batch_size, rng):
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging run ends below
                batch_loss, grads = mlp_loss(params, X_batch, y_batch, activation=activation,
                                             loss=loss, reg=reg)
                grad_norms[step] = [np.linalg.norm(grads[f"W{l}"]) for l in range(1, L + 1)]
            losses[step] = batch_loss
            step += 1
            if not np.isfinite(batch_loss):
                diverged = True
                break
            if grad_hook is not None:
                grads = grad_hook(grads)
            for name in params:
                params[name], configs[name] = rule(params[name], grads[name], configs[name])
        if diverged:
            break
        if loss != "mse":
            train_acc.append(accuracy(params, X, y, activation))
            if X_val is not None:
                val_acc.append(accuracy(params, X_val, y_val, activation))
    return {"loss": losses, "grad_norms": grad_norms, "train_acc": np.array(train_acc),
            "val_acc": np.array(val_acc), "steps_per_epoch": steps_per_epoch,
            "diverged": diverged, "params": params}
