"""Tests of autograder/checks: the reference library as a student gets full marks on 200 seeds,
inputs stay away from kinks, broken submissions (stubs, NaN, wrong shapes) lose their points.

Drivers run in-process here (`run_in_process`), with the trusted reference library only.
"""
from __future__ import annotations

import importlib
import re

import numpy as np
import pytest

from autograder import checks
from autograder.checks import Outcome, Task, Verdict, core, inputs, numeric
from autograder.checks import mlp as mlp_checks

SEEDS = 200

# Every graded function of CURRICULUM.md ("Graded functions, by assignment"), by module.
CURRICULUM = {
    "gates": ["AddGate", "MultiplyGate", "MaxGate", "CopyGate", "ExpGate", "ReciprocalGate",
              "ScaleGate", "OffsetGate", "SigmoidGate", "LogGate"],
    "layers": ["affine_forward", "affine_backward", "relu_forward", "relu_backward",
               "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward",
               "leaky_relu_forward", "leaky_relu_backward", "elu_forward", "elu_backward",
               "maxout_forward", "maxout_backward", "softmax_loss", "svm_loss", "mse_loss",
               "squared_norm_forward", "squared_norm_backward"],
    "gradcheck": ["numerical_gradient", "numerical_gradient_array"],
    "init": ["init_weights"],
    "mlp": ["init_mlp", "mlp_forward", "mlp_backward", "mlp_loss"],
    "optim": ["sgd", "sgd_momentum", "minibatches"],
    "diagnostics": ["layer_gradient_norms", "clip_gradients"],
}


def namespace(check_module: str) -> dict:
    """What a correct student's notebook namespace holds for that module's functions."""
    ns = dict(vars(importlib.import_module(f"backprop_lib.{check_module}")))
    if check_module == "mlp":
        ns.update(vars(importlib.import_module("backprop_lib.init")))
        ns.update(vars(importlib.import_module("backprop_lib.mlp")))
    return ns


def grade(function: str, ns: dict, rng: np.random.Generator) -> list[tuple[Task, Verdict]]:
    """tasks_for -> run (once per distinct args, as the worker may) -> evaluate."""
    results, runs = [], {}
    for task in checks.tasks_for(function, rng):
        key = (id(task.args), task.driver)
        if key not in runs:
            runs[key] = checks.run_in_process(ns, task)
        results.append((task, checks.evaluate(task, runs[key])))
    return results


def student_rng(seed: int, function: str) -> np.random.Generator:
    return np.random.default_rng([seed, 12345, 678, sum(map(ord, function))])


# ----------------------------------------------------------------------------- registry
def test_known_functions_cover_every_graded_function_of_the_curriculum():
    known = checks.known_functions()
    for module, functions in CURRICULUM.items():
        for function in functions:
            assert function in known
            assert checks.MODULE_OF[function] == module
            assert hasattr(importlib.import_module(f"backprop_lib.{module}"), function)
    assert "l2_regularization" in known  # LIB-A's extra graded function
    assert len(known) == len(set(known))


def test_each_check_module_lists_the_functions_the_registry_sends_it():
    for module in set(checks.MODULE_OF.values()):
        listed = importlib.import_module(f"autograder.checks.{module}").FUNCTIONS
        assert sorted(listed) == sorted(f for f, m in checks.MODULE_OF.items() if m == module)


def test_unknown_function_raises_key_error():
    with pytest.raises(KeyError, match="no checks for 'train'"):
        checks.tasks_for("train", np.random.default_rng(0))


def test_check_names_do_not_depend_on_the_rng():
    for function in checks.known_functions():
        names = [t.check for t in checks.tasks_for(function, np.random.default_rng(99))]
        assert names == checks.check_names(function)
        assert len(names) == len(set(names)), function


def test_task_args_are_plain_values_only():
    for function in checks.known_functions():
        for task in checks.tasks_for(function, np.random.default_rng(3)):
            assert task.function == function and task.driver
            for name, value in task.args.items():
                if isinstance(value, np.ndarray):
                    assert value.dtype in (np.float64, np.int64), (function, name, value.dtype)
                else:
                    assert value is None or type(value) in (str, int, float, bool), (function, name, type(value))


