"""SGD, SGD with momentum (the lecture's rule), minibatches, the quadratic, the training loop."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_lib.mlp import init_mlp
from backprop_lib.optim import (
    accuracy,
    minibatches,
    momentum_paths,
    predict,
    quadratic_grad,
    quadratic_loss,
    sgd,
    sgd_momentum,
    train,
)

W = np.array([[1.0, -2.0], [0.5, 3.0]])
DW = np.array([[0.1, 0.2], [-0.3, 0.4]])


def test_sgd_steps_against_the_gradient_with_default_rate():
    next_w, config = sgd(W, DW)
    np.testing.assert_allclose(next_w, W - 1e-2 * DW)
    assert config == {"learning_rate": 1e-2}
    next_w, _ = sgd(W, DW, {"learning_rate": 0.5})
    np.testing.assert_allclose(next_w, [[0.95, -2.1], [0.65, 2.8]])


def test_sgd_returns_new_arrays_and_leaves_inputs_alone():
    w, dw, config = W.copy(), DW.copy(), {"learning_rate": 0.1}
    next_w, new_config = sgd(w, dw, config)
    assert next_w is not w and new_config is not config
    np.testing.assert_array_equal(w, W)
    np.testing.assert_array_equal(dw, DW)
    assert config == {"learning_rate": 0.1}


def test_momentum_first_step_is_sgd_and_velocity_is_the_gradient():
    next_w, config = sgd_momentum(W, DW)
    np.testing.assert_allclose(next_w, W - 1e-2 * DW)
    np.testing.assert_allclose(config["velocity"], DW)
    assert config["momentum"] == 0.9 and config["learning_rate"] == 1e-2


def test_momentum_follows_the_lecture_rule_over_three_steps():
    """v <- dw + momentum * v; w <- w - learning_rate * v (numbers by hand, lr 0.1, mu 0.5)."""
    w = np.array([1.0])
    config = {"learning_rate": 0.1, "momentum": 0.5}
    for dw, v_expected, w_expected in [(2.0, 2.0, 0.8), (2.0, 3.0, 0.5), (-1.0, 0.5, 0.45)]:
        w, config = sgd_momentum(w, np.array([dw]), config)
        assert config["velocity"][0] == pytest.approx(v_expected)
        assert w[0] == pytest.approx(w_expected)


def test_momentum_does_not_modify_the_callers_velocity():
    v = np.ones_like(W)
    config = {"learning_rate": 0.1, "momentum": 0.9, "velocity": v}
    _, new_config = sgd_momentum(W, DW, config)
    np.testing.assert_array_equal(v, np.ones_like(W))
    assert config["velocity"] is v
    np.testing.assert_allclose(new_config["velocity"], DW + 0.9)


def test_momentum_zero_is_plain_sgd():
    w_sgd, w_mom = W.copy(), W.copy()
    c_sgd, c_mom = {"learning_rate": 0.1}, {"learning_rate": 0.1, "momentum": 0.0}
    for k in range(3):
        w_sgd, c_sgd = sgd(w_sgd, DW * (k + 1), c_sgd)
        w_mom, c_mom = sgd_momentum(w_mom, DW * (k + 1), c_mom)
    np.testing.assert_allclose(w_mom, w_sgd)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]),
       learning_rate=st.floats(1e-6, 10.0), momentum=st.floats(0.0, 0.999))
def test_update_rules_give_the_lecture_formula_bit_for_bit(data, dtype, learning_rate, momentum):
    # the code writes w - lr * v as -lr * v + w (see the module docstring): the same numbers
    shape = data.draw(hnp.array_shapes(max_dims=3, max_side=6))
    values = hnp.arrays(dtype, shape, elements=st.floats(-1e3, 1e3, width=np.finfo(dtype).bits))
    w, dw, v = data.draw(values), data.draw(values), data.draw(values)
    next_w, _ = sgd(w, dw, {"learning_rate": learning_rate})
    np.testing.assert_array_equal(next_w, w - learning_rate * dw, strict=True)
    next_w, config = sgd_momentum(w, dw, {"learning_rate": learning_rate, "momentum": momentum,
                                          "velocity": v})
    lecture_v = dw + momentum * v
    np.testing.assert_array_equal(config["velocity"], lecture_v, strict=True)
    np.testing.assert_array_equal(next_w, w - learning_rate * lecture_v, strict=True)


def _peak_arrays(call, w: np.ndarray) -> float:
    """Peak memory numpy allocated during ``call()``, in arrays of w's size (tracemalloc)."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1] / w.nbytes
    finally:
        tracemalloc.stop()


def test_update_rules_add_w_into_their_temporary_instead_of_a_new_array():
    # 2 MB arrays, above numpy's 256 KiB threshold for reusing a temporary
    w, dw, v = (np.random.default_rng(k).standard_normal((512, 512)) for k in range(3))
    assert _peak_arrays(lambda: sgd(w, dw), w) == pytest.approx(1, abs=0.01)
    # the new velocity and next_w; written as w - lr * v, a third array
    assert _peak_arrays(lambda: sgd_momentum(w, dw, {"velocity": v}), w) == pytest.approx(2, abs=0.01)

    def lecture_order():
        new_v = dw + 0.9 * v
        return w - 1e-2 * new_v

    assert _peak_arrays(lecture_order, w) == pytest.approx(3, abs=0.01)


