"""The training step's fast paths, asserted by structure (never by timing): float32 stays
float32 end to end (every activation, the loss, the backward, both update rules), ``reg = 0``
makes no pass over the weights, and every gradient is C-contiguous like its parameter (so the
update's elementwise passes run over contiguous memory). benchmarks/mlp_speed.py measures
what these buy.
"""
from __future__ import annotations

import numpy as np
import pytest

import backprop_lib.mlp as mlp_module
from backprop_lib.layers import softmax_loss
from backprop_lib.mlp import init_mlp, mlp_backward, mlp_forward, mlp_loss
from backprop_lib.optim import sgd, sgd_momentum

SIZES = [12, 8, 6, 3]


def batch(dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    params = {k: v.astype(dtype) for k, v in init_mlp(SIZES, init="he", seed=seed).items()}
    return params, rng.standard_normal((7, SIZES[0])).astype(dtype), rng.integers(0, SIZES[-1], 7)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu", "elu"])
@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_float32_stays_float32_through_forward_loss_backward_and_update(activation, reg):
    params, X, y = batch(np.float32)
    Y, cache = mlp_forward(params, X, activation=activation)
    assert Y.dtype == np.float32
    for A_prev, W, Z, _ in cache[0]:
        assert (A_prev.dtype, W.dtype, Z.dtype) == (np.float32,) * 3
    loss, dY = softmax_loss(Y, y)
    assert dY.dtype == np.float32 and isinstance(loss, float)
    assert {g.dtype for g in mlp_backward(dY, cache).values()} == {np.dtype(np.float32)}
    _, grads = mlp_loss(params, X, y, activation=activation, reg=reg)
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}
    config = {"learning_rate": 0.1, "momentum": 0.9}
    for _ in range(2):  # the first call makes the velocity, the second reuses it
        next_w, config = sgd_momentum(params["W1"], grads["W1"], config)
        assert next_w.dtype == np.float32 and config["velocity"].dtype == np.float32
    assert sgd(params["W1"], grads["W1"], {"learning_rate": 0.1})[0].dtype == np.float32


def test_reg_zero_never_calls_the_regularization(monkeypatch):
    params, X, y = batch(np.float64)
    calls = []

    def recording_l2(weights, reg):
        calls.append(reg)
        return 0.0, [np.zeros_like(W) for W in weights]

    monkeypatch.setattr(mlp_module, "l2_regularization", recording_l2)
    loss0, grads0 = mlp_loss(params, X, y, activation="relu", reg=0.0)
    assert calls == []
    scores, cache = mlp_forward(params, X, activation="relu")
    data_loss, dscores = softmax_loss(scores, y)
    assert loss0 == data_loss
    for name, grad in mlp_backward(dscores, cache).items():
        np.testing.assert_array_equal(grads0[name], grad)
    mlp_loss(params, X, y, activation="relu", reg=0.5)
    assert calls == [0.5]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gradients_are_c_contiguous_like_the_parameters(dtype):
    params, X, y = batch(dtype)
    _, grads = mlp_loss(params, X, y, activation="relu")
    for name, grad in grads.items():
        assert params[name].flags.c_contiguous and grad.flags.c_contiguous, name