def test_inputs_derive_from_the_rng_only():
    for function in ("affine_backward", "mlp_loss", "MaxGate", "sgd_momentum"):
        a = checks.tasks_for(function, np.random.default_rng([0, 1]))
        b = checks.tasks_for(function, np.random.default_rng([0, 1]))
        c = checks.tasks_for(function, np.random.default_rng([0, 2]))
        assert [core.args_key(function, t.args) for t in a] == [core.args_key(function, t.args) for t in b]
        assert core.args_key(function, a[0].args) != core.args_key(function, c[0].args)


# ----------------------------------------------------------------------------- full marks
@pytest.mark.slow
@pytest.mark.parametrize("module", list(CURRICULUM))
def test_reference_gets_full_marks_on_200_seeds(module):
    ns = namespace(module)
    functions = [f for f in checks.known_functions() if checks.MODULE_OF[f] == module]
    worst = 0.0
    for seed in range(SEEDS):
        for function in functions:
            for task, verdict in grade(function, ns, student_rng(seed, function)):
                assert verdict.passed and verdict.fraction == 1.0, (seed, function, task.check, verdict.message)
                assert verdict.mistake is None
                for err in re.findall(r"relative error ([0-9.e+-]+)", verdict.message):
                    worst = max(worst, float(err))
    # the margin: correct answers err by far less than the tolerances (1e-6 for gradients)
    assert worst < 2e-8, worst


# ----------------------------------------------------------------------------- kinks
def test_inputs_stay_away_from_kinks():
    for seed in range(50):
        rng = np.random.default_rng(seed)
        for task in checks.tasks_for("relu_backward", rng) + checks.tasks_for("leaky_relu_forward", rng):
            assert np.min(np.abs(task.args["in0"])) >= inputs.GAP
        args = checks.tasks_for("MaxGate", rng)[0].args
        x, y = args["in0"], args["in1"]
        assert np.min(np.abs(x - y)) >= inputs.GAP
        args = checks.tasks_for("maxout_backward", rng)[0].args
        x, W1, b1, W2, b2 = (args[f"in{i}"] for i in range(5))
        assert np.min(np.abs((x @ W1.T + b1) - (x @ W2.T + b2))) >= inputs.GAP
        args = checks.tasks_for("svm_loss", rng)[0].args
        assert inputs.hinge_safe(args["in0"], args["in1"])
        for task in checks.tasks_for("mlp_loss", rng):
            if task.args["activation"] == "relu":
                params = mlp_checks._params(task.args)
                Zs, _ = mlp_checks.forward_pass(params, task.args["X"], "relu", "identity")
                assert all(np.min(np.abs(Z)) >= inputs.GAP for Z in Zs[:-1])
                assert inputs.hinge_safe(Zs[-1], task.args["y"])


def test_plain_delta_rule_matches_the_reference():
    from backprop_lib import mlp

    for task in checks.tasks_for("mlp_backward", np.random.default_rng(5)):
        params, X, dY = mlp_checks._params(task.args), task.args["X"], task.args["dY"]
        act, out = task.args["activation"], task.args["output_activation"]
        _, cache = mlp.mlp_forward(params, X, activation=act, output_activation=out)
        want = mlp.mlp_backward(dY, cache)
        got = mlp_checks.delta_rule(params, X, act, out, dY)
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------- broken submissions
def _raising(message: str):
    def stub(*args, **kwargs):
        raise NotImplementedError(message)
    return stub


class _StubGate:
    def forward(self, *inputs):
        raise NotImplementedError("a1_gates AddGate: return x + y")


def test_a_stub_gets_zero_with_its_message():
    ns = {"affine_backward": _raising("a2_vectorized affine_backward: dx = dout @ W"),
          "affine_forward": namespace("layers")["affine_forward"], "AddGate": _StubGate}
    for function in ("affine_backward", "AddGate"):
        for task, verdict in grade(function, ns, np.random.default_rng(0)):
            assert verdict.fraction == 0.0 and not verdict.passed
            assert "NotImplementedError" in verdict.message and "is not implemented yet" in verdict.message


def test_every_function_handles_a_stub():
    ns = {name: _raising(f"stub {name}") for name in checks.known_functions()}
    for function in checks.known_functions():
        for task, verdict in grade(function, ns, np.random.default_rng(1)):
            assert verdict.fraction == 0.0 and "stub" in verdict.message, (function, verdict)


