# Generated for a4_momentum from backprop_lib/mlp.py by `make notebooks (python -m courseware build)`: do not edit; edit the library and regenerate.
"""A multi-layer perceptron of any depth, trained by the delta rule (assignment 3).

Layer ``l = 1 .. L`` has ``W^l`` of shape ``(n_l, n_{l-1})`` and ``b^l`` of shape ``(n_l,)``;
a batch is rows, ``A^0 = X`` of shape ``(N, n_0)``::

    Z^l = A^{l-1} @ W^l.T + b^l          (the lecture's z^l = W^l a^{l-1} + b^l)
    A^l = sigma(Z^l)                     (the output layer L uses output_activation)

Backward, from the upstream gradient ``dY = dC/dA^L`` of shape ``(N, n_L)``::

    Delta^L = sigma'(Z^L) * dY
    Delta^l = sigma'(Z^l) * (Delta^{l+1} @ W^{l+1})     (lecture: sigma'(z^l) * (W^{l+1})^T delta^{l+1})
    dW^l    = Delta^l.T @ A^{l-1}                       (lecture: delta^l (a^{l-1})^T)
    db^l    = Delta^l.sum(axis=0)                       (lecture: delta^l, summed over the batch)

``sigma'(Z) * upstream`` is exactly what an activation's backward computes from its cache
(``layers.ACTIVATIONS[name][1]``), so the code calls it instead of forming sigma'(Z) alone.
With softmax / SVM / MSE the output layer is the identity and ``Delta^L`` is ``dscores``.

float32 inputs and parameters stay float32 (the speed benchmark); the default is float64.
"""
from __future__ import annotations

import re

import numpy as np

from .init import check_scheme, init_weights
from .layers import ACTIVATIONS, l2_regularization, mse_loss, softmax_loss, svm_loss
from .validate import as_float_array, check_choice, check_grad_shape, check_ndim, check_nonnegative

LOSSES = {"softmax": softmax_loss, "svm": svm_loss, "mse": mse_loss}
"""Loss name -> ``loss_fn(scores, y) -> (loss, dscores)`` from ``layers``."""

_PARAM_NAME = re.compile(r"^([Wb])([1-9][0-9]*)$")


