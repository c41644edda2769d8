"""The MLP by the delta rule: gradients against numerical gradients at every depth,
activation and loss, the lecture's formulas, dtypes, errors, and training on the digits.

Tolerance: norm-wise relative error ||analytic - numerical|| / (||analytic|| + ||numerical||)
below 1e-7 in float64 (h = 1e-5; the measured errors are ~1e-10). Inputs are drawn until every
pre-activation and every SVM margin is at least 1e-3 away from a kink, so no check can land on
one.
"""
from __future__ import annotations

import numpy as np
import pytest

from backprop_lib.checks import norm_rel_error
from backprop_lib.gradcheck import numerical_gradient
from backprop_lib.init import init_weights
from backprop_lib.layers import ACTIVATIONS
from backprop_lib.mlp import init_mlp, mlp_backward, mlp_forward, mlp_loss, num_layers

GRAD_TOL = 1e-7
KINK_MARGIN = 1e-3
N, D, C, WIDTH = 5, 3, 3, 4


def away_from_kinks(depth: int, activation: str, loss: str, seed: int):
    """(params, X, y) of a small net whose pre-activations and SVM margins avoid kinks."""
    for attempt in range(100):
        rng = np.random.default_rng([seed, attempt])
        params = init_mlp([D] + [WIDTH] * (depth - 1) + [C], init="xavier", seed=seed * 100 + attempt)
        for name in params:
            if name.startswith("b"):
                params[name] = 0.1 * rng.standard_normal(params[name].shape)
        X = rng.standard_normal((N, D))
        y = rng.standard_normal((N, C)) if loss == "mse" else rng.integers(0, C, size=N)
        Y, (layer_caches, _, _) = mlp_forward(params, X, activation=activation)
        if any(np.min(np.abs(Z)) < KINK_MARGIN for _, _, Z, _ in layer_caches):
            continue
        if loss == "svm":
            margins = Y - Y[np.arange(N), y][:, None] + 1.0
            margins[np.arange(N), y] = 1.0
            if np.min(np.abs(margins)) < KINK_MARGIN:
                continue
        return params, X, y
    raise AssertionError("no kink-free draw found")


