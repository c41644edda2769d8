"""backprop_lib.validate: every check passes good input through and names what was wrong."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from backprop_lib.validate import (
    as_float_array,
    check_choice,
    check_grad_shape,
    check_labels,
    check_ndim,
    check_nonnegative,
    check_positive,
    check_same_shape,
    check_shape,
)

ROOT = Path(__file__).resolve().parents[2]


def test_as_float_array_converts_ints_and_keeps_float64_without_copy():
    x = np.arange(6.0).reshape(2, 3)
    assert as_float_array(x, "x") is x
    ints = as_float_array([[1, 2], [3, 4]], "x")
    assert ints.dtype == np.float64 and ints.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert as_float_array(np.ones(2, np.float32), "x").dtype == np.float32
    assert as_float_array(True, "x").dtype == np.float64


@pytest.mark.parametrize("bad", ["abc", None, [1 + 2j], {"a": 1}, [[1, 2], [3]]])
def test_as_float_array_rejects_non_numeric_naming_the_argument(bad):
    with pytest.raises(ValueError, match="scores"):
        as_float_array(bad, "scores")


def test_check_shape_with_wildcards_and_message():
    x = np.zeros((4, 3))
    assert check_shape(x, (None, 3), "x") is x
    with pytest.raises(ValueError, match=r"W must have shape \(\*, 3\) to match x, got \(4, 2\)"):
        check_shape(np.zeros((4, 2)), (None, 3), "W", "to match x")
    with pytest.raises(ValueError, match=r"b must have shape \(5,\), got \(5, 1\)"):
        check_shape(np.zeros((5, 1)), (5,), "b")


def test_check_ndim_single_and_several():
    check_ndim(np.zeros((2, 2)), 2, "x")
    check_ndim(np.zeros(3), (1, 2), "pred")
    with pytest.raises(ValueError, match="pred must have 1 or 2 dimension"):
        check_ndim(np.zeros((1, 1, 1)), (1, 2), "pred")


def test_check_same_shape_and_grad_shape():
    check_same_shape(np.zeros(3), np.ones(3), "pred", "target")
    with pytest.raises(ValueError, match=r"pred and target must have the same shape, got \(3,\) and \(3, 1\)"):
        check_same_shape(np.zeros(3), np.ones((3, 1)), "pred", "target")
    # the grader reads this exact sentence (autograder/checks/mistakes.py) to name the shape mistake
    with pytest.raises(ValueError) as err:
        check_grad_shape(np.zeros((5, 3)), np.zeros((3, 5)), "dW")
    assert str(err.value) == ("dW has shape (5, 3) but must have the shape of the variable it "
                              "differentiates, (3, 5)")
    with pytest.raises(ValueError, match=r"db has shape \(4, 3\) .*, \(3,\)$"):
        check_grad_shape(np.zeros((4, 3)), np.zeros(3), "db")


def test_check_labels_accepts_ints_and_returns_int64():
    y = check_labels(np.array([0, 2, 1], dtype=np.int32), 3, num_examples=3)
    assert y.dtype == np.int64 and y.tolist() == [0, 2, 1]


@pytest.mark.parametrize(
    "y, pattern",
    [
        (np.array([0.0, 1.0]), "y must hold integer class labels, got dtype float64"),
        (np.array([0, 3]), r"y must hold labels in \[0, 3\), got values from 0 to 3"),
        (np.array([-1, 0]), r"labels in \[0, 3\)"),
        (np.array([[0, 1]]), "y must have 1 dimension"),
        (np.array([0, 1, 2]), "one label per example, 2, got 3"),
    ],
)
def test_check_labels_rejects(y, pattern):
    with pytest.raises(ValueError, match=pattern):
        check_labels(y, 3, num_examples=2)


def test_check_choice_names_the_options():
    assert check_choice("relu", {"relu": 1, "tanh": 2}, "activation") == "relu"
    with pytest.raises(ValueError, match=r"unknown activation 'softsign'; choose one of: 'relu', 'tanh'"):
        check_choice("softsign", {"relu": 1, "tanh": 2}, "activation")
    with pytest.raises(ValueError, match="unknown loss"):
        check_choice(3, ["mse"], "loss")


def test_check_positive_and_nonnegative():
    assert check_positive(1e-3, "learning_rate") == 1e-3
    assert check_nonnegative(0, "reg") == 0.0
    with pytest.raises(ValueError, match="learning_rate must be > 0, got 0.0"):
        check_positive(0.0, "learning_rate")
    with pytest.raises(ValueError, match="reg must be >= 0"):
        check_nonnegative(-1e-4, "reg")
    for bad in (float("nan"), "0.1", True, None):
        with pytest.raises(ValueError, match="reg must be"):
            check_nonnegative(bad, "reg")


def test_validate_imports_no_other_library_module():
    code = ("import sys, backprop_lib.validate; "
            "print(sorted(m for m in sys.modules if m.startswith('backprop_lib')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['backprop_lib', 'backprop_lib.validate']"