def num_layers(params: dict[str, np.ndarray]) -> int:
    """Number of layers L of ``params``, after checking keys and shapes.

    ``params`` must hold exactly ``W1, b1, ..., WL, bL`` with ``W^l`` of shape
    ``(n_l, n_{l-1})`` and ``b^l`` of shape ``(n_l,)``, consecutive layers matching.

    Raises:
        ValueError: naming the missing / extra key or the mismatched shape.
    """
    if not isinstance(params, dict) or not params:
        raise ValueError("params must be a non-empty dict with keys W1, b1, ..., WL, bL")
    bad = [k for k in params if not _PARAM_NAME.match(str(k))]
    if bad:
        raise ValueError(f"params has unexpected keys {bad}; expected W1, b1, ..., WL, bL")
    L = max(int(_PARAM_NAME.match(k).group(2)) for k in params)
    missing = [f"{p}{l}" for l in range(1, L + 1) for p in "Wb" if f"{p}{l}" not in params]
    if missing:
        raise ValueError(f"params is missing {missing} (a net with L={L} layers needs W1, b1, ..., W{L}, b{L})")
    for l in range(1, L + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        if np.ndim(W) != 2:
            raise ValueError(f"W{l} must have shape (n_{l}, n_{l - 1}), got {np.shape(W)}")
        if np.shape(b) != (np.shape(W)[0],):
            raise ValueError(f"b{l} must have shape ({np.shape(W)[0]},) to match W{l}, got {np.shape(b)}")
        if l > 1 and np.shape(W)[1] != np.shape(params[f"W{l - 1}"])[0]:
            raise ValueError(f"W{l} must have shape ({np.shape(W)[0]}, {np.shape(params[f'W{l - 1}'])[0]}) "
                             f"to follow W{l - 1}, got {np.shape(W)}")
    return L


def init_mlp(layer_sizes: list[int], init: str | float = "xavier",
             seed: int | None = None) -> dict[str, np.ndarray]:
    """Parameters of an MLP with ``layer_sizes = [n_0, n_1, ..., n_L]`` (input size first).

    Args:
        layer_sizes: at least two positive ints: the input size, hidden sizes, output size.
        init: ``init_weights`` scheme of every weight matrix (``small``, ``xavier``, ``he``,
            ``large``, or a float std).
        seed: seed of the ``np.random.default_rng`` that draws W1, W2, ... in that order.

    Returns:
        ``{"W1", "b1", ..., "WL", "bL"}`` with ``W^l`` of shape ``(n_l, n_{l-1})`` drawn by
        ``init_weights`` and ``b^l`` zeros of shape ``(n_l,)``, all float64.
    """
    if (not isinstance(layer_sizes, (list, tuple)) or len(layer_sizes) < 2
            or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0
                       for n in layer_sizes)):
        raise ValueError(f"layer_sizes must be a list of at least two positive ints "
                         f"[n_0, ..., n_L], got {layer_sizes!r}")
    check_scheme(init)
    # TASK: rng = np.random.default_rng(seed); for l = 1..L: params["W{l}"] = init_weights((n_l, n_{l-1}), init, rng), params["b{l}"] = zeros (n_l,).
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(layer_sizes)):
        params[f"W{l}"] = init_weights((layer_sizes[l], layer_sizes[l - 1]), init, rng)
        params[f"b{l}"] = np.zeros(layer_sizes[l])
    ### END SOLUTION
    return params