@pytest.mark.parametrize("call, match", [
    (lambda: sgd(W, DW[:1]), "dw must have the shape of w"),
    (lambda: sgd(W, DW, {"learning_rate": -1}), "learning_rate"),
    (lambda: sgd(W, DW, [0.1]), "config must be a dict"),
    (lambda: sgd_momentum(W, DW, {"momentum": -0.5}), "momentum"),
    (lambda: sgd_momentum(W, DW, {"velocity": np.zeros(3)}), "velocity"),
    (lambda: sgd(W, "abc"), "dw"),
])
def test_update_rules_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_minibatches_follow_the_documented_permutation_rule():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    batches = list(minibatches(X, y, 4, np.random.default_rng(3)))
    order = np.random.default_rng(3).permutation(10)
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), order)
    for X_batch, y_batch in batches:
        np.testing.assert_array_equal(X_batch, X[y_batch])


def test_minibatches_one_batch_when_batch_size_exceeds_n_and_rng_advances():
    X, y = np.zeros((5, 3)), np.arange(5)
    rng = np.random.default_rng(0)
    (only,) = list(minibatches(X, y, 64, rng))
    assert only[0].shape == (5, 3)
    second = list(minibatches(X, y, 64, rng))[0][1]
    assert sorted(second) == list(range(5))


@pytest.mark.parametrize("X, y, batch_size, rng, match", [
    (np.zeros((4, 2)), np.zeros(3), 2, np.random.default_rng(0), "same number of rows"),
    (np.zeros((4, 2)), np.zeros(4), 0, np.random.default_rng(0), "batch_size"),
    (np.zeros((4, 2)), np.zeros(4), 2.0, np.random.default_rng(0), "batch_size"),
    (np.zeros((4, 2)), np.zeros(4), 2, 42, "Generator"),
])
def test_minibatches_reject_bad_input(X, y, batch_size, rng, match):
    with pytest.raises(ValueError, match=match):
        next(iter(minibatches(X, y, batch_size, rng)))


def test_quadratic_loss_and_gradient():
    w = np.array([2.0, -1.0])
    assert quadratic_loss(w) == pytest.approx(0.5 * (4.0 + 25.0))
    np.testing.assert_allclose(quadratic_grad(w), [2.0, -25.0])
    assert quadratic_loss(np.zeros((3, 4, 2))).shape == (3, 4)
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        quadratic_loss(np.zeros(3))


def test_momentum_beats_plain_sgd_on_the_ill_conditioned_quadratic():
    """Must-pass (issue): momentum 0.9 reaches a lower loss than momentum 0 in the same steps."""
    paths = momentum_paths(momenta=(0.0, 0.9), steps=100)
    loss_plain = quadratic_loss(paths[0.0])[-1]
    loss_momentum = quadratic_loss(paths[0.9])[-1]
    assert paths[0.0].shape == (101, 2)
    np.testing.assert_array_equal(paths[0.9][0], [-4.0, 1.5])
    assert loss_momentum < 0.01 * loss_plain, (loss_momentum, loss_plain)  # measured 3.8e-4 vs 0.14


def test_train_records_history_with_the_documented_shapes():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    params = init_mlp([3, 8, 6, 2], init="he", seed=0)
    before = {k: v.copy() for k, v in params.items()}
    h = train(params, X, y, X_val=X[:10], y_val=y[:10], config={"learning_rate": 0.05},
              epochs=6, batch_size=16, activation="relu")
    assert h["steps_per_epoch"] == 4
    assert h["loss"].shape == (24,) and h["grad_norms"].shape == (24, 3)
    assert h["train_acc"].shape == (6,) and h["val_acc"].shape == (6,)
    assert not h["diverged"] and np.all(h["grad_norms"] > 0)
    for k in params:  # the caller's params are untouched
        np.testing.assert_array_equal(params[k], before[k])
    assert h["train_acc"][-1] >= 0.9
    assert accuracy(h["params"], X, y, "relu") == pytest.approx(h["train_acc"][-1])
    assert predict(h["params"], X, "relu").dtype == np.int64


def test_train_norms_are_of_the_raw_gradient_and_the_hook_changes_the_step():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 2, 20)
    params = init_mlp([3, 5, 2], seed=1)
    frozen = train(params, X, y, epochs=1, batch_size=20, activation="tanh",
                   grad_hook=lambda g: {k: np.zeros_like(v) for k, v in g.items()})
    for k in params:
        np.testing.assert_array_equal(frozen["params"][k], params[k])
    assert np.all(frozen["grad_norms"] > 0)


def test_train_stops_and_flags_a_diverging_run():
    """A linear net on a squared loss with far too large a step grows geometrically to inf."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 4)), rng.standard_normal((32, 2))
    params = init_mlp([4, 8, 2], seed=0)
    h = train(params, X, y, config={"learning_rate": 10.0}, epochs=50, batch_size=8,
              activation="identity", loss="mse")
    assert h["diverged"]
    assert h["loss"].shape == (200,) and np.isnan(h["loss"][-1])
    assert not np.isfinite(h["loss"]).all() and np.isfinite(h["loss"][0])


@pytest.mark.parametrize("kwargs, match", [
    ({"update": "adam"}, "unknown update 'adam'"),
    ({"epochs": 0}, "epochs"),
    ({"batch_size": -1}, "batch_size"),
    ({"X_val": np.zeros((2, 3))}, "X_val and y_val"),
])
def test_train_rejects_bad_input(kwargs, match):
    params = init_mlp([3, 2], seed=0)
    with pytest.raises(ValueError, match=match):
        train(params, np.zeros((4, 3)), np.zeros(4, dtype=np.int64), **kwargs)
