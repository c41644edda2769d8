"""backprop_lib.gradcheck: numerical gradients of known functions, in-place perturbation that
restores x, and the cheap checks telling right gradients from the common wrong ones."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from backprop_lib import checks, gradcheck
from backprop_lib.gradcheck import (
    NORM_TOL,
    SPOT_TOL,
    check_random_coordinates,
    check_random_coordinates_array,
    check_random_directions,
    check_random_directions_array,
    norm_rel_error,
    numerical_gradient,
    numerical_gradient_array,
    rel_error,
)

FAST = settings(max_examples=20, deadline=None)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)


def test_rel_error_is_reexported_from_checks():
    assert rel_error is checks.rel_error and norm_rel_error is checks.norm_rel_error
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.2])) == pytest.approx(0.2 / 4.2)
    assert norm_rel_error(np.zeros(3), np.zeros(3)) == 0.0


@FAST
@given(data=st.data())
def test_numerical_gradient_of_a_cubic(data):
    x = data.draw(hnp.arrays(np.float64, data.draw(shapes), elements=st.floats(-2, 2)))
    f = lambda v: float(np.sum(v**3) + 2.0 * np.sum(v))  # noqa: E731
    grad = numerical_gradient(f, x)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, 3 * x**2 + 2.0, rtol=1e-8, atol=1e-8)


def test_numerical_gradient_perturbs_in_place_and_restores_x():
    x = np.array([[0.3, -1.2], [2.5, 0.7]])
    before = x.copy()
    seen = []

    def f(_ignored):  # reads x from the closure, as a layer's check does
        seen.append(x.copy())
        return float(np.sum(np.sin(x)))

    grad = numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(grad, np.cos(before), rtol=1e-8)
    assert len(seen) == 2 * x.size
    assert seen[0][0, 0] == pytest.approx(0.3 + 1e-5) and seen[1][0, 0] == pytest.approx(0.3 - 1e-5)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])

    def f(v):
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


@FAST
@given(data=st.data())
def test_numerical_gradient_array_is_vector_jacobian_product(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2)))
    dout = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2)))
    grad = numerical_gradient_array(np.tanh, x, dout)
    np.testing.assert_allclose(grad, (1 - np.tanh(x) ** 2) * dout, rtol=1e-7, atol=1e-9)


def test_numerical_gradient_array_copies_outputs_that_alias_x():
    x = np.array([1.0, -2.0, 3.0])
    dout = np.array([0.5, 1.0, -1.0])
    np.testing.assert_allclose(numerical_gradient_array(lambda v: v, x, dout), dout, rtol=1e-9)


def test_numerical_gradient_array_with_a_matrix_product():
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    dout = rng.standard_normal((2, 3))
    grad = numerical_gradient_array(lambda v: v @ W.T, x, dout)
    assert norm_rel_error(grad, dout @ W) < NORM_TOL


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="x must be a float numpy array"):
        numerical_gradient(lambda v: 0.0, [1.0, 2.0])
    with pytest.raises(ValueError, match="x must be a float numpy array"):
        numerical_gradient(lambda v: 0.0, np.array([1, 2]))
    with pytest.raises(ValueError, match="h must be > 0"):
        numerical_gradient(lambda v: 0.0, np.ones(2), h=0.0)
    with pytest.raises(ValueError, match="dout and f"):
        numerical_gradient_array(lambda v: v, np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="analytic and x must have the same shape"):
        check_random_directions(lambda v: 0.0, np.ones((2, 3)), np.ones((3, 2)))


# ----------------------------------------------------------------------------- cheap checks
def _softmax_case(seed=0):
    from backprop_lib.layers import softmax_loss

    rng = np.random.default_rng(seed)
    scores, y = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    loss, dscores = softmax_loss(scores, y)
    return (lambda s: softmax_loss(s, y)[0]), scores, dscores


@pytest.mark.parametrize("checker", [check_random_coordinates, check_random_directions])
def test_scalar_checks_pass_right_and_fail_wrong_gradients(checker):
    f, scores, dscores = _softmax_case()
    before = scores.copy()
    assert checker(f, scores, dscores, rng=1) < SPOT_TOL
    np.testing.assert_array_equal(scores, before)  # restored exactly
    more = {"num_checks": 20} if checker is check_random_coordinates else {"num_dirs": 5}
    for wrong in (-dscores, dscores * 5, np.zeros_like(dscores), dscores + 0.05):
        assert checker(f, scores, wrong, rng=1, **more) > 1e-2


@pytest.mark.parametrize("checker", [check_random_coordinates_array, check_random_directions_array])
def test_array_checks_catch_a_missing_transpose(checker):
    rng = np.random.default_rng(3)
    x, W = rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
    dout = rng.standard_normal((4, 3))
    f = lambda v: x @ v.T  # noqa: E731
    dW = dout.T @ x
    assert checker(f, W, dout, dW, rng=2) < SPOT_TOL
    assert checker(f, W, dout, dW.T, rng=2) > 1e-2


def test_random_checks_are_reproducible_with_a_seed_and_floor_handles_zero_gradients():
    f, scores, dscores = _softmax_case(4)
    a = check_random_directions(f, scores, dscores + 1e-3, rng=7)
    b = check_random_directions(f, scores, dscores + 1e-3, rng=np.random.default_rng(7))
    assert a == b > 0
    flat = lambda v: 3.0  # noqa: E731
    assert check_random_coordinates(flat, np.ones(4), np.zeros(4)) == 0.0
    assert check_random_directions(flat, np.ones(4), np.zeros(4)) == 0.0


def test_coordinates_never_check_more_entries_than_x_has():
    calls = []
    x = np.array([1.0, 2.0])
    check_random_coordinates(lambda v: calls.append(1) or float(v @ v), x, 2 * x, num_checks=10)
    assert len(calls) == 4


def test_every_solution_region_has_a_task_line_and_strips_to_valid_python():
    src = Path(gradcheck.__file__).read_text()
    lines = src.splitlines()
    begins = [i for i, line in enumerate(lines) if line.strip() == "### BEGIN SOLUTION"]
    assert len(begins) == 2
    assert all(lines[i - 1].strip().startswith("# TASK: ") for i in begins)
    stub = re.sub(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION",
                  lambda m: f"{m.group(1)}raise NotImplementedError('todo')", src, flags=re.S)
    compile(stub, "gradcheck_stub.py", "exec")
