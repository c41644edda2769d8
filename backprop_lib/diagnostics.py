"""Vanishing and exploding gradients (assignment 5): measure them, show them, clip them.

Backprop through n layers multiplies n local factors, ``dx_n/dx = prod_i dx_i/dx_{i-1}``, each
roughly ``sigma'(z) * w``. The sigmoid's slope is at most 0.25 and about 0.01 where it
saturates, so the product shrinks like ``0.25^n`` or ``0.01^n`` (vanishing); a factor of 1.1
grows like ``1.1^n`` (``1.1^100 = 13780.6``, exploding).

Graded: ``layer_gradient_norms`` and ``clip_gradients``. The rest runs the experiments behind
the assignment's plots and returns plain arrays (``plots`` draws them).
"""
from __future__ import annotations

import numpy as np

from .layers import ACTIVATIONS
from .mlp import init_mlp, mlp_forward, mlp_loss
from .optim import train
from .validate import as_float_array, check_choice, check_positive

# Max of sigma'(z) per activation: the reference "slope" for the saturation statistic.
MAX_SLOPE = {"sigmoid": 0.25, "tanh": 1.0, "relu": 1.0, "leaky_relu": 1.0, "elu": 1.0,
             "identity": 1.0}
SATURATION_FRACTION = 0.1
"""A unit counts as saturated when its local slope sigma'(z) < 0.1 * max sigma'."""


def _weight_layers(grads: dict[str, np.ndarray]) -> int:
    """L, after checking that ``grads`` holds dW1 .. dWL under keys W1 .. WL."""
    if not isinstance(grads, dict):
        raise ValueError(f"grads must be a dict like {{'W1': dW1, 'b1': db1, ...}}, got {type(grads).__name__}")
    layers = sorted(int(k[1:]) for k in grads if isinstance(k, str) and k[:1] == "W" and k[1:].isdigit())
    if not layers or layers != list(range(1, len(layers) + 1)):
        raise ValueError(f"grads must hold W1 .. WL (consecutive layers), got keys {sorted(map(str, grads))}")
    return len(layers)


def layer_gradient_norms(grads: dict[str, np.ndarray]) -> np.ndarray:
    """Frobenius norm of each layer's weight gradient, ordered by layer number.

    Args:
        grads: ``{"W1": dW1, "b1": db1, ..., "WL": dWL, "bL": dbL}`` (biases are ignored).

    Returns:
        norms of shape (L,), ``norms[l - 1] = ||dW^l||_F = sqrt(sum(dW^l ** 2))``, in layer
        order 1, 2, ..., L (W10 after W9, not after W1).
    """
    L = _weight_layers(grads)
    # TASK: norms[l - 1] = sqrt(sum(dW^l ** 2)) for l = 1..L, in layer-number order (build the keys "W1".."WL", do not sort them as strings).
    ### BEGIN SOLUTION
    norms = np.array([np.sqrt(np.sum(np.asarray(grads[f"W{l}"], dtype=np.float64) ** 2))
                      for l in range(1, L + 1)])
    ### END SOLUTION
    return norms


def clip_gradients(grads: dict[str, np.ndarray], max_norm: float) -> dict[str, np.ndarray]:
    """Clip by global norm: rescale all gradients together when their joint norm is too big.

    ``total = sqrt(sum over every array g in grads (W and b) of sum(g ** 2))``; when
    ``total > max_norm`` every gradient is multiplied by ``max_norm / total`` (so the joint
    norm becomes max_norm and the direction is kept); otherwise they are returned unchanged.

    Args:
        grads: ``{"W1": dW1, "b1": db1, ...}``.
        max_norm: the largest allowed global norm, > 0.

    Returns:
        A new dict with the same keys and shapes (copies; the input is not modified).
    """
    if not isinstance(grads, dict) or not grads:
        raise ValueError("grads must be a non-empty dict of gradient arrays")
    max_norm = check_positive(max_norm, "max_norm")
    grads = {name: as_float_array(g, f"grads[{name!r}]") for name, g in grads.items()}
    # TASK: total = sqrt of the sum of squares of every array (W and b); scale = max_norm / total if total > max_norm else 1; return {name: g * scale}.
    ### BEGIN SOLUTION
    total = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values()))
    scale = float(max_norm / total) if total > max_norm else 1.0
    clipped = {name: g * scale for name, g in grads.items()}
    ### END SOLUTION
    return clipped


