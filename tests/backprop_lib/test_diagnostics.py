"""Vanishing and exploding gradients: per-layer norms, clipping, the chain product, the
activation statistics, and the issue's must-pass experiments."""
from __future__ import annotations

import numpy as np
import pytest

from backprop_lib.diagnostics import (
    activation_statistics,
    chain_product,
    chain_product_curves,
    clip_gradients,
    clipping_comparison,
    deep_training_comparison,
    global_norm,
    gradient_norms_at_init,
    gradient_norms_by_activation,
    gradient_norms_by_init,
    layer_gradient_norms,
)
from backprop_lib.mlp import init_mlp


def test_layer_gradient_norms_are_frobenius_norms_in_layer_order():
    """12 layers inserted in string order (W1, W10, W11, W12, W2, ...): output in layer order."""
    grads = {}
    for l in sorted(range(1, 13), key=str):
        grads[f"W{l}"] = np.full((2, 3), float(l))    # ||dW^l|| = l * sqrt(6)
        grads[f"b{l}"] = np.full(2, 100.0)            # biases are ignored
    norms = layer_gradient_norms(grads)
    assert norms.shape == (12,)
    np.testing.assert_allclose(norms, np.arange(1, 13) * np.sqrt(6.0))


def test_layer_gradient_norms_known_values():
    norms = layer_gradient_norms({"W1": np.array([[3.0, 4.0]]), "b1": np.zeros(1),
                                  "W2": np.array([[1.0], [2.0], [2.0]]), "b2": np.zeros(3)})
    np.testing.assert_allclose(norms, [5.0, 3.0])


@pytest.mark.parametrize("grads", [{"W1": np.ones(2), "W3": np.ones(2)}, {"b1": np.ones(2)}, [np.ones(2)]])
def test_layer_gradient_norms_reject_gaps_and_non_dicts(grads):
    with pytest.raises(ValueError, match="grads"):
        layer_gradient_norms(grads)


def test_clip_gradients_rescales_w_and_b_together_to_max_norm():
    grads = {"W1": np.array([[3.0, 0.0]]), "b1": np.array([4.0]), "W2": np.array([[0.0]]), "b2": np.zeros(1)}
    clipped = clip_gradients(grads, 1.0)          # global norm 5 -> 1: every array times 0.2
    np.testing.assert_allclose(clipped["W1"], [[0.6, 0.0]])
    np.testing.assert_allclose(clipped["b1"], [0.8])
    assert global_norm(clipped) == pytest.approx(1.0)
    np.testing.assert_array_equal(grads["W1"], [[3.0, 0.0]])   # input untouched
    assert set(clipped) == set(grads)


def test_clip_gradients_leaves_small_gradients_unchanged_but_copies():
    grads = {"W1": np.array([[0.3, 0.4]]), "b1": np.array([0.0])}
    clipped = clip_gradients(grads, 1.0)
    np.testing.assert_array_equal(clipped["W1"], grads["W1"])
    assert clipped["W1"] is not grads["W1"] and clipped is not grads
    clipped["W1"][0, 0] = 99.0
    assert grads["W1"][0, 0] == 0.3


def test_clip_gradients_exactly_at_max_norm_is_unchanged():
    grads = {"W1": np.array([[3.0, 4.0]])}
    np.testing.assert_array_equal(clip_gradients(grads, 5.0)["W1"], [[3.0, 4.0]])


@pytest.mark.parametrize("max_norm", [0.0, -1.0, float("nan")])
def test_clip_gradients_rejects_bad_max_norm(max_norm):
    with pytest.raises(ValueError, match="max_norm"):
        clip_gradients({"W1": np.ones((2, 2))}, max_norm)


def test_chain_product_matches_the_lecture():
    assert round(chain_product(1.1, 100), 1) == 13780.6     # the lecture's 1.1^100 = 13781
    assert chain_product(0.25, 10) == pytest.approx(9.5367e-7, rel=1e-4)
    assert chain_product(0.01, 10) == pytest.approx(1e-20)
    assert chain_product(0.5, 0) == 1.0
    with pytest.raises(ValueError, match="n must be"):
        chain_product(1.1, -1)


