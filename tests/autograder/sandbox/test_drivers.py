"""Tests of autograder/sandbox/inside/drivers.py: what the sandbox runs for each task (here in-process, on the
trusted reference library or on small planted functions)."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import numpy as np
import pytest
from backprop_lib import gates, layers, optim

from autograder import checks
from autograder.sandbox.inside import drivers

DRIVERS_PY = Path(drivers.__file__)


def first_task(function: str, check: str | None = None, seed: int = 0) -> checks.Task:
    tasks = checks.tasks_for(function, np.random.default_rng(seed))
    return next(t for t in tasks if check is None or t.check == check)


def test_drivers_import_only_numpy_the_standard_library_and_their_siblings():
    import sys

    siblings = {p.stem for p in DRIVERS_PY.parent.glob("*.py")} - {"__init__"}
    tree = ast.parse(DRIVERS_PY.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            # the stage copies sandbox/inside/ whole: a sibling, relatively or by its bare name
            assert node.level in (0, 1), "drivers.py reaches outside sandbox/inside/"
            imported |= ({alias.name for alias in node.names} if node.level else
                         {node.module.split(".")[0]})
    assert imported - {"numpy"} - siblings <= set(sys.stdlib_module_names), imported
    assert "calls" in imported  # how a call's inputs and outputs are handled lives beside it


def test_every_task_driver_exists_and_returns_float64_arrays():
    for function in checks.known_functions():
        module = checks.MODULE_OF[function]
        ns = dict(vars(importlib.import_module(f"backprop_lib.{module}")))
        if module == "mlp":
            ns.update(vars(importlib.import_module("backprop_lib.init")))
        for task in checks.tasks_for(function, np.random.default_rng(0)):
            assert task.driver in drivers.DRIVERS
            values = drivers.run(ns, task.driver, task.args)
            assert values and all(isinstance(v, np.ndarray) and v.dtype == np.float64 for v in values.values())


def test_forward_backward_returns_out_and_each_gradient():
    task = first_task("affine_backward", "dW")
    values = drivers.run(vars(layers), task.driver, task.args)
    x, W = task.args["in0"], task.args["in1"]
    assert set(values) == {"out", "g0", "g1", "g2", "big_g0", "big_g1", "big_g2"}  # + the cost run
    assert values["g0"].shape == x.shape and values["g1"].shape == W.shape and values["g2"].shape == (W.shape[0],)
    np.testing.assert_allclose(values["g1"], task.args["dout"].T @ x)


def test_gate_driver_handles_constructor_args_two_upstreams_and_bare_gradients():
    task = first_task("ScaleGate", "dx")
    values = drivers.run(vars(gates), "gate", task.args)
    np.testing.assert_allclose(values["d0"], task.args["ctor"] * task.args["dout0"])

    task = first_task("CopyGate", "dx")
    values = drivers.run(vars(gates), "gate", task.args)
    np.testing.assert_allclose(values["out0"], task.args["in0"])
    np.testing.assert_allclose(values["d0"], task.args["dout0"] + task.args["dout1"])

    class ExpGate:  # returns a bare array instead of a 1-tuple: accepted
        def forward(self, x):
            self.z = np.exp(x)
            return self.z

        def backward(self, dz):
            return self.z * dz

    task = first_task("ExpGate", "dx")
    values = drivers.run({"ExpGate": ExpGate}, "gate", task.args)
    np.testing.assert_allclose(values["d0"], np.exp(task.args["in0"]) * task.args["dout0"])


def test_a_missing_function_raises_not_defined():
    task = first_task("mlp_backward")
    with pytest.raises(drivers.NotDefined, match="mlp_forward is not defined"):
        drivers.run({"mlp_backward": lambda dY, cache: {}}, task.driver, task.args)
    assert issubclass(drivers.NotDefined, NameError)


def test_outputs_that_break_the_signature_raise_a_clear_error():
    task = first_task("affine_forward")
    with pytest.raises(ValueError, match="affine_forward must return 2 values, got ndarray"):
        drivers.run({"affine_forward": lambda x, W, b: x @ W.T + b}, task.driver, task.args)
    with pytest.raises(ValueError, match="must be a number or an array of numbers, got str"):
        drivers.run({"affine_forward": lambda x, W, b: ("oops", None)}, task.driver, task.args)
    task = first_task("affine_backward")
    ns = {"affine_forward": layers.affine_forward, "affine_backward": lambda dout, cache: (dout, dout)}
    with pytest.raises(ValueError, match="affine_backward must return 3 values, got 2 values"):
        drivers.run(ns, task.driver, task.args)
    task = first_task("clip_gradients")
    with pytest.raises(ValueError, match="must be a dict, got list"):
        drivers.run({"clip_gradients": lambda grads, m: [1.0]}, task.driver, task.args)
    with pytest.raises(ValueError, match="has a key 3"):
        drivers.run({"clip_gradients": lambda grads, m: {3: 1.0}}, task.driver, task.args)


def test_nan_and_wrong_shapes_come_back_for_the_checks_to_judge():
    task = first_task("relu_forward")
    values = drivers.run({"relu_forward": lambda x: (np.full((2, 2), np.nan), None)}, task.driver, task.args)
    assert values["out"].shape == (2, 2) and np.isnan(values["out"]).all()


def test_huge_outputs_are_refused():
    task = first_task("relu_forward")
    with pytest.raises(ValueError, match="far more than expected"):
        drivers.run({"relu_forward": lambda x: (np.zeros(drivers.calls.MAX_ELEMENTS + 1), None)},
                    task.driver, task.args)


def test_inputs_are_copied_so_a_student_cannot_change_the_next_call():
    task = first_task("affine_backward")
    before = {k: v.copy() for k, v in task.args.items() if isinstance(v, np.ndarray)}

    def vandal_forward(x, W, b):
        out, cache = layers.affine_forward(x, W, b)
        x[...] = 0.0
        W[...] = 0.0
        return out, cache

    def vandal_backward(dout, cache):
        dout[...] = 0.0
        return layers.affine_backward(np.ones_like(dout), cache)

    drivers.run({"affine_forward": vandal_forward, "affine_backward": vandal_backward}, task.driver, task.args)
    for key, value in before.items():
        np.testing.assert_array_equal(task.args[key], value)


def test_update_steps_carry_the_config_and_copy_each_w():
    task = first_task("sgd_momentum", "steps")

    def in_place(w, dw, config=None):  # modifies w in place and returns it: each step must be kept
        config = dict(config or {})
        v = config.get("velocity", np.zeros_like(w))
        v = dw + config["momentum"] * v
        w -= config["learning_rate"] * v
        config["velocity"] = v
        return w, config

    got = drivers.run({"sgd_momentum": in_place}, task.driver, task.args)
    want = drivers.run(vars(optim), task.driver, task.args)
    np.testing.assert_allclose(got["ws"], want["ws"])
    np.testing.assert_allclose(got["velocity"], want["velocity"])
    assert not np.allclose(got["ws"][0], got["ws"][-1])

    with pytest.raises(ValueError, match="config a dict"):
        drivers.run({"sgd_momentum": lambda w, dw, config: (w, None)}, task.driver, task.args)


def test_minibatches_driver_concatenates_and_stops_endless_generators():
    task = first_task("minibatches")
    values = drivers.run(vars(optim), task.driver, task.args)
    N = task.args["X"].shape[0]
    assert values["X_order"].shape == task.args["X"].shape and values["sizes"].sum() == N

    def endless(X, y, batch_size, rng):
        while True:
            yield X[:1], y[:1]

    with pytest.raises(ValueError, match="yielded more than"):
        drivers.run({"minibatches": endless}, task.driver, task.args)


def test_numerical_gradient_drivers_build_the_documented_functions():
    from autograder.checks.gradcheck import analytic_gradient
    from backprop_lib import gradcheck

    for function in ("numerical_gradient", "numerical_gradient_array"):
        task = first_task(function)
        values = drivers.run(vars(gradcheck), task.driver, task.args)
        np.testing.assert_allclose(values["grad"], analytic_gradient(function, task.args), rtol=1e-7, atol=1e-9)
        np.testing.assert_array_equal(values["x_after"], task.args["x"])


def test_unknown_driver_is_a_key_error():
    with pytest.raises(KeyError, match="unknown driver"):
        drivers.run({}, "nope", {})