@pytest.mark.parametrize("reg", [0.0, 0.1])
@pytest.mark.parametrize("loss", ["softmax", "svm", "mse"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
def test_mlp_loss_gradients_match_numerical(depth, activation, loss, reg):
    params, X, y = away_from_kinks(depth, activation, loss, seed=depth)
    value, grads = mlp_loss(params, X, y, activation=activation, loss=loss, reg=reg)
    assert np.isfinite(value) and set(grads) == set(params)
    for name, p in params.items():
        num = numerical_gradient(lambda _: mlp_loss(params, X, y, activation, loss, reg)[0], p)
        assert grads[name].shape == p.shape
        err = norm_rel_error(grads[name], num, floor=1e-10)
        assert err < GRAD_TOL, f"d{name}: norm relative error {err:.2e}"


@pytest.mark.parametrize("output_activation", ["sigmoid", "tanh"])
def test_mlp_backward_uses_the_output_activation_slope(output_activation):
    """Delta^L = sigma'(Z^L) * dY: check mlp_backward for C = sum(dY * Y) with a non-identity output."""
    params, X, _ = away_from_kinks(3, "tanh", "softmax", seed=11)
    dY = np.random.default_rng(5).standard_normal((N, C))

    def f(_):
        Y, _ = mlp_forward(params, X, "tanh", output_activation)
        return float(np.sum(Y * dY))

    _, cache = mlp_forward(params, X, "tanh", output_activation)
    grads = mlp_backward(dY, cache)
    for name, p in params.items():
        assert norm_rel_error(grads[name], numerical_gradient(f, p)) < GRAD_TOL


def test_two_layer_delta_rule_by_hand():
    """The lecture's formulas written out for a 2-layer sigmoid net and a summed upstream."""
    rng = np.random.default_rng(0)
    params = init_mlp([3, 4, 2], init="xavier", seed=0)
    X = rng.standard_normal((6, 3))
    dY = rng.standard_normal((6, 2))
    _, cache = mlp_forward(params, X, activation="sigmoid")
    grads = mlp_backward(dY, cache)
    Z1 = X @ params["W1"].T + params["b1"]
    A1 = 1.0 / (1.0 + np.exp(-Z1))
    delta2 = dY                                         # identity output layer
    delta1 = A1 * (1 - A1) * (delta2 @ params["W2"])    # sigma'(Z^1) * (Delta^2 @ W^2)
    np.testing.assert_allclose(grads["W2"], delta2.T @ A1, rtol=1e-12)
    np.testing.assert_allclose(grads["b2"], delta2.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(grads["W1"], delta1.T @ X, rtol=1e-12)
    np.testing.assert_allclose(grads["b1"], delta1.sum(axis=0), rtol=1e-12)


def test_regularization_adds_reg_sum_of_squares_and_two_reg_w():
    params, X, y = away_from_kinks(2, "tanh", "softmax", seed=3)
    loss0, g0 = mlp_loss(params, X, y, "tanh", "softmax", reg=0.0)
    loss1, g1 = mlp_loss(params, X, y, "tanh", "softmax", reg=0.5)
    assert loss1 - loss0 == pytest.approx(0.5 * sum(np.sum(params[f"W{l}"] ** 2) for l in (1, 2)), rel=1e-12)
    np.testing.assert_allclose(g1["W1"] - g0["W1"], 2 * 0.5 * params["W1"], rtol=1e-10)
    np.testing.assert_array_equal(g1["b1"], g0["b1"])  # biases are not regularized


def test_init_mlp_shapes_zero_biases_and_draw_order():
    params = init_mlp([5, 7, 3], init="he", seed=4)
    assert list(params) == ["W1", "b1", "W2", "b2"]
    assert params["W1"].shape == (7, 5) and params["W2"].shape == (3, 7)
    assert params["b1"].shape == (7,) and not params["b1"].any() and not params["b2"].any()
    rng = np.random.default_rng(4)
    np.testing.assert_array_equal(params["W1"], init_weights((7, 5), "he", rng))
    np.testing.assert_array_equal(params["W2"], init_weights((3, 7), "he", rng))
    assert num_layers(params) == 2


def test_forward_shapes_and_cache_layout():
    params = init_mlp([4, 6, 5, 2], seed=0)
    X = np.random.default_rng(0).standard_normal((8, 4))
    Y, (layer_caches, activation, output_activation) = mlp_forward(params, X, activation="relu")
    assert Y.shape == (8, 2) and len(layer_caches) == 3
    A_prev, W, Z, _ = layer_caches[1]
    np.testing.assert_array_equal(W, params["W2"])
    np.testing.assert_allclose(Z, A_prev @ params["W2"].T + params["b2"])
    np.testing.assert_allclose(Y, layer_caches[2][2])  # identity output: Y = Z^L
    assert (activation, output_activation) == ("relu", "identity")


def test_float32_stays_float32_and_float64_is_default():
    params = init_mlp([4, 6, 3], seed=0)
    assert all(p.dtype == np.float64 for p in params.values())
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    X = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    Y, cache = mlp_forward(p32, X, activation="relu")
    grads = mlp_backward(np.ones_like(Y), cache)
    assert Y.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())
    Y64, _ = mlp_forward(params, X.tolist(), activation="relu")  # lists become float64
    assert Y64.dtype == np.float64


def test_many_layers_keep_layer_order():
    params = init_mlp([3] + [4] * 11 + [2], seed=0)  # 12 layers: W10..W12 after W9
    X = np.random.default_rng(0).standard_normal((4, 3))
    _, grads = mlp_loss(params, X, np.array([0, 1, 0, 1]), activation="tanh")
    assert num_layers(params) == 12
    for l in range(1, 13):
        assert grads[f"W{l}"].shape == params[f"W{l}"].shape


@pytest.mark.parametrize("call, match", [
    (lambda p, X: mlp_forward(p, X, activation="swish"), "unknown activation 'swish'"),
    (lambda p, X: mlp_forward(p, X, output_activation="softmax"), "unknown output_activation"),
    (lambda p, X: mlp_loss(p, X, np.array([0, 1]), loss="hinge"), "unknown loss 'hinge'"),
    (lambda p, X: mlp_loss(p, X, np.array([0, 1]), reg=-1.0), "reg"),
    (lambda p, X: mlp_forward(p, X[:, :2]), "X must have shape"),
    (lambda p, X: mlp_forward({k: v for k, v in p.items() if k != "b2"}, X), "missing"),
    (lambda p, X: mlp_forward({**p, "W2": p["W2"].T}, X), "W2"),
    (lambda p, X: mlp_forward({**p, "gamma1": p["b1"]}, X), "unexpected keys"),
    (lambda p, X: mlp_backward(np.ones((2, 5)), mlp_forward(p, X)[1]), "dY must have the shape"),
    (lambda p, X: init_mlp([3]), "layer_sizes"),
    (lambda p, X: init_mlp([3, 0, 2]), "layer_sizes"),
    (lambda p, X: init_mlp([3, 2], init="orthogonal"), "unknown init scheme"),
])
def test_bad_input_raises_value_error(call, match):
    params = init_mlp([3, 4, 2], seed=0)
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match=match):
        call(params, X)


def test_two_layer_net_with_momentum_learns_the_digits():
    """Stated result: 64-100-10 ReLU net, He init, momentum 0.9, lr 0.01, 10 epochs, seed 0:
    test accuracy >= 94 % (measured 95-96 %; chance is 10 %)."""
    from backprop_lib.data import load_digits
    from backprop_lib.optim import accuracy, train

    X_train, y_train, X_test, y_test = load_digits(seed=0)
    params = init_mlp([64, 100, 10], init="he", seed=0)
    history = train(params, X_train, y_train, update="sgd_momentum",
                    config={"learning_rate": 0.01, "momentum": 0.9}, epochs=10, batch_size=64,
                    activation="relu", seed=0)
    test_acc = accuracy(history["params"], X_test, y_test, activation="relu")
    assert test_acc >= 0.94, f"test accuracy {test_acc:.3f}"
    assert history["loss"][-20:].mean() < 0.25 * history["loss"][:5].mean()