def test_not_defined_timeout_and_crash_outcomes():
    task = checks.tasks_for("relu_forward", np.random.default_rng(0))[0]
    v = checks.evaluate(task, Outcome(False, {}, "relu_forward is not defined", "not_defined"))
    assert v.fraction == 0 and "is not defined" in v.message
    v = checks.evaluate(task, Outcome(False, {}, "timed out after 10 s", "timeout"))
    assert v.fraction == 0 and "timed out after 10 s" in v.message
    v = checks.evaluate(task, Outcome(False, {}, "killed by signal 9", "crash"))
    assert v.fraction == 0 and "crashed" in v.message


def test_nan_and_missing_outputs_fail_without_raising():
    for function in checks.known_functions():
        for task in checks.tasks_for(function, np.random.default_rng(2)):
            ok = checks.run_in_process(namespace(checks.MODULE_OF[function]), task)
            poisoned = {k: np.full_like(v, np.nan) for k, v in ok.values.items()}
            verdict = checks.evaluate(task, Outcome(True, poisoned))
            assert verdict.fraction < 1.0, (function, task.check)
            assert checks.evaluate(task, Outcome(True, {})).fraction == 0.0


def test_wrong_shapes_are_named_and_scored_zero():
    for function in ("affine_backward", "sigmoid_backward", "mlp_backward", "sgd", "clip_gradients"):
        for task in checks.tasks_for(function, np.random.default_rng(4)):
            if task.check in ("inputs_untouched", "input_untouched", "returns_copies"):
                continue  # yes / no checks of the inputs, no output shape (issue 13)
            ok = checks.run_in_process(namespace(checks.MODULE_OF[function]), task)
            reshaped = {k: np.zeros((7, 1, 2)) for k in ok.values}
            verdict = checks.evaluate(task, Outcome(True, reshaped))
            assert verdict.fraction == 0.0 and verdict.mistake == "wrong_shape", (function, verdict)
            assert "has shape (7, 1, 2)" in verdict.message


def test_partial_credit_per_check_and_per_array():
    ns = namespace("mlp")
    reference_backward = ns["mlp_backward"]

    def one_wrong_key(dY, cache):
        grads = reference_backward(dY, cache)
        grads["W1"] = grads["W1"] * 1.5
        return grads

    results = grade("mlp_backward", {**ns, "mlp_backward": one_wrong_key}, np.random.default_rng(0))
    for task, verdict in results:
        assert verdict.fraction == pytest.approx(5 / 6) and not verdict.passed
        assert verdict.message.startswith("dW1: relative error")
        assert verdict.sample and len(verdict.sample) <= 20


def test_messages_show_no_reference_arrays():
    ns = dict(namespace("layers"))
    ns["affine_backward"] = lambda dout, cache: (np.zeros_like(dout @ cache[1]), np.zeros_like(cache[1]),
                                                 np.zeros(cache[1].shape[0]))
    for task, verdict in grade("affine_backward", ns, np.random.default_rng(0)):
        assert not verdict.passed
        assert "[" not in verdict.message and len(verdict.message) < 200


# ----------------------------------------------------------------------------- wrong submissions
def test_wrong_initializers_fail_their_statistics():
    from backprop_lib import init

    def fan_swapped(shape, scheme, rng):
        return init.init_weights(shape[::-1], scheme, rng).T  # fan_in = shape[0]

    def uniform(shape, scheme, rng):  # the right std, but not a normal distribution
        W = init.init_weights(shape, scheme, rng)
        return rng.uniform(-1, 1, shape) * np.sqrt(3) * W.std()

    scores = {}
    for name, fn in (("fan_swapped", fan_swapped), ("uniform", uniform)):
        results = grade("init_weights", {"init_weights": fn}, np.random.default_rng(0))
        scores[name] = {t.check: v for t, v in results}
    assert not scores["fan_swapped"]["he"].passed and "std" in scores["fan_swapped"]["he"].message
    assert scores["fan_swapped"]["xavier"].passed  # xavier is symmetric in the two fans
    assert not scores["uniform"]["xavier"].passed and "kurtosis" in scores["uniform"]["xavier"].message


def test_unshuffled_minibatches_lose_the_order_check_only():
    def in_order(X, y, batch_size, rng):
        for k in range(0, len(y), batch_size):
            yield X[k:k + batch_size], y[k:k + batch_size]

    verdicts = {t.check: v for t, v in grade("minibatches", {"minibatches": in_order}, np.random.default_rng(0))}
    assert verdicts["one_epoch"].passed and not verdicts["order"].passed


