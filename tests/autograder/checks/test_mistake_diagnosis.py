"""Tests of autograder/checks/mistakes: for each mistake name of the contract, a planted wrong
submission loses points and is named; the diagnosis never names a mistake for a right answer.

Submissions run in-process (trusted test code only), through tasks_for -> driver -> evaluate.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from backprop_lib import gates, init, layers, mlp
from backprop_lib.validate import check_grad_shape

from autograder import checks
from autograder.checks import mistakes
from autograder.checks.mistakes import Context, describe, diagnose, diagnose_shape_error


def graded(function: str, ns: dict, seed: int = 0) -> list[checks.Verdict]:
    rng = np.random.default_rng([seed, 2024])
    return [checks.evaluate(task, checks.run_in_process(ns, task)) for task in checks.tasks_for(function, rng)]


def assert_named(function: str, ns: dict, mistake: str, seeds: range = range(5)) -> None:
    """The planted submission loses points and its failing checks name `mistake`."""
    for seed in seeds:
        verdicts = graded(function, ns, seed)
        failed = [v for v in verdicts if v.fraction < 1.0]
        assert failed, f"{function}: the wrong submission got full marks"
        assert sum(v.fraction for v in verdicts) < len(verdicts)
        named = {v.mistake for v in failed}
        assert mistake in named, [v.message for v in failed]
        assert named <= {mistake, None}, named
        phrase = describe(mistake, "\0").split("\0")[-1].split("N =")[0][:30]  # e.g. " looks like the"
        assert all(phrase in v.message for v in failed if v.mistake == mistake), [v.message for v in failed]


LAYERS = dict(vars(layers))
A3 = {**vars(init), **vars(mlp)}


# ----------------------------------------------------------------------------- planted mistakes
def test_missing_transpose_returned_and_raised():
    def returned(dout, cache):  # no shape check: the transposed dW comes back
        x, W = cache
        return dout @ W, x.T @ dout, dout.sum(axis=0)

    def raised(dout, cache):  # the library's shape check kept: it raises ValueError
        x, W = cache
        dW = x.T @ dout
        check_grad_shape(dW, W, "dW")
        return dout @ W, dW, dout.sum(axis=0)

    for wrong in (returned, raised):
        assert_named("affine_backward", {**LAYERS, "affine_backward": wrong}, "missing_transpose")
    verdict = {v.message.split(":")[0]: v for v in graded("affine_backward", {**LAYERS, "affine_backward": returned})}
    assert verdict["dW has shape (4, 3), expected (3, 4); your dW looks like the transpose of the right one"]


def test_missing_transpose_of_a_square_gradient():
    def square(dout, cache):
        x, W, q = cache
        return 2.0 * W.T @ q * dout, 2.0 * np.outer(x, q) * dout

    ns = {**LAYERS, "squared_norm_forward": layers.squared_norm_forward, "squared_norm_backward": square}
    assert_named("squared_norm_backward", ns, "missing_transpose")


def test_wrong_sign_in_a_backward_and_in_sgd():
    def relu_backward(dout, cache):
        (x,) = cache
        return -dout * (x > 0)

    def sgd(w, dw, config=None):
        config = dict(config or {})
        return w + config.setdefault("learning_rate", 1e-2) * dw, config

    assert_named("relu_backward", {**LAYERS, "relu_backward": relu_backward}, "wrong_sign")
    assert_named("sgd", {"sgd": sgd}, "wrong_sign")


def test_missing_mean_in_softmax_and_mlp_loss():
    def softmax_loss(scores, y):
        loss, dscores = layers.softmax_loss(scores, y)
        return loss * len(y), dscores * len(y)  # summed, not averaged

    def mlp_loss(params, X, y, activation="sigmoid", loss="softmax", reg=0.0):
        data_loss, grads = mlp.mlp_loss(params, X, y, activation=activation, loss=loss, reg=0.0)
        for k in grads:
            grads[k] = grads[k] * len(X) + (2 * reg * params[k] if k.startswith("W") else 0.0)
        penalty = reg * sum(np.sum(params[k] ** 2) for k in params if k.startswith("W"))
        return data_loss * len(X) + penalty, grads

    assert_named("softmax_loss", {"softmax_loss": softmax_loss}, "missing_mean")
    assert_named("mlp_loss", {**A3, "mlp_loss": mlp_loss}, "missing_mean")


def test_activation_not_preactivation_in_sigmoid_and_mlp():
    def sigmoid_backward(dout, cache):
        (s,) = cache
        a = 1.0 / (1.0 + np.exp(-s))  # sigma' evaluated at the activation s
        return a * (1.0 - a) * dout

    def tanh_backward(dout, cache):
        (t,) = cache
        return (1.0 - np.tanh(t) ** 2) * dout

    acts = {"sigmoid": lambda u: 1 / (1 + np.exp(-u)), "tanh": np.tanh,
            "relu": lambda u: np.maximum(u, 0), "identity": lambda u: u}
    slopes = {"sigmoid": lambda u: acts["sigmoid"](u) * (1 - acts["sigmoid"](u)),
              "tanh": lambda u: 1 - np.tanh(u) ** 2, "relu": lambda u: (u > 0) * 1.0,
              "identity": lambda u: np.ones_like(u)}

    def mlp_forward(params, X, activation="sigmoid", output_activation="identity"):
        L, A, cache = len(params) // 2, X, []
        for l in range(1, L + 1):
            name = output_activation if l == L else activation
            Z = A @ params[f"W{l}"].T + params[f"b{l}"]
            cache.append((A, params[f"W{l}"], name))
            A = acts[name](Z)
            cache[-1] += (A,)
        return A, cache

    def mlp_backward(dY, cache):
        grads, upstream = {}, dY
        for l in range(len(cache), 0, -1):
            A_prev, W, name, A = cache[l - 1]
            delta = slopes[name](A) * upstream  # sigma' at the activation A instead of Z
            grads[f"W{l}"], grads[f"b{l}"] = delta.T @ A_prev, delta.sum(axis=0)
            upstream = delta @ W
        return grads

    assert_named("sigmoid_backward", {**LAYERS, "sigmoid_backward": sigmoid_backward}, "activation_not_preactivation")
    assert_named("tanh_backward", {**LAYERS, "tanh_backward": tanh_backward}, "activation_not_preactivation")
    # the sigmoid run names it (dW3, db3 of the identity output layer stay right); the ReLU run
    # (whose sigma' is the same at a and z) passes
    verdicts = graded("mlp_backward", {"mlp_forward": mlp_forward, "mlp_backward": mlp_backward})
    assert verdicts[0].mistake == "activation_not_preactivation"
    assert verdicts[0].fraction == pytest.approx(2 / 6)
    assert verdicts[1].passed


def test_ignored_upstream_in_layers_gates_and_the_array_checker():
    def relu_backward(dout, cache):
        (x,) = cache
        return (x > 0).astype(float)  # the local gradient alone

    class MultiplyGate(gates.MultiplyGate):
        def backward(self, dz):
            return self.y, self.x

    class AddGate(gates.AddGate):
        def backward(self, dz):
            return 1.0, 1.0  # constants: a shape mistake too, but named by what they mean

    def numerical_gradient_array(f, x, dout, h=1e-5):
        return numerical_gradient(lambda v: np.sum(f(v)), x, h)  # dout never used

    from backprop_lib.gradcheck import numerical_gradient

    assert_named("relu_backward", {**LAYERS, "relu_backward": relu_backward}, "ignored_upstream")
    assert_named("MultiplyGate", {"MultiplyGate": MultiplyGate}, "ignored_upstream")
    assert_named("AddGate", {"AddGate": AddGate}, "ignored_upstream")
    assert_named("numerical_gradient_array", {"numerical_gradient_array": numerical_gradient_array},
                 "ignored_upstream")


def test_momentum_order():
    def position_first(w, dw, config=None):
        config = dict(config or {})
        lr, mu = config.setdefault("learning_rate", 1e-2), config.setdefault("momentum", 0.9)
        v = config.get("velocity", np.zeros_like(w))
        next_w = w - lr * v  # steps with the old velocity
        config["velocity"] = dw + mu * v
        return next_w, config

    def momentum_on_gradient(w, dw, config=None):
        config = dict(config or {})
        lr, mu = config.setdefault("learning_rate", 1e-2), config.setdefault("momentum", 0.9)
        config["velocity"] = mu * dw + config.get("velocity", np.zeros_like(w))
        return w - lr * config["velocity"], config

    assert_named("sgd_momentum", {"sgd_momentum": position_first}, "momentum_order")
    assert_named("sgd_momentum", {"sgd_momentum": momentum_on_gradient}, "momentum_order")
    verdicts = graded("sgd_momentum", {"sgd_momentum": position_first})
    assert "first v = dw + momentum * v, then w = w - learning_rate * v" in verdicts[0].message


def test_wrong_reg_factor_in_mlp_loss_and_l2():
    def mlp_loss(params, X, y, activation="sigmoid", loss="softmax", reg=0.0):
        total, grads = mlp.mlp_loss(params, X, y, activation=activation, loss=loss, reg=reg)
        for k in grads:
            if k.startswith("W"):
                grads[k] = grads[k] - reg * params[k]  # reg * W instead of 2 * reg * W
        return total, grads

    def l2_regularization(weights, reg):
        return 0.5 * reg * sum(np.sum(W ** 2) for W in weights), [reg * W for W in weights]

    verdicts = graded("mlp_loss", {**A3, "mlp_loss": mlp_loss})
    by_check = dict(zip(checks.check_names("mlp_loss"), verdicts))
    assert by_check["softmax_grads"].passed  # reg = 0 there: nothing to get wrong
    assert by_check["svm_grads"].mistake == "wrong_reg_factor" and by_check["svm_grads"].fraction < 1
    assert by_check["mse_grads"].mistake == "wrong_reg_factor"
    assert_named("l2_regularization", {"l2_regularization": l2_regularization}, "wrong_reg_factor")


def test_bias_not_summed_returned_and_raised():
    def returned(dout, cache):
        x, W = cache
        return dout @ W, dout.T @ x, dout

    def raised(dout, cache):
        x, W = cache
        db = dout
        check_grad_shape(db, W[:, 0], "db")
        return dout @ W, dout.T @ x, db

    for wrong in (returned, raised):
        assert_named("affine_backward", {**LAYERS, "affine_backward": wrong}, "bias_not_summed")


def test_wrong_shape():
    def keepdims(dout, cache):
        x, W = cache
        return dout @ W, dout.T @ x, dout.sum(axis=0, keepdims=True)

    def row_vector(dout, cache):
        x, W, q = cache
        return (2.0 * W.T @ q * dout)[None, :], 2.0 * np.outer(q, x) * dout

    assert_named("affine_backward", {**LAYERS, "affine_backward": keepdims}, "wrong_shape")
    assert_named("squared_norm_backward", {**LAYERS, "squared_norm_backward": row_vector}, "wrong_shape")


def test_issue_13_names_planted_in_process():
    """The four names issue 13 added (the held-out bug set is tests/fixtures/student_bugs.py)."""
    import sys as _sys
    _sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from fixtures.numerical_backward import namespace as numerical

    def relu_on_dout(dout, cache):
        return dout * (dout > 0)
    assert_named("relu_backward", {**LAYERS, "relu_backward": relu_on_dout}, "wrong_mask")

    def maxout_one_branch(dout, cache):
        x, W1, W2, first = cache
        dz1, dz2 = dout * first, dout * ~first
        return dz1 @ W1, dz1.T @ x, dz1.sum(axis=0), dz2.T @ x, dz2.sum(axis=0)
    assert_named("maxout_backward", {**LAYERS, "maxout_backward": maxout_one_branch}, "not_accumulated")

    def no_hidden_slope(dY, cache):
        layer_caches, activation, output_activation = cache
        L = len(layer_caches)
        grads, upstream = {}, dY
        for l in range(L, 0, -1):
            A_prev, W, Z, act_cache = layer_caches[l - 1]
            delta = layers.ACTIVATIONS[output_activation][1](upstream, act_cache) if l == L else upstream
            grads[f"W{l}"], grads[f"b{l}"] = delta.T @ A_prev, delta.sum(axis=0)
            upstream = delta @ W
        return grads
    assert_named("mlp_backward", {**A3, "mlp_backward": no_hidden_slope}, "missing_local_gradient")
    assert_named("mse_loss", numerical("a2_vectorized"), "not_backprop")


def test_every_contract_name_is_planted_above():
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    for name in mistakes.MISTAKES:
        assert f'"{name}")' in source, name


# ----------------------------------------------------------------------------- unit tests
def test_diagnose_names_nothing_for_the_right_answer_or_unrelated_errors():
    rng = np.random.default_rng(0)
    right = rng.standard_normal((4, 3))
    ctx = Context("dW", batch_size=5, mean=True, candidates={"ignored_upstream": [rng.standard_normal((4, 3))]})
    assert diagnose(right, right, ctx) is None
    assert diagnose(right + 0.3 * rng.standard_normal((4, 3)), right, ctx) is None
    assert diagnose(-right, right, ctx) == "wrong_sign"
    assert diagnose(5 * right, right, ctx) == "missing_mean"
    assert diagnose(right.T, right, ctx) == "missing_transpose"
    assert diagnose(np.full((4, 3), np.nan), right, ctx) is None


def test_a_candidate_equal_to_the_right_answer_is_never_named():
    right = np.arange(6.0).reshape(2, 3)
    ctx = Context("dx", candidates={"ignored_upstream": [right.copy()]})
    assert diagnose(right * (1 + 1e-9), right, ctx) is None


def test_shape_mistakes():
    assert mistakes.shape_mistake((3, 4), (4, 3)) == "missing_transpose"
    assert mistakes.shape_mistake((5, 3), (3,), bias=True, batch_size=5) == "bias_not_summed"
    assert mistakes.shape_mistake((5, 3), (3,), bias=False) == "wrong_shape"
    assert mistakes.shape_mistake((1, 3), (3,), bias=True, batch_size=5) == "wrong_shape"
    assert mistakes.shape_mistake((3,), (3,)) is None


def test_diagnose_shape_error_reads_the_library_shape_fields():
    """The library's GradShapeError travels as numbers (Outcome.shape); no message is parsed."""
    from backprop_lib.validate import GradShapeError, check_grad_shape

    def shape_of(call) -> dict:
        with pytest.raises(GradShapeError) as err:
            call()
        ns = {"f": call}
        outcome = checks.run_in_process(ns, checks.Task("f", "out", "forward", {"fn": "f", "n_in": 0}))
        assert outcome.shape == {"name": err.value.name, "got": list(err.value.got),
                                 "expected": list(err.value.expected)}
        return outcome.shape

    dW = shape_of(lambda: check_grad_shape(np.zeros((4, 3)), np.zeros((3, 4)), "dW"))
    assert diagnose_shape_error(dW) == ("missing_transpose", "dW")
    db = shape_of(lambda: check_grad_shape(np.zeros((5, 3)), np.zeros(3), "db"))
    assert diagnose_shape_error(db, batch_size=5) == ("bias_not_summed", "db")
    db2 = {"name": "db2", "got": [6, 3], "expected": [3]}  # mlp_backward uses the same helper
    assert diagnose_shape_error(db2, batch_size=6) == ("bias_not_summed", "db2")
    assert diagnose_shape_error(None) == (None, "")
    assert diagnose_shape_error({"name": "dx", "got": [2, 2, 2], "expected": [2, 4]}) == ("wrong_shape", "dx")


def test_describe_speaks_to_the_student():
    assert describe("missing_transpose", "dW") == "your dW looks like the transpose of the right one"
    assert "N = 8 times too large" in describe("missing_mean", "dscores", 8)
    for name in mistakes.MISTAKES:
        assert describe(name, "dx").startswith("your ")
    with pytest.raises(ValueError, match="unknown mistake"):
        describe("typo", "dx")