def global_norm(grads: dict[str, np.ndarray]) -> float:
    """sqrt of the sum of squares of every array in ``grads`` (the norm clipping bounds)."""
    return float(np.sqrt(sum(np.sum(np.asarray(g, dtype=np.float64) ** 2) for g in grads.values())))


# ----------------------------------------------------------------------------------------
# The chain product
# ----------------------------------------------------------------------------------------

def chain_product(factor: float, n: int) -> float:
    """``dx_n/dx`` when each of the n layers contributes the same factor: ``factor ** n``.

    ``chain_product(0.25, 10)`` = 9.5e-7 (sigmoid at its steepest), ``chain_product(0.01, 10)``
    = 1e-20 (saturated sigmoid), ``chain_product(1.1, 100)`` = 13780.6 (the lecture's 13781).
    """
    factor = float(as_float_array(factor, "factor"))
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    return float(np.prod(np.full(int(n), factor)))


def chain_product_curves(factors: tuple[float, ...] = (0.25, 0.01, 1.1), n: int = 100
                         ) -> dict[float, np.ndarray]:
    """``{factor: curve}`` with ``curve[k] = factor ** k`` for k = 0..n, of shape (n + 1,)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    return {float(f): np.cumprod(np.concatenate([[1.0], np.full(int(n), float(f))]))
            for f in factors}


# ----------------------------------------------------------------------------------------
# Activation statistics
# ----------------------------------------------------------------------------------------

def activation_statistics(params: dict[str, np.ndarray], X: np.ndarray,
                          activation: str = "sigmoid") -> dict[str, object]:
    """Per hidden layer: mean and std of the activations and the fraction of saturated units.

    A unit is saturated on an example when its local slope ``sigma'(z)`` is below
    ``SATURATION_FRACTION`` (0.1) times the activation's largest slope (``MAX_SLOPE``, 0.25
    for the sigmoid, 1 for the others): for the sigmoid
    ``s (1 - s) < 0.025`` (|z| > 3.6), for tanh ``1 - a^2 < 0.1`` (|a| > 0.95), for ReLU an
    inactive unit (z <= 0, slope 0).

    Args:
        params: an MLP's parameters (L layers; hidden layers are 1 .. L-1).
        X: inputs of shape (N, n_0).
        activation: the hidden layers' activation.

    Returns:
        ``{"mean": (L-1,), "std": (L-1,), "saturated": (L-1,), "activations": [A^1, ...,
        A^{L-1}]}`` with ``A^l`` of shape (N, n_l).
    """
    check_choice(activation, ACTIVATIONS, "activation")
    _, (layer_caches, _, _) = mlp_forward(params, X, activation=activation)
    _, backward = ACTIVATIONS[activation]
    hidden = [layer_caches[l][0] for l in range(1, len(layer_caches))]  # A^1 .. A^{L-1}
    saturated = []
    for l in range(1, len(layer_caches)):
        act_cache = layer_caches[l - 1][3]
        slope = backward(np.ones_like(layer_caches[l - 1][2]), act_cache)
        saturated.append(np.mean(slope < SATURATION_FRACTION * MAX_SLOPE[activation]))
    return {"mean": np.array([A.mean() for A in hidden]),
            "std": np.array([A.std() for A in hidden]),
            "saturated": np.array(saturated, dtype=np.float64),
            "activations": hidden}


# ----------------------------------------------------------------------------------------
# The experiments behind the plots
# ----------------------------------------------------------------------------------------

def _probe_batch(width: int, n_classes: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A batch of standard-normal inputs (n, width) with random labels in [0, n_classes)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, width)), rng.integers(0, n_classes, size=n)


def gradient_norms_at_init(depth: int = 20, width: int = 64, activation: str = "sigmoid",
                           init: str | float = "xavier", n_classes: int = 10, n: int = 128,
                           seed: int = 0) -> np.ndarray:
    """``||dW^l||`` of a freshly initialized net, one softmax-loss backward on a random batch.

    The net has ``depth`` layers: ``depth - 1`` hidden layers of ``width`` units with
    ``activation``, then ``n_classes`` scores; the batch is ``n`` standard-normal inputs of
    size ``width`` with random labels.

    Returns:
        norms of shape (depth,), layer 1 (next to the input) first.
    """
    X, y = _probe_batch(width, n_classes, n, seed)
    params = init_mlp([width] * depth + [n_classes], init=init, seed=seed)
    _, grads = mlp_loss(params, X, y, activation=activation, loss="softmax")
    return layer_gradient_norms(grads)


def gradient_norms_by_activation(activations: tuple[str, ...] = ("sigmoid", "tanh", "relu"),
                                 depth: int = 20, init: str | float = "xavier",
                                 **kwargs) -> dict[str, np.ndarray]:
    """``{activation: norms of shape (depth,)}`` at initialization, same init for all."""
    return {a: gradient_norms_at_init(depth=depth, activation=a, init=init, **kwargs)
            for a in activations}


def gradient_norms_by_init(inits: tuple = ("small", "xavier", "he", "large"),
                           activation: str = "relu", depth: int = 20,
                           **kwargs) -> dict[str, np.ndarray]:
    """``{init: norms of shape (depth,)}`` at initialization, same activation for all."""
    return {str(i): gradient_norms_at_init(depth=depth, activation=activation, init=i, **kwargs)
            for i in inits}


def deep_training_comparison(X: np.ndarray, y: np.ndarray, depth: int = 20, width: int = 64,
                             setups: tuple[tuple[str, str], ...] = (("sigmoid", "xavier"), ("relu", "he")),
                             epochs: int = 5, batch_size: int = 64, learning_rate: float = 0.005,
                             momentum: float = 0.9, seed: int = 0) -> dict[str, dict]:
    """Train the same deep architecture with each ``(activation, init)`` and return the histories.

    Args:
        X, y: training data, of shape (N, D) and (N,).
        depth: number of layers (depth - 1 hidden layers of ``width`` units).
        setups: ``(activation, init)`` pairs; the keys of the result are the activations.
        epochs, batch_size, learning_rate, momentum, seed: as in ``optim.train``.

    Returns:
        ``{activation: history}`` with the ``train`` history (``loss`` per step,
        ``grad_norms`` of shape (steps, depth), ``train_acc`` per epoch).
    """
    n_classes = int(np.max(y)) + 1
    results = {}
    for activation, init in setups:
        params = init_mlp([X.shape[1]] + [width] * (depth - 1) + [n_classes], init=init, seed=seed)
        results[activation] = train(params, X, y, update="sgd_momentum",
                                    config={"learning_rate": learning_rate, "momentum": momentum},
                                    epochs=epochs, batch_size=batch_size, activation=activation,
                                    seed=seed)
    return results


def clipping_comparison(X: np.ndarray, y: np.ndarray, max_norm: float = 1.0, depth: int = 8,
                        width: int = 64, init: str | float = "he", learning_rate: float = 0.2,
                        momentum: float = 0.9, epochs: int = 3, batch_size: int = 32,
                        seed: int = 0) -> dict[str, dict]:
    """Train one exploding-prone setup twice, without and with ``clip_gradients(., max_norm)``.

    The default setup, a deep ReLU net with a large learning rate and momentum, takes a few
    huge steps early on and blows up (loss inf / nan) unless every step is bounded.

    Returns:
        ``{"no clipping": history, "clipping": history}`` (``optim.train`` histories; the
        recorded ``grad_norms`` are the raw norms, before clipping).
    """
    max_norm = check_positive(max_norm, "max_norm")
    n_classes = int(np.max(y)) + 1
    sizes = [X.shape[1]] + [width] * (depth - 1) + [n_classes]
    config = {"learning_rate": learning_rate, "momentum": momentum}
    results = {}
    for label, hook in (("no clipping", None),
                        ("clipping", lambda g: clip_gradients(g, max_norm))):
        params = init_mlp(sizes, init=init, seed=seed)
        results[label] = train(params, X, y, update="sgd_momentum", config=config,
                               epochs=epochs, batch_size=batch_size, activation="relu",
                               seed=seed, grad_hook=hook)
    return results