def test_norms_sorted_as_strings_fail():
    def string_sorted(grads):
        return np.array([np.linalg.norm(grads[k]) for k in sorted(grads) if k.startswith("W")])

    (task, verdict), = grade("layer_gradient_norms", {"layer_gradient_norms": string_sorted},
                             np.random.default_rng(0))
    assert not verdict.passed and verdict.fraction == 0.0


def test_batched_numerical_gradient_equals_the_reference_loop(caplog):
    """The fast path and the logged fallback (never a silent one) give the loop's numbers."""
    import logging

    from backprop_lib import mlp

    caplog.set_level(logging.WARNING, logger="autograder.checks.numeric")

    for task in checks.tasks_for("mlp_loss", np.random.default_rng(8))[1::2]:
        params, X, y, act, loss, reg = (mlp_checks._params(task.args), task.args["X"], task.args["y"],
                                        task.args["activation"], task.args["loss"], task.args["reg"])

        def reference_f(p):
            return mlp.mlp_loss(p, X, y, activation=act, loss=loss, reg=0.0)[0]

        def plain_f(p):
            return mlp_checks._data_loss(mlp_checks.forward_pass(p, X, act, "identity")[1][-1], y, loss)

        caplog.clear()
        fast = mlp_checks._numerical(params, reference_f, plain_f, reg)
        assert not caplog.records  # the batched path agreed: no fallback
        slow = mlp_checks._numerical(params, reference_f, lambda p: plain_f(p) + 1.0, reg)  # guard trips
        assert len(caplog.records) == len(params)  # one logged fallback per array
        assert all("falling back" in r.getMessage() for r in caplog.records)
        for key in params:
            loop = numeric.numerical_gradient(
                lambda v: mlp.mlp_loss({**params, key: v}, X, y, activation=act, loss=loss, reg=reg)[0], params[key])
            np.testing.assert_allclose(fast[key], loop, rtol=0, atol=1e-9)
            np.testing.assert_allclose(slow[key], loop, rtol=0, atol=1e-9)


def test_evaluate_gives_the_same_verdicts_from_several_threads():
    from concurrent.futures import ThreadPoolExecutor

    ns = namespace("layers")
    work = []
    for seed in range(12):  # more distinct args than the memo holds, so entries get evicted
        for function in ("affine_backward", "maxout_backward", "softmax_loss"):
            for task in checks.tasks_for(function, np.random.default_rng(seed)):
                work.append((task, checks.run_in_process(ns, task)))
    with ThreadPoolExecutor(max_workers=4) as pool:
        verdicts = list(pool.map(lambda pair: checks.evaluate(*pair), work * 2))
    assert all(v.passed for v in verdicts)


def test_a_loss_returned_as_a_one_element_array_counts():
    task = checks.tasks_for("softmax_loss", np.random.default_rng(0))[0]
    outcome = checks.run_in_process(namespace("layers"), task)
    outcome.values["loss"] = outcome.values["loss"].reshape(1)
    assert checks.evaluate(task, outcome).passed


def test_verdicts_carry_their_numbers_and_rows_get_them():
    from autograder.pipeline.results import row_numbers

    want = np.arange(1.0, 7.0).reshape(2, 3)
    ok = core.compare({"g": want + 1e-12}, "g", want, name="dW", tol=1e-6, floor=1e-8)
    assert ok.passed and ok.rel_error < 1e-11 and ok.tol == 1e-6
    assert (ok.shape, ok.expected_shape) == ((2, 3), (2, 3))
    bad = core.compare({"g": -want}, "g", want, name="dW", tol=1e-6, floor=1e-8)
    assert not bad.passed and bad.rel_error == pytest.approx(1.0)
    shaped = core.compare({"g": want.T}, "g", want, name="dW", tol=1e-6, floor=1e-8)
    assert shaped.rel_error is None and (shaped.shape, shaped.expected_shape) == ((3, 2), (2, 3))
    worst = core.combine([ok, bad])
    assert worst.rel_error == bad.rel_error and worst.tol == 1e-6
    assert row_numbers(bad) == {"rel_error": bad.rel_error, "tol": 1e-6, "shape": [2, 3],
                                "expected_shape": [2, 3]}
    assert row_numbers(shaped) == {"shape": [3, 2], "expected_shape": [2, 3]}
    assert row_numbers(Verdict(0.0, False, "x", rel_error=float("nan"))) == {}
