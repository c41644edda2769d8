# Generated for a4_momentum from backprop_lib/layers.py by `make notebooks (python -m courseware build)`: do not edit; edit the library and regenerate.
"""Vectorized layers, activations and losses, each a forward and a backward (assignment 2).

Conventions (CURRICULUM.md): a batch is rows, `x` of shape (N, D); a dense layer's `W` has
shape (M, D) and `b` shape (M,), so `out = x @ W.T + b`. A forward returns `(out, cache)`,
a backward takes `(dout, cache)` and returns gradients with exactly the shape of what they
differentiate. Losses average over the batch and return `(loss, dscores)`.

An elementwise layer's Jacobian is diagonal, so no backward here ever forms it: the
chain rule is "local gradient times upstream", elementwise (`dx = sigma'(x) * dout`).

`ACTIVATIONS` maps the names `mlp` accepts to `(forward, backward)` pairs.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .validate import (
    as_float_array,
    check_grad_shape,
    check_labels,
    check_ndim,
    check_nonnegative,
    check_same_shape,
    check_shape,
)

Array = np.ndarray


# ----------------------------------------------------------------------------- affine
def affine_forward(x: Array, W: Array, b: Array) -> tuple[Array, tuple]:
    """Dense layer Z = x @ W.T + b (the lecture's z = W a + b, one row per example).

    Args:
        x: inputs, of shape (N, D).
        W: weights, of shape (M, D).
        b: biases, of shape (M,).

    Returns:
        out of shape (N, M), and cache (x, W) for affine_backward.
    """
    x, W, b = as_float_array(x, "x"), as_float_array(W, "W"), as_float_array(b, "b")
    check_ndim(x, 2, "x")
    check_shape(W, (None, x.shape[1]), "W", "to match x")
    check_shape(b, (W.shape[0],), "b", "to match W")
    # TASK: out = x @ W.T + b, of shape (N, M).
    ### BEGIN SOLUTION
    out = x @ W.T + b
    ### END SOLUTION
    return out, (x, W)


def affine_backward(dout: Array, cache: tuple) -> tuple[Array, Array, Array]:
    """Backward pass of Z = x @ W.T + b.

    Args:
        dout: upstream gradient dL/dZ, of shape (N, M).
        cache: (x, W) from affine_forward; x of shape (N, D), W of shape (M, D).

    Returns:
        dx of shape (N, D), dW of shape (M, D), db of shape (M,).
    """
    x, W = cache
    dout = as_float_array(dout, "dout")
    check_shape(dout, (x.shape[0], W.shape[0]), "dout", "(N, M), like affine_forward's out")
    # TASK: dx = dout @ W, dW = dout.T @ x, db = dout summed over the batch (axis 0).
    ### BEGIN SOLUTION
    dx = dout @ W
    dW = dout.T @ x
    db = dout.sum(axis=0)
    ### END SOLUTION
    check_grad_shape(dx, x, "dx")
    check_grad_shape(dW, W, "dW")
    check_grad_shape(db, W[:, 0], "db")
    return dx, dW, db


# ----------------------------------------------------------------------------- activations
def identity_forward(x: Array) -> tuple[Array, tuple]:
    """Identity activation, out = x (the output layer before softmax / SVM / MSE). Not graded."""
    x = as_float_array(x, "x")
    return x, (x.shape,)


def identity_backward(dout: Array, cache: tuple) -> Array:
    """Backward of the identity: dx = dout. Not graded."""
    (shape,) = cache
    dout = as_float_array(dout, "dout")
    check_shape(dout, shape, "dout", "like identity_forward's out")
    return dout


def relu_forward(x: Array) -> tuple[Array, tuple]:
    """ReLU, out = max(0, x) elementwise. x of any shape; out the same shape; cache (x,)."""
    x = as_float_array(x, "x")
    # TASK: out = max(0, x), elementwise.
    ### BEGIN SOLUTION
    out = np.maximum(0.0, x)
    ### END SOLUTION
    return out, (x,)


def relu_backward(dout: Array, cache: tuple) -> Array:
    """Backward of ReLU: the gradient passes where x > 0 and is zero elsewhere (a router)."""
    (x,) = cache
    dout = check_shape(as_float_array(dout, "dout"), x.shape, "dout", "like relu_forward's out")
    # TASK: dx = dout * (x > 0): local gradient 1 where x > 0, else 0, times upstream.
    ### BEGIN SOLUTION
    dx = dout * (x > 0)
    ### END SOLUTION
    return check_grad_shape(dx, x, "dx")


def sigmoid_forward(x: Array) -> tuple[Array, tuple]:
    """Sigmoid, out = 1 / (1 + exp(-x)), computed without overflow for large |x|.

    x of any shape; out the same shape, in [0, 1]; cache (out,).
    """
    x = as_float_array(x, "x")
    # TASK: sigma(x) = 1 / (1 + exp(-x)), stably: with e = exp(-|x|), 1/(1+e) where x >= 0, e/(1+e) elsewhere.
    ### BEGIN SOLUTION
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION
    return out, (out,)


def sigmoid_backward(dout: Array, cache: tuple) -> Array:
    """Backward of the sigmoid: dx = (1 - s) s * dout, with s the forward output."""
    (s,) = cache
    dout = check_shape(as_float_array(dout, "dout"), s.shape, "dout", "like sigmoid_forward's out")
    # TASK: dx = (1 - s) * s * dout, where s = sigma(x) is kept in the cache.
    ### BEGIN SOLUTION
    dx = (1.0 - s) * s * dout
    ### END SOLUTION
    return check_grad_shape(dx, s, "dx")


def tanh_forward(x: Array) -> tuple[Array, tuple]:
    """tanh, out = tanh(x) elementwise. x of any shape; cache (out,)."""
    x = as_float_array(x, "x")
    # TASK: out = tanh(x), elementwise.
    ### BEGIN SOLUTION
    out = np.tanh(x)
    ### END SOLUTION
    return out, (out,)


def tanh_backward(dout: Array, cache: tuple) -> Array:
    """Backward of tanh: dx = (1 - tanh(x)^2) * dout."""
    (t,) = cache
    dout = check_shape(as_float_array(dout, "dout"), t.shape, "dout", "like tanh_forward's out")
    # TASK: dx = (1 - t**2) * dout, where t = tanh(x) is kept in the cache.
    ### BEGIN SOLUTION
    dx = (1.0 - t**2) * dout
    ### END SOLUTION
    return check_grad_shape(dx, t, "dx")


def leaky_relu_forward(x: Array, alpha: float = 0.1) -> tuple[Array, tuple]:
    """Leaky ReLU, the lecture's max(0.1 x, x): out = x where x > 0, alpha * x elsewhere.

    Args:
        x: inputs of any shape.
        alpha: slope for x <= 0, in [0, 1] (default 0.1, the lecture's).

    Returns:
        out of the shape of x, and cache (x, alpha).
    """
    x = as_float_array(x, "x")
    alpha = check_nonnegative(alpha, "alpha")
    if alpha > 1:
        raise ValueError(f"alpha must be in [0, 1] for max(alpha * x, x), got {alpha}")
    # TASK: out = max(alpha * x, x), i.e. x where x > 0 and alpha * x elsewhere.
    ### BEGIN SOLUTION
    out = np.where(x > 0, x, alpha * x)
    ### END SOLUTION
    return out, (x, alpha)


def leaky_relu_backward(dout: Array, cache: tuple) -> Array:
    """Backward of leaky ReLU: local slope 1 where x > 0, alpha elsewhere."""
    x, alpha = cache
    dout = check_shape(as_float_array(dout, "dout"), x.shape, "dout", "like leaky_relu_forward's out")
    # TASK: dx = dout * (1 where x > 0, alpha elsewhere).
    ### BEGIN SOLUTION
    dx = np.where(x > 0, dout, alpha * dout)  # slope 1 or alpha, times dout, in dout's dtype
    ### END SOLUTION
    return check_grad_shape(dx, x, "dx")


def elu_forward(x: Array, alpha: float = 1.0) -> tuple[Array, tuple]:
    """ELU: out = x where x >= 0, alpha (exp(x) - 1) where x < 0 (no overflow for large x).

    Args:
        x: inputs of any shape.
        alpha: the saturation value -alpha for x -> -inf (default 1.0), >= 0.

    Returns:
        out of the shape of x, and cache (x, alpha).
    """
    x = as_float_array(x, "x")
    alpha = check_nonnegative(alpha, "alpha")
    # TASK: out = x where x >= 0, alpha * (exp(x) - 1) where x < 0 (exp only of min(x, 0)).
    ### BEGIN SOLUTION
    out = np.where(x >= 0, x, alpha * np.expm1(np.minimum(x, 0.0)))
    ### END SOLUTION
    return out, (x, alpha)


def elu_backward(dout: Array, cache: tuple) -> Array:
    """Backward of ELU: local slope 1 where x >= 0, alpha exp(x) where x < 0."""
    x, alpha = cache
    dout = check_shape(as_float_array(dout, "dout"), x.shape, "dout", "like elu_forward's out")
    # TASK: dx = dout * (1 where x >= 0, alpha * exp(x) where x < 0).
    ### BEGIN SOLUTION
    dx = dout * np.where(x >= 0, 1.0, alpha * np.exp(np.minimum(x, 0.0)))
    ### END SOLUTION
    return check_grad_shape(dx, x, "dx")


def maxout_forward(x: Array, W1: Array, b1: Array, W2: Array, b2: Array) -> tuple[Array, tuple]:
    """Maxout, the lecture's max(w1^T x + b1, w2^T x + b2), for a batch and M units.

    Args:
        x: inputs, of shape (N, D).
        W1, W2: weights of the two pieces, each of shape (M, D).
        b1, b2: biases of the two pieces, each of shape (M,).

    Returns:
        out of shape (N, M), and cache (x, W1, W2, first) where `first` (N, M) is True where
        the first piece won (ties go to the first piece, like MaxGate).
    """
    x = check_ndim(as_float_array(x, "x"), 2, "x")
    W1, W2 = as_float_array(W1, "W1"), as_float_array(W2, "W2")
    b1, b2 = as_float_array(b1, "b1"), as_float_array(b2, "b2")
    check_shape(W1, (None, x.shape[1]), "W1", "to match x")
    check_shape(W2, W1.shape, "W2", "like W1")
    check_shape(b1, (W1.shape[0],), "b1", "to match W1")
    check_shape(b2, (W1.shape[0],), "b2", "to match W1")
    # TASK: z1 = x @ W1.T + b1, z2 = x @ W2.T + b2, out = max(z1, z2); first = (z1 >= z2).
    ### BEGIN SOLUTION
    z1 = x @ W1.T + b1
    z2 = x @ W2.T + b2
    first = z1 >= z2
    out = np.where(first, z1, z2)
    ### END SOLUTION
    return out, (x, W1, W2, first)


def maxout_backward(dout: Array, cache: tuple) -> tuple[Array, Array, Array, Array, Array]:
    """Backward of maxout: max routes dout to the winning piece, then each piece is affine.

    Args:
        dout: upstream gradient, of shape (N, M).
        cache: (x, W1, W2, first) from maxout_forward.

    Returns:
        dx (N, D), dW1 (M, D), db1 (M,), dW2 (M, D), db2 (M,).
    """
    x, W1, W2, first = cache
    dout = check_shape(as_float_array(dout, "dout"), first.shape, "dout", "like maxout_forward's out")
    # TASK: route dz1 = dout * first, dz2 = dout * ~first; dx = dz1 @ W1 + dz2 @ W2; dWk = dzk.T @ x; dbk = dzk.sum(axis=0).
    ### BEGIN SOLUTION
    dz1 = dout * first
    dz2 = dout * ~first
    dx = dz1 @ W1 + dz2 @ W2
    dW1, db1 = dz1.T @ x, dz1.sum(axis=0)
    dW2, db2 = dz2.T @ x, dz2.sum(axis=0)
    ### END SOLUTION
    check_grad_shape(dx, x, "dx")
    for name, grad, like in (("dW1", dW1, W1), ("db1", db1, W1[:, 0]), ("dW2", dW2, W2), ("db2", db2, W2[:, 0])):
        check_grad_shape(grad, like, name)
    return dx, dW1, db1, dW2, db2


ACTIVATIONS: dict[str, tuple[Callable[..., tuple[Array, tuple]], Callable[[Array, tuple], Array]]] = {
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "elu": (elu_forward, elu_backward),
    "identity": (identity_forward, identity_backward),
}
"""Activation name -> (forward(x) -> (out, cache), backward(dout, cache) -> dx), default parameters."""


# ----------------------------------------------------------------------------- losses
def _check_scores(scores: Array, y: Array) -> tuple[Array, Array]:
    scores = check_ndim(as_float_array(scores, "scores"), 2, "scores")
    y = check_labels(y, scores.shape[1], "y", num_examples=scores.shape[0])
    if scores.shape[0] == 0:
        raise ValueError("scores must have at least one row (example), got shape (0, C)")
    return scores, y


def softmax_loss(scores: Array, y: Array) -> tuple[float, Array]:
    """Softmax cross-entropy, averaged over the batch; stable for scores as large as 1e4.

    Args:
        scores: class scores, of shape (N, C).
        y: integer labels in [0, C), of shape (N,).

    Returns:
        loss, a float, and dscores = (softmax(scores) - onehot(y)) / N, of shape (N, C).
    """
    scores, y = _check_scores(scores, y)
    N = scores.shape[0]
    # TASK: shift rows by their max; log p = shifted - log(sum exp(shifted)); loss = -mean(log p[i, y_i]); dscores = (p - onehot(y)) / N.
    ### BEGIN SOLUTION
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].mean()
    dscores = np.exp(log_probs)
    dscores[np.arange(N), y] -= 1.0
    dscores /= N
    ### END SOLUTION
    return float(loss), check_grad_shape(dscores, scores, "dscores")


def svm_loss(scores: Array, y: Array) -> tuple[float, Array]:
    """Multiclass hinge (SVM) loss with margin 1, averaged over the batch.

    loss_i = sum_{j != y_i} max(0, s_j - s_{y_i} + 1).

    Args:
        scores: class scores, of shape (N, C).
        y: integer labels in [0, C), of shape (N,).

    Returns:
        loss, a float, and dscores of shape (N, C).
    """
    scores, y = _check_scores(scores, y)
    N = scores.shape[0]
    # TASK: margins = max(0, s_j - s_y + 1), 0 at j = y; loss = sum / N; dscores = 1 where margin > 0, minus their count at j = y, all / N.
    ### BEGIN SOLUTION
    correct = scores[np.arange(N), y][:, None]
    margins = np.maximum(0.0, scores - correct + 1.0)
    margins[np.arange(N), y] = 0.0
    loss = margins.sum() / N
    dscores = (margins > 0).astype(scores.dtype)
    dscores[np.arange(N), y] = -dscores.sum(axis=1)
    dscores /= N
    ### END SOLUTION
    return float(loss), check_grad_shape(dscores, scores, "dscores")


def mse_loss(pred: Array, target: Array) -> tuple[float, Array]:
    """Mean squared error, 0.5 * sum((pred - target)**2) / N.

    Args:
        pred: predictions, of shape (N,) or (N, K).
        target: targets, of the same shape as pred.

    Returns:
        loss, a float, and dpred = (pred - target) / N, of the shape of pred.
    """
    pred = check_ndim(as_float_array(pred, "pred"), (1, 2), "pred")
    target = check_same_shape(as_float_array(target, "target"), pred, "target", "pred")
    if pred.shape[0] == 0:
        raise ValueError("pred must have at least one row (example), got shape (0, ...)")
    N = pred.shape[0]
    # TASK: diff = pred - target; loss = 0.5 * sum(diff**2) / N; dpred = diff / N.
    ### BEGIN SOLUTION
    diff = pred - target
    loss = 0.5 * np.sum(diff**2) / N
    dpred = diff / N
    ### END SOLUTION
    return float(loss), check_grad_shape(dpred, pred, "dpred")


# ----------------------------------------------------------------------------- ||W x||^2
def squared_norm_forward(x: Array, W: Array) -> tuple[float, tuple]:
    """f(x, W) = ||W x||^2 for one vector x (the lecture's vectorized example).

    Args:
        x: a vector, of shape (D,).
        W: a matrix, of shape (M, D).

    Returns:
        f, a float, and cache (x, W, q) with q = W x of shape (M,).
    """
    x = check_ndim(as_float_array(x, "x"), 1, "x")
    W = check_shape(as_float_array(W, "W"), (None, x.shape[0]), "W", "to match x")
    # TASK: q = W x; f = sum_i q_i^2.
    ### BEGIN SOLUTION
    q = W @ x
    f = q @ q
    ### END SOLUTION
    return float(f), (x, W, q)


def squared_norm_backward(dout: float, cache: tuple) -> tuple[Array, Array]:
    """Backward of f = ||W x||^2: grad_x = 2 W^T q, grad_W = 2 q x^T, each times dout.

    Args:
        dout: upstream gradient dL/df, a scalar (1.0 when f is the loss).
        cache: (x, W, q) from squared_norm_forward.

    Returns:
        dx of shape (D,), dW of shape (M, D).
    """
    x, W, q = cache
    dout = as_float_array(dout, "dout")
    check_shape(dout, (), "dout", "(a scalar, like f)")
    # TASK: dx = 2 W^T q * dout; dW = 2 q x^T * dout (an outer product).
    ### BEGIN SOLUTION
    dx = 2.0 * (W.T @ q) * dout
    dW = 2.0 * np.outer(q, x) * dout
    ### END SOLUTION
    return check_grad_shape(dx, x, "dx"), check_grad_shape(dW, W, "dW")


# ----------------------------------------------------------------------------- regularization
def l2_regularization(weights: list[Array], reg: float) -> tuple[float, list[Array]]:
    """L2 penalty reg * sum_l ||W^l||^2 over the weight matrices (never the biases).

    Args:
        weights: the weight matrices W^1 ... W^L, any shapes.
        reg: regularization strength, >= 0.

    Returns:
        loss, a float, and dweights: a list with 2 * reg * W^l for each W^l, same shapes.
    """
    reg = check_nonnegative(reg, "reg")
    if isinstance(weights, np.ndarray) or not isinstance(weights, (list, tuple)):
        raise ValueError(f"weights must be a list of weight matrices, got {type(weights).__name__}")
    weights = [as_float_array(W, f"weights[{i}]") for i, W in enumerate(weights)]
    # TASK: loss = reg * sum over W of sum(W**2); dweights = [2 * reg * W for each W].
    ### BEGIN SOLUTION
    loss = reg * sum(float(np.sum(W * W)) for W in weights)
    dweights = [2.0 * reg * W for W in weights]
    ### END SOLUTION
    for i, (dW, W) in enumerate(zip(dweights, weights)):
        check_grad_shape(dW, W, f"dweights[{i}]")
    return float(loss), dweights
