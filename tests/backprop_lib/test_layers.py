"""backprop_lib.layers: the lecture's numbers, every backward against numerical gradients
(hypothesis varies shapes and values, away from kinks), stability, and bad input."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_lib import layers
from backprop_lib.checks import norm_rel_error
from backprop_lib.gradcheck import numerical_gradient, numerical_gradient_array
from backprop_lib.layers import (
    ACTIVATIONS,
    affine_backward,
    affine_forward,
    elu_backward,
    elu_forward,
    l2_regularization,
    leaky_relu_backward,
    leaky_relu_forward,
    maxout_backward,
    maxout_forward,
    mse_loss,
    relu_forward,
    sigmoid_forward,
    softmax_loss,
    squared_norm_backward,
    squared_norm_forward,
    svm_loss,
    tanh_forward,
)
from backprop_lib.validate import check_choice

TOL = 1e-6  # gradcheck.NORM_TOL
FAST = settings(max_examples=15, deadline=None)

dims = st.integers(1, 4)
# values at least 0.05 away from the kinks at 0 of ReLU / leaky ReLU / ELU
away_from_zero = st.one_of(st.floats(0.05, 3.0), st.floats(-3.0, -0.05))
seeds = st.integers(0, 2**32 - 1)


def _arrays(shape, elements=st.floats(-2.0, 2.0)):
    return hnp.arrays(np.float64, shape, elements=elements)


# ----------------------------------------------------------------------------- lecture numbers
def test_squared_norm_matches_lecture():
    W = np.array([[0.1, 0.5], [-0.3, 0.8]])
    x = np.array([0.2, 0.4])
    f, cache = squared_norm_forward(x, W)
    assert f == pytest.approx(0.116)
    dx, dW = squared_norm_backward(1.0, cache)
    q = np.array([0.22, 0.26])
    np.testing.assert_allclose(dW, 2 * np.outer(q, x))
    np.testing.assert_allclose(dW, [[0.088, 0.176], [0.104, 0.208]])
    np.testing.assert_allclose(dx, [-0.112, 0.636])


def test_leaky_relu_default_slope_is_the_lectures_0_1():
    x = np.array([-2.0, -0.5, 0.0, 3.0])
    out, cache = leaky_relu_forward(x)
    np.testing.assert_allclose(out, [-0.2, -0.05, 0.0, 3.0])
    np.testing.assert_allclose(out, np.maximum(0.1 * x, x))
    np.testing.assert_allclose(leaky_relu_backward(np.ones(4), cache), [0.1, 0.1, 0.1, 1.0])


def test_elu_values_and_default_alpha():
    out, cache = elu_forward(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_allclose(out, [np.exp(-1.0) - 1.0, 0.0, 2.0])
    np.testing.assert_allclose(elu_backward(np.ones(3), cache), [np.exp(-1.0), 1.0, 1.0])


def test_svm_loss_cat_example():
    loss, dscores = svm_loss(np.array([[3.2, 5.1, -1.7]]), np.array([0]))
    assert loss == pytest.approx(2.9)
    np.testing.assert_allclose(dscores, [[-1.0, 1.0, 0.0]])


def test_softmax_loss_uniform_scores_is_log_c():
    loss, dscores = softmax_loss(np.zeros((4, 5)), np.array([0, 1, 2, 3]))
    assert loss == pytest.approx(np.log(5))
    np.testing.assert_allclose(dscores.sum(axis=1), 0.0, atol=1e-15)
    assert dscores[0, 0] == pytest.approx((0.2 - 1) / 4)


def test_mse_loss_value_and_gradient():
    pred, target = np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[0.0, 2.0], [3.0, 3.0]])
    loss, dpred = mse_loss(pred, target)
    assert loss == pytest.approx(0.5 * (1 + 4) / 2)
    np.testing.assert_allclose(dpred, [[0.5, 0.0], [0.0, 1.0]])


def test_l2_regularization_value_and_gradient():
    W1, W2 = np.array([[1.0, -2.0]]), np.array([[3.0], [0.5]])
    loss, (dW1, dW2) = l2_regularization([W1, W2], reg=0.1)
    assert loss == pytest.approx(0.1 * (1 + 4 + 9 + 0.25))
    np.testing.assert_allclose(dW1, 0.2 * W1)
    np.testing.assert_allclose(dW2, 0.2 * W2)


# ----------------------------------------------------------------------------- numerical gradients
@FAST
@given(N=dims, D=dims, M=dims, seed=seeds)
def test_affine_backward_matches_numerical(N, D, M, seed):
    rng = np.random.default_rng(seed)
    x, W, b = rng.standard_normal((N, D)), rng.standard_normal((M, D)), rng.standard_normal(M)
    out, cache = affine_forward(x, W, b)
    np.testing.assert_allclose(out, x @ W.T + b)
    dout = rng.standard_normal(out.shape)
    dx, dW, db = affine_backward(dout, cache)
    assert (dx.shape, dW.shape, db.shape) == (x.shape, W.shape, b.shape)
    assert norm_rel_error(dx, numerical_gradient_array(lambda v: affine_forward(v, W, b)[0], x, dout)) < TOL
    assert norm_rel_error(dW, numerical_gradient_array(lambda v: affine_forward(x, v, b)[0], W, dout)) < TOL
    assert norm_rel_error(db, numerical_gradient_array(lambda v: affine_forward(x, W, v)[0], b, dout)) < TOL


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "identity"])
@FAST
@given(data=st.data())
def test_activation_backward_matches_numerical(name, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(_arrays(shape, away_from_zero))
    dout = data.draw(_arrays(shape))
    forward, backward = ACTIVATIONS[name]
    out, cache = forward(x)
    assert out.shape == x.shape
    dx = backward(dout, cache)
    assert dx.shape == x.shape
    assert norm_rel_error(dx, numerical_gradient_array(lambda v: forward(v)[0], x, dout)) < TOL


@pytest.mark.parametrize("alpha", [0.01, 0.3])
def test_leaky_relu_and_elu_with_other_alpha(alpha):
    rng = np.random.default_rng(1)
    x = rng.choice([-1, 1], size=(3, 4)) * rng.uniform(0.1, 2.0, (3, 4))
    dout = rng.standard_normal(x.shape)
    for fwd, bwd in ((leaky_relu_forward, leaky_relu_backward), (elu_forward, elu_backward)):
        dx = bwd(dout, fwd(x, alpha)[1])
        assert norm_rel_error(dx, numerical_gradient_array(lambda v: fwd(v, alpha)[0], x, dout)) < TOL


@FAST
@given(N=dims, D=dims, M=dims, seed=seeds)
def test_maxout_backward_matches_numerical(N, D, M, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D))
    W1, W2 = rng.standard_normal((M, D)), rng.standard_normal((M, D))
    b1, b2 = rng.standard_normal(M), rng.standard_normal(M)
    assume(np.min(np.abs((x @ W1.T + b1) - (x @ W2.T + b2))) > 1e-2)  # away from the kink
    out, cache = maxout_forward(x, W1, b1, W2, b2)
    np.testing.assert_allclose(out, np.maximum(x @ W1.T + b1, x @ W2.T + b2))
    dout = rng.standard_normal(out.shape)
    grads = maxout_backward(dout, cache)
    params = [x, W1, b1, W2, b2]
    for i, (grad, p) in enumerate(zip(grads, params)):
        def f(v, i=i):
            args = list(params)
            args[i] = v
            return maxout_forward(*args)[0]
        assert grad.shape == p.shape
        assert norm_rel_error(grad, numerical_gradient_array(f, p, dout)) < TOL


def test_maxout_tie_goes_to_first_piece():
    x, W, b = np.ones((1, 2)), np.ones((1, 2)), np.zeros(1)
    _, dW1, db1, dW2, db2 = maxout_backward(np.ones((1, 1)), maxout_forward(x, W, b, W, b)[1])
    assert db1.tolist() == [1.0] and db2.tolist() == [0.0]


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
@FAST
@given(N=dims, C=st.integers(2, 5), seed=seeds)
def test_classification_losses_match_numerical(loss_fn, N, C, seed):
    rng = np.random.default_rng(seed)
    scores, y = rng.standard_normal((N, C)), rng.integers(0, C, N)
    margins = scores - scores[np.arange(N), y][:, None] + 1
    margins[np.arange(N), y] = 5.0
    assume(np.min(np.abs(margins)) > 1e-2)  # hinge kinks
    loss, dscores = loss_fn(scores, y)
    assert dscores.shape == scores.shape and np.isfinite(loss)
    assert norm_rel_error(dscores, numerical_gradient(lambda s: loss_fn(s, y)[0], scores)) < TOL


@FAST
@given(data=st.data())
def test_mse_and_l2_match_numerical(data):
    shape = data.draw(st.sampled_from([(3,), (2, 4), (1, 1)]))
    pred, target = data.draw(_arrays(shape)), data.draw(_arrays(shape))
    loss, dpred = mse_loss(pred, target)
    assert norm_rel_error(dpred, numerical_gradient(lambda p: mse_loss(p, target)[0], pred)) < TOL
    W = data.draw(_arrays((2, 3)))
    _, (dW,) = l2_regularization([W], 0.3)
    assert norm_rel_error(dW, numerical_gradient(lambda v: l2_regularization([v], 0.3)[0], W)) < TOL


@FAST
@given(D=dims, M=dims, seed=seeds, dout=st.floats(-2, 2))
def test_squared_norm_matches_numerical(D, M, seed, dout):
    rng = np.random.default_rng(seed)
    x, W = rng.standard_normal(D), rng.standard_normal((M, D))
    dx, dW = squared_norm_backward(dout, squared_norm_forward(x, W)[1])
    assert norm_rel_error(dx, dout * numerical_gradient(lambda v: squared_norm_forward(v, W)[0], x)) < TOL
    assert norm_rel_error(dW, dout * numerical_gradient(lambda v: squared_norm_forward(x, v)[0], W)) < TOL


# ----------------------------------------------------------------------------- stability
def test_softmax_is_stable_for_scores_of_1e4():
    scores = np.array([[1e4, 0.0, -1e4], [1e4, 1e4 - 2.0, 0.0]])
    y = np.array([1, 0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dscores = softmax_loss(scores, y)
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))
    shifted_loss, _ = softmax_loss(scores - scores.max(axis=1, keepdims=True), y)
    assert loss == pytest.approx(shifted_loss)
    assert loss == pytest.approx((1e4 + np.log1p(np.exp(-2.0))) / 2)


def test_sigmoid_and_elu_are_stable_for_large_inputs():
    x = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s, _ = sigmoid_forward(x)
        e, _ = elu_forward(x)
    np.testing.assert_allclose(s, [0.0, np.exp(-40.0) / (1 + np.exp(-40.0)), 0.5, 1.0, 1.0], rtol=1e-12)
    assert s[1] > 0  # not flushed to zero
    np.testing.assert_allclose(e, [-1.0, np.expm1(-40.0), 0.0, 40.0, 1000.0])


def test_forwards_do_not_modify_their_input():
    x = np.array([[-1.0, 2.0], [0.5, -3.0]])
    before = x.copy()
    for name, (forward, _) in ACTIVATIONS.items():
        forward(x)
    affine_forward(x, np.eye(2), np.zeros(2))
    np.testing.assert_array_equal(x, before)


def test_tanh_forward_value():
    np.testing.assert_allclose(tanh_forward(np.array([0.5]))[0], np.tanh(0.5))


# ----------------------------------------------------------------------------- bad input
def test_affine_rejects_mismatched_shapes_by_name():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"W must have shape \(\*, 3\)"):
        affine_forward(x, np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        affine_forward(x, np.zeros((4, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="x must have 2 dimension"):
        affine_forward(np.zeros(3), np.zeros((4, 3)), np.zeros(4))
    _, cache = affine_forward(x, np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 4\)"):
        affine_backward(np.zeros((4, 2)), cache)


def test_activation_backward_rejects_wrong_dout_shape():
    _, cache = relu_forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="dout must have shape"):
        ACTIVATIONS["relu"][1](np.ones((3, 2)), cache)


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_losses_reject_bad_labels(loss_fn):
    scores = np.zeros((2, 3))
    with pytest.raises(ValueError, match="y must hold integer class labels"):
        loss_fn(scores, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 3\)"):
        loss_fn(scores, np.array([0, 3]))
    with pytest.raises(ValueError, match="y must have one label per example"):
        loss_fn(scores, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="scores must have 2 dimension"):
        loss_fn(np.zeros(3), np.array([0]))


def test_other_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="target and pred must have the same shape"):
        mse_loss(np.zeros((2, 1)), np.zeros(2))
    with pytest.raises(ValueError, match="alpha must be in"):
        leaky_relu_forward(np.ones(2), alpha=2.0)
    with pytest.raises(ValueError, match="reg must be >= 0"):
        l2_regularization([np.ones(2)], -1.0)
    with pytest.raises(ValueError, match="weights must be a list"):
        l2_regularization(np.ones((2, 2)), 0.1)
    with pytest.raises(ValueError, match=r"W must have shape \(\*, 2\)"):
        squared_norm_forward(np.ones(2), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"W2 must have shape \(3, 2\)"):
        maxout_forward(np.ones((1, 2)), np.ones((3, 2)), np.ones(3), np.ones((2, 2)), np.ones(3))
    with pytest.raises(ValueError, match="x must be a real numeric array"):
        relu_forward(np.array(["a", "b"]))


def test_unknown_activation_name_is_a_value_error():
    with pytest.raises(ValueError, match=r"unknown activation 'swish'.*'sigmoid', 'tanh', 'relu', 'leaky_relu', 'elu', 'identity'"):
        check_choice("swish", ACTIVATIONS, "activation")


# ----------------------------------------------------------------------------- solution markers
def test_every_solution_region_has_a_task_line_and_strips_to_valid_python():
    src = Path(layers.__file__).read_text()
    lines = src.splitlines()
    begins = [i for i, line in enumerate(lines) if line.strip() == "### BEGIN SOLUTION"]
    assert len(begins) == 20
    for i in begins:
        assert lines[i - 1].strip().startswith("# TASK: "), lines[i - 1]
    stub = re.sub(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION",
                  lambda m: f"{m.group(1)}raise NotImplementedError('todo')", src, flags=re.S)
    compile(stub, "layers_stub.py", "exec")
