"""backprop_lib.checks: one PASS / FAIL line per check, AssertionError carrying it on failure."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from autograder.registry import GRADED_MODULES
from backprop_lib import checks
from backprop_lib.checks import (
    check_close,
    check_gate,
    check_gradient,
    check_raises,
    check_shape,
    check_true,
    norm_rel_error,
    rel_error,
    run_stub,
)


def test_rel_error_is_the_elementwise_max_and_norm_rel_error_is_normwise():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0, 1.0], [1.0, 3.0]) == pytest.approx(0.5)
    assert norm_rel_error([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert norm_rel_error([0.0], [0.0]) == 0.0           # the floor keeps 0/0 away
    assert norm_rel_error([1e-12], [0.0], floor=1e-8) == pytest.approx(1e-4)


def test_check_close_prints_pass_with_the_error(capsys):
    err = check_close("affine_backward dW", np.ones((2, 3)), np.ones((2, 3)) * (1 + 1e-10))
    assert err == pytest.approx(5e-11, rel=1e-3)
    assert capsys.readouterr().out == "PASS affine_backward dW: relative error 5.0e-11\n"


def test_check_close_fails_with_the_message_it_prints(capsys):
    with pytest.raises(AssertionError) as err:
        check_close("affine_backward dW", [1.0, -2.0], [-1.0, -2.0])
    line = "FAIL affine_backward dW: relative error 1.0e+00 (must be < 1e-07)"
    assert str(err.value) == line and capsys.readouterr().out == line + "\n"


@pytest.mark.parametrize("actual, expected, detail", [
    (np.ones((3, 2)), np.ones((2, 3)), "shape (3, 2), expected (2, 3)"),
    ([1.0, np.nan], [1.0, 1.0], "actual contains nan or inf"),
    (None, 1.0, "actual is None"),
    ("abc", 1.0, "actual is not an array of numbers"),
])
def test_check_close_explains_malformed_answers(actual, expected, detail):
    with pytest.raises(AssertionError, match="FAIL x: " + detail.replace("(", r"\(").replace(")", r"\)")):
        check_close("x", actual, expected)


def test_check_close_rejects_a_bad_tolerance():
    with pytest.raises(ValueError, match="tol must be a positive number"):
        check_close("x", 1.0, 1.0, tol=0)


def test_check_gradient_is_normwise_and_tolerates_tiny_entries():
    analytic = np.array([1.0, 1e-7])
    numerical = np.array([1.0 + 1e-9, 3e-7])       # elementwise the tiny entry is off by 50%
    assert rel_error(analytic, numerical) > 0.1
    assert check_gradient("g", analytic, numerical) < 1e-6
    with pytest.raises(AssertionError, match=r"FAIL g: relative error 1\.0e\+00 \(must be < 1e-06\)"):
        check_gradient("g", analytic, -analytic)


def test_check_shape_and_check_true(capsys):
    check_shape("dW", np.zeros((4, 3)), (4, 3))
    check_true("tie", True, "goes to x")
    assert capsys.readouterr().out == "PASS dW: shape (4, 3)\nPASS tie: goes to x\n"
    with pytest.raises(AssertionError, match=r"FAIL dW: shape \(3, 4\), expected \(4, 3\)"):
        check_shape("dW", np.zeros((3, 4)), (4, 3))
    with pytest.raises(AssertionError, match="FAIL tie: expected: went to y; that does not hold"):  # issue 13
        check_true("tie", False, "went to y")


def test_check_raises_covers_each_outcome():
    def stub(x):
        raise NotImplementedError("a9 f: do it")

    check_raises("bad x", int, "abc")
    with pytest.raises(AssertionError, match="FAIL bad x: returned normally, expected ValueError"):
        check_raises("bad x", int, "12")
    with pytest.raises(AssertionError, match="raised KeyError: 'k', expected ValueError"):
        check_raises("bad x", {}.__getitem__, "k")
    with pytest.raises(AssertionError, match=r"FAIL bad x: not implemented yet \(a9 f: do it\)"):
        check_raises("bad x", stub, 1)


def test_run_stub_turns_a_stub_into_a_clear_failure():
    def stub(x):
        raise NotImplementedError("a1_gates AddGate.forward: return x + y")

    assert run_stub("f", abs, -2) == 2
    with pytest.raises(AssertionError) as err:
        run_stub("AddGate.forward", stub, 1.0)
    assert str(err.value) == "FAIL AddGate.forward: not implemented yet (a1_gates AddGate.forward: return x + y)"
    with pytest.raises(ZeroDivisionError):                 # other errors keep their traceback
        run_stub("f", lambda: 1 / 0)


class _Mul:
    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dz):
        return self.y * dz, self.x * dz


class _WrongMul(_Mul):
    def backward(self, dz):
        return self.x * dz, self.y * dz          # forgot to swap


def test_check_gate_labels_each_quantity(capsys):
    check_gate("MultiplyGate", _Mul(), (3.0, -4.0), 1.0, -12.0, (-4.0, 3.0))
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == [
        "PASS MultiplyGate.forward", "PASS MultiplyGate.backward dx", "PASS MultiplyGate.backward dy"]
    with pytest.raises(AssertionError, match=r"FAIL MultiplyGate.backward dx: relative error 1\.0e\+00 \(must be < 1e-07\)"):
        check_gate("MultiplyGate", _WrongMul(), (3.0, -4.0), 1.0, -12.0, (-4.0, 3.0))
    with pytest.raises(AssertionError, match="must return a tuple of 1 gradient"):
        check_gate("MultiplyGate", _Mul(), (3.0, -4.0), 1.0, -12.0, (-4.0,))


def test_checks_imports_no_graded_module():
    tree = ast.parse(Path(checks.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    graded = {m for mods in GRADED_MODULES.values() for m in mods}
    assert not any(name.split(".")[-1] in graded for name in imported), imported