def test_chain_product_curves():
    curves = chain_product_curves((0.25, 1.1), 100)
    assert curves[0.25].shape == (101,) and curves[0.25][0] == 1.0
    assert curves[1.1][100] == pytest.approx(13780.61234, rel=1e-9)
    assert curves[0.25][3] == pytest.approx(0.25 ** 3)


def test_deep_sigmoid_first_layer_gradient_is_far_smaller_than_the_last():
    """Must-pass (issue): 20-layer sigmoid net, ||dW^1|| at least 1e3 times smaller than ||dW^20||."""
    norms = gradient_norms_at_init(depth=20, activation="sigmoid", init="xavier", seed=0)
    assert norms.shape == (20,)
    assert norms[0] * 1e3 <= norms[-1], norms          # measured ratio ~1e12


def test_he_init_with_relu_keeps_layers_within_a_factor_of_ten():
    """Must-pass (issue): He init + ReLU, 20 layers: max / min of ||dW^l|| below 10 (measured ~7)."""
    norms = gradient_norms_at_init(depth=20, activation="relu", init="he", seed=0)
    assert norms.max() / norms.min() < 10.0, norms


def test_gradient_norm_experiments_return_one_curve_per_setting():
    by_act = gradient_norms_by_activation(depth=6, width=16, n=32)
    assert set(by_act) == {"sigmoid", "tanh", "relu"} and all(v.shape == (6,) for v in by_act.values())
    by_init = gradient_norms_by_init(depth=6, width=16, n=32)
    assert list(by_init) == ["small", "xavier", "he", "large"]
    assert by_init["small"].max() < 1e-6 and by_init["large"].min() > 10.0  # measured 1e-9, 88


def test_activation_statistics_show_saturation_of_a_large_init():
    X = np.random.default_rng(0).standard_normal((200, 32))
    big = activation_statistics(init_mlp([32] * 6 + [4], init="large", seed=0), X, "sigmoid")
    calm = activation_statistics(init_mlp([32] * 6 + [4], init="xavier", seed=0), X, "sigmoid")
    assert big["mean"].shape == big["std"].shape == big["saturated"].shape == (5,)
    assert len(big["activations"]) == 5 and big["activations"][0].shape == (200, 32)
    assert big["saturated"].mean() > 0.25 and calm["saturated"].max() < 0.05  # measured 0.35, 0.0
    assert np.all((big["activations"][2] >= 0) & (big["activations"][2] <= 1))


def test_activation_statistics_relu_counts_inactive_units():
    X = np.random.default_rng(0).standard_normal((500, 16))
    stats = activation_statistics(init_mlp([16, 16, 16, 2], init="he", seed=0), X, "relu")
    A1 = stats["activations"][0]
    assert stats["saturated"][0] == pytest.approx(np.mean(A1 <= 0))
    with pytest.raises(ValueError, match="unknown activation"):
        activation_statistics(init_mlp([16, 2], seed=0), X, "softplus")


@pytest.fixture(scope="module")
def digits():
    from backprop_lib.data import load_digits

    X_train, y_train, _, _ = load_digits(seed=0)
    return X_train, y_train


def test_deep_relu_trains_where_deep_sigmoid_does_not(digits):
    X, y = digits
    runs = deep_training_comparison(X[:640], y[:640], depth=20, width=32, epochs=3, seed=0)
    sig, relu = runs["sigmoid"], runs["relu"]
    assert sig["grad_norms"].shape == (30, 20)
    assert sig["train_acc"][-1] < 0.2                      # stuck near chance (10 %)
    assert relu["train_acc"][-1] > sig["train_acc"][-1] + 0.1
    assert np.median(sig["grad_norms"][:, 0] / sig["grad_norms"][:, -1]) < 1e-6


def test_clipping_prevents_the_blow_up(digits):
    X, y = digits
    runs = clipping_comparison(X, y, max_norm=1.0, seed=0)
    assert runs["no clipping"]["diverged"]
    assert not runs["clipping"]["diverged"]
    assert runs["clipping"]["train_acc"][-1] > 0.8           # measured 0.90


def test_clip_gradients_keeps_float32():
    clipped = clip_gradients({"W1": np.full((2, 2), 10.0, dtype=np.float32)}, 1.0)
    assert clipped["W1"].dtype == np.float32
    assert global_norm(clipped) == pytest.approx(1.0, rel=1e-6)