def mlp_forward(params: dict[str, np.ndarray], X: np.ndarray, activation: str = "sigmoid",
                output_activation: str = "identity") -> tuple[np.ndarray, tuple]:
    """Forward pass: ``Z^l = A^{l-1} @ W^l.T + b^l``, ``A^l = sigma(Z^l)``, ``Y = A^L``.

    Args:
        params: ``{"W1", "b1", ..., "WL", "bL"}``, W^l of shape (n_l, n_{l-1}).
        X: inputs ``A^0`` of shape (N, n_0).
        activation: hidden layers' activation, a name of ``layers.ACTIVATIONS``.
        output_activation: layer L's activation (``identity`` for scores).

    Returns:
        Y of shape (N, n_L), and cache ``(layer_caches, activation, output_activation)`` where
        ``layer_caches[l - 1] = (A^{l-1}, W^l, Z^l, act_cache^l)`` for ``l = 1 .. L``.
    """
    L = num_layers(params)
    check_choice(activation, ACTIVATIONS, "activation")
    check_choice(output_activation, ACTIVATIONS, "output_activation")
    X = check_ndim(as_float_array(X, "X"), 2, "X")
    if X.shape[1] != np.shape(params["W1"])[1]:
        raise ValueError(f"X must have shape (N, {np.shape(params['W1'])[1]}) to match W1, got {X.shape}")
    # TASK: A = X; for l = 1..L: Z = A @ W^l.T + b^l, A, act_cache = forward of sigma (output_activation at l = L); keep (A_prev, W, Z, act_cache) per layer.
    ### BEGIN SOLUTION
    layer_caches = []
    A = X
    for l in range(1, L + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        Z = A @ W.T
        Z += b
        forward, _ = ACTIVATIONS[output_activation if l == L else activation]
        A_next, act_cache = forward(Z)
        layer_caches.append((A, W, Z, act_cache))
        A = A_next
    Y = A
    ### END SOLUTION
    return Y, (layer_caches, activation, output_activation)


def mlp_backward(dY: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    """Backward pass by the delta rule, from the top layer down.

    Args:
        dY: upstream gradient dC/dY, of shape (N, n_L).
        cache: from ``mlp_forward``.

    Returns:
        grads ``{"W1", "b1", ..., "WL", "bL"}``: dW^l of shape (n_l, n_{l-1}), db^l of
        shape (n_l,) (no regularization: ``mlp_loss`` adds it).
    """
    layer_caches, activation, output_activation = cache
    L = len(layer_caches)
    N, n_L = layer_caches[-1][2].shape
    dY = as_float_array(dY, "dY")
    if dY.shape != (N, n_L):
        raise ValueError(f"dY must have the shape of Y, ({N}, {n_L}), got {dY.shape}")
    # TASK: upstream = dY; for l = L..1: delta = sigma'(Z^l) * upstream (the activation's backward), dW^l = delta.T @ A^{l-1}, db^l = delta.sum(axis=0), upstream = delta @ W^l.
    ### BEGIN SOLUTION
    grads = {}
    upstream = dY
    for l in range(L, 0, -1):
        A_prev, W, Z, act_cache = layer_caches[l - 1]
        _, backward = ACTIVATIONS[output_activation if l == L else activation]
        delta = backward(upstream, act_cache)
        grads[f"W{l}"] = delta.T @ A_prev
        grads[f"b{l}"] = delta.sum(axis=0)
        if l > 1:
            upstream = delta @ W
    ### END SOLUTION
    for l in range(1, L + 1):
        W = layer_caches[l - 1][1]
        check_grad_shape(grads[f"W{l}"], W, f"dW{l}")
        check_grad_shape(grads[f"b{l}"], W[:, 0], f"db{l}")
    return grads


def mlp_loss(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray,
             activation: str = "sigmoid", loss: str = "softmax",
             reg: float = 0.0) -> tuple[float, dict[str, np.ndarray]]:
    """Loss and gradients of an MLP whose output layer is the identity (scores).

    ``loss = data_loss(Y, y) + reg * sum_l ||W^l||^2``; the penalty adds ``2 * reg * W^l`` to
    each ``dW^l`` (biases are not regularized). With ``reg = 0`` the penalty is skipped, so no
    pass is made over the weights.

    Args:
        params: ``{"W1", "b1", ..., "WL", "bL"}``.
        X: inputs of shape (N, n_0).
        y: labels of shape (N,) for ``softmax`` / ``svm``; for ``mse`` the targets, of shape
            (N, n_L) (or (N,) when n_L = 1).
        activation: hidden layers' activation, a name of ``layers.ACTIVATIONS``.
        loss: ``"softmax"``, ``"svm"`` or ``"mse"``.
        reg: L2 strength >= 0.

    Returns:
        (loss, grads): a float, and grads with the keys and shapes of params.
    """
    loss_fn = LOSSES[check_choice(loss, LOSSES, "loss")]
    reg = check_nonnegative(reg, "reg")
    L = num_layers(params)
    if loss == "mse":
        y = as_float_array(y, "y")
        if y.ndim == 1 and np.shape(params[f"W{L}"])[0] == 1:
            y = y[:, None]
    # TASK: Y, cache = mlp_forward(params, X, activation); data_loss, dY = loss_fn(Y, y); grads = mlp_backward(dY, cache); when reg > 0, add reg * sum ||W^l||^2 to the loss and 2 * reg * W^l to dW^l (l2_regularization).
    ### BEGIN SOLUTION
    Y, cache = mlp_forward(params, X, activation=activation, output_activation="identity")
    data_loss, dY = loss_fn(Y, y)
    grads = mlp_backward(dY, cache)
    total_loss = data_loss
    if reg > 0:  # reg = 0 adds nothing: no pass over the weights
        reg_loss, dweights = l2_regularization([params[f"W{l}"] for l in range(1, L + 1)], reg)
        for l in range(1, L + 1):
            grads[f"W{l}"] += dweights[l - 1]
        total_loss += reg_loss
    ### END SOLUTION
    return float(total_loss), grads
