"""Public checks that the notebooks call: compare, print pass / fail with the relative error.

Every check prints exactly one line and, on failure, raises ``AssertionError`` with that same
line, so an nbgrader test cell fails with a message a student can act on::

    PASS affine_backward dW: relative error 2.1e-11
    FAIL affine_backward dW: relative error 9.8e-01 (must be < 1e-07)

No graded computation lives here (the grader's sandbox exposes this module to every
assignment, so it must not import any graded module and must not contain, for example, a
numerical gradient). `rel_error` is defined here once; `backprop_lib.gradcheck` re-exports it.

Tolerances (the defaults, written down once):
- `check_close` compares values with the elementwise `rel_error` (CS231n's display metric)
  and passes below ``tol=1e-7``: right for fixed, well-scaled inputs in float64.
- `check_gradient` compares an analytic gradient with a numerical one norm-wise,
  ``||a - n|| / max(||a|| + ||n||, 1e-8)``, and passes below ``tol=1e-6``: centered
  differences with ``h=1e-5`` are accurate to about 1e-9 on smooth, well-scaled inputs, so a
  correct gradient never comes near the bound and a wrong one lands far above it.

Common wrong answers (built here once; the grader's mistake diagnosis uses the same helpers):
`wrong_answer_variants(expected, batch_size)` returns the wrong answers a student most often
hands in, built from the expected one (negated, transposed, N times, 1/N times, summed over the
batch), keyed by the grader's mistake names where one exists; `name_mistake(got, expected,
variants)` says which of them `got` is; `shape_mistake(got_shape, expected_shape)` names a
wrong shape (transposed, a bias gradient not summed over the batch). Every failing
`check_close` / `check_gradient` / `check_shape` (and a shape error caught by `run_stub`) names
the mistake it matches, with the sentence of `MISTAKE_PHRASES` that the grader's feedback uses:
``FAIL affine_backward dW: relative error 1.3e+00 (must be < 1e-06); your dW looks like the
transpose of the right one (missing_transpose)``.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, NoReturn, Sequence

import numpy as np

__all__ = [
    "rel_error",
    "norm_rel_error",
    "check_close",
    "check_gradient",
    "check_shape",
    "check_raises",
    "check_true",
    "check_gate",
    "run_stub",
    "not_implemented_message",
    "wrong_answer_variants",
    "name_mistake",
    "shape_mistake",
    "MISTAKE_PHRASES",
    "describe_mistake",
]


def rel_error(x, y) -> float:
    """Largest elementwise relative error, max |x - y| / max(1e-8, |x| + |y|) (for display).

    Args:
        x, y: arrays (or floats) of the same shape.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def norm_rel_error(a, b, floor: float = 1e-8) -> float:
    """Norm-wise relative error ||a - b|| / max(||a|| + ||b||, floor) (for checks that must not flake).

    Args:
        a, b: arrays (or floats) of the same shape.
        floor: lower bound of the denominator, for gradients near zero.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))


# --------------------------------------------------------------------------- wrong answers

MATCH_TOL = 1e-6
"""`got` is a wrong answer when norm_rel_error(got, wrong) < MATCH_TOL."""
DISTINCT_TOL = 1e-3
"""A wrong answer counts only if norm_rel_error(wrong, expected) > DISTINCT_TOL (it differs)."""


def wrong_answer_variants(expected: Any, batch_size: int | None = None) -> dict[str, np.ndarray]:
    """The common wrong answers, built from the right one.

    Args:
        expected: the right answer (any shape; float64 after conversion).
        batch_size: N, the number of rows of the batch the answer was computed from, if any.

    Returns:
        name -> wrong answer, in the order they are tried:
        ``wrong_sign``: -expected; ``missing_transpose``: expected.T (2-D only; its shape differs
        unless square); ``missing_mean``: N * expected (a mean over the batch left out);
        ``extra_mean``: expected / N (divided by N once too often); ``summed_over_batch``:
        expected.sum(axis=0) (when the first axis is the batch). The last three need N > 1.
    """
    e = np.asarray(expected, dtype=np.float64)
    variants = {"wrong_sign": -e}
    if e.ndim == 2:
        variants["missing_transpose"] = e.T
    if batch_size is not None and batch_size > 1:
        variants["missing_mean"] = batch_size * e
        variants["extra_mean"] = e / batch_size
        if e.ndim >= 1 and e.shape[0] == batch_size:
            variants["summed_over_batch"] = e.sum(axis=0)
    return variants


def name_mistake(got: Any, expected: Any,
                 variants: Mapping[str, np.ndarray | Sequence[np.ndarray]]) -> str | None:
    """The first name of `variants` whose wrong answer `got` matches, or None.

    A wrong answer matches when it has got's shape, is finite, differs from `expected`
    (``norm_rel_error > DISTINCT_TOL`` when the shapes agree, so a mistake is never named for
    an answer it would not have changed) and ``norm_rel_error(got, wrong) < MATCH_TOL``.

    Args:
        got: the answer to explain (any shape).
        expected: the right answer.
        variants: name -> one wrong answer or a list of them (e.g. `wrong_answer_variants`).
    """
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if not np.all(np.isfinite(got)):
        return None
    for name, wrong in variants.items():
        candidates = wrong if isinstance(wrong, (list, tuple)) else [wrong]
        for candidate in candidates:
            candidate = np.asarray(candidate, dtype=np.float64)
            if candidate.shape != got.shape or not np.all(np.isfinite(candidate)):
                continue
            if candidate.shape == expected.shape and norm_rel_error(candidate, expected) <= DISTINCT_TOL:
                continue
            if norm_rel_error(got, candidate) < MATCH_TOL:
                return name
    return None


def shape_mistake(got: Sequence[int], expected: Sequence[int], bias: bool = False,
                  batch_size: int | None = None) -> str | None:
    """Name the mistake behind a gradient of shape `got` where `expected` was right.

    (M, D) for (D, M) is ``missing_transpose``; (N, M) for a bias gradient (M,) is
    ``bias_not_summed``; any other difference is ``wrong_shape``; None when the shapes agree.
    """
    got, expected = tuple(got), tuple(expected)
    if got == expected:
        return None
    if len(expected) == 2 and got == expected[::-1]:
        return "missing_transpose"
    if bias and len(got) == len(expected) + 1 and got[1:] == expected and (
            batch_size is None or got[0] == batch_size) and got[0] > 1:
        return "bias_not_summed"
    return "wrong_shape"


MISTAKE_PHRASES: dict[str, str] = {
    "missing_transpose": "your {name} looks like the transpose of the right one",
    "wrong_sign": "your {name} has the wrong sign (it is the negative of the right one)",
    "missing_mean": "your {name} is N = {N} times too large: the loss is a mean over the batch, "
                    "so divide by N",
    "extra_mean": "your {name} is N = {N} times too small: it is divided by N once too often",
    "summed_over_batch": "your {name} is summed over the batch (axis 0): keep one row per example",
    "activation_not_preactivation": "your {name} takes sigma' at the activation a = sigma(z) "
                                    "instead of at the pre-activation z",
    "ignored_upstream": "your {name} ignores the upstream gradient: it is the local gradient "
                        "alone; multiply it by the upstream gradient (chain rule)",
    "momentum_order": "your update applies the momentum terms in the wrong order: first "
                      "v = dw + momentum * v, then w = w - learning_rate * v",
    "wrong_reg_factor": "your {name} uses reg * W for the regularization gradient; the "
                        "derivative of reg * ||W||^2 is 2 * reg * W",
    "bias_not_summed": "your {name} has one row per example: sum it over the batch (axis 0) "
                       "so it has the shape of the bias",
    "wrong_shape": "your {name} has the wrong shape: a gradient has exactly the shape of the "
                   "variable it differentiates",
    "not_backprop": "your {name} is computed by numerical differences of the forward pass, "
                    "not by backpropagation",
    "not_accumulated": "your {name} keeps only one of the gradients that flow into it: where a "
                       "value is used twice, its gradients add (+=), they do not replace each other",
    "missing_local_gradient": "your {name} passes the upstream gradient on without the local "
                              "gradient (e.g. no sigma'(z) in a hidden layer's delta)",
    "wrong_mask": "your {name} routes the gradient on the wrong condition or without its slope "
                  "(ReLU: mask by x > 0, the forward's input, not by dout; leaky ReLU: alpha "
                  "where x <= 0)",
}
"""Mistake name -> the sentence the notebooks and the grader's feedback print ({name}: the
output, {N}: the batch size). The grader's mistake names are a subset of these keys."""


def describe_mistake(mistake: str, name: str, batch_size: int | None = None) -> str:
    """The sentence for `mistake` in output `name`, e.g. "your dW looks like the transpose of
    the right one". Raises ValueError for an unknown name."""
    if mistake not in MISTAKE_PHRASES:
        raise ValueError(f"unknown mistake {mistake!r}; expected one of {tuple(MISTAKE_PHRASES)}")
    return MISTAKE_PHRASES[mistake].format(name=name, N=batch_size if batch_size else "N")


def _output_name(label: str) -> str:
    """'affine_backward dW (square)' -> 'dW' (the label's last word before any parentheses)."""
    words = label.split("(")[0].split()
    return words[-1] if words else label


def _named(label: str, mistake: str | None, batch_size: int | None, name: str | None = None) -> str:
    """'; <the mistake's sentence> (<name>)' or '' without a mistake."""
    if not mistake:
        return ""
    return f"; {describe_mistake(mistake, name or _output_name(label), batch_size)} ({mistake})"


# --------------------------------------------------------------------------- reporting


def _report(label: str, passed: bool, detail: str) -> None:
    """Print one PASS / FAIL line; raise AssertionError carrying it when the check failed."""
    if not passed:
        _fail(label, detail)
    print(f"PASS {label}: {detail}", flush=True)


def _fail(label: str, detail: str) -> NoReturn:
    """Print the FAIL line and raise AssertionError with it (an nbgrader test cell then fails)."""
    line = f"FAIL {label}: {detail}"
    print(line, flush=True)
    raise AssertionError(line)


def _as_array(label: str, name: str, value: Any) -> np.ndarray:
    """`value` as a float64 array, or a FAIL line saying it is not numbers."""
    if value is None:
        _fail(label, f"{name} is None (did the function forget to return it?)")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        _fail(label, f"{name} is not an array of numbers: {type(value).__name__} {repr(value)[:80]}")


def _compare(label: str, actual: Any, expected: Any, tol: float, metric: Callable, what: str,
             batch_size: int | None = None, name: str | None = None) -> float:
    """Shared body of check_close / check_gradient: shape, finiteness, then the error bound.

    A failure names the common mistake the answer matches, built from `expected` alone
    (`wrong_answer_variants`, `shape_mistake`), e.g. "...; your dW looks like the transpose
    of the right one (missing_transpose)"."""
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    a = _as_array(label, "actual", actual)
    e = _as_array(label, "expected", expected)
    output = name or _output_name(label)
    if a.shape != e.shape:
        mistake = name_mistake(a, e, wrong_answer_variants(e, batch_size)) or shape_mistake(
            a.shape, e.shape, bias=output.startswith("db"), batch_size=batch_size)
        _fail(label, f"shape {a.shape}, expected {e.shape}" + _named(label, mistake, batch_size, name))
    if not np.all(np.isfinite(a)):
        _fail(label, f"{what} contains nan or inf")
    err = metric(a, e) if a.size else 0.0
    if err >= tol:
        mistake = name_mistake(a, e, wrong_answer_variants(e, batch_size))
        _fail(label, f"relative error {err:.1e} (must be < {tol:.0e})" + _named(label, mistake, batch_size, name))
    _report(label, True, f"relative error {err:.1e}")
    return err


# --------------------------------------------------------------------------- checks


def check_close(label: str, actual: Any, expected: Any, tol: float = 1e-7, *,
                batch_size: int | None = None, name: str | None = None) -> float:
    """Check a computed value against the expected one by the elementwise relative error.

    Args:
        label: what is checked, e.g. ``"MultiplyGate.backward dx"``; starts the printed line.
        actual: the value the student's code produced (float or array of any shape).
        expected: the reference value, of the same shape as `actual`.
        tol: the check passes when ``rel_error(actual, expected) < tol``.
        batch_size: N, when `expected` was computed from a batch of N rows: then N times,
            1/N times and summed over the batch are named too.
        name: the output's name in the mistake's sentence (default: the label's last word).

    Returns:
        The relative error (float).

    Raises:
        AssertionError: with the FAIL line, on a shape mismatch, nan / inf, or an error >= tol
            (naming the common mistake the answer matches, if any).
        ValueError: if `tol` is not a positive number.
    """
    return _compare(label, actual, expected, tol, rel_error, "actual", batch_size, name)


def check_gradient(label: str, analytic: Any, numerical: Any, tol: float = 1e-6, *,
                   batch_size: int | None = None, name: str | None = None) -> float:
    """Check an analytic gradient against a numerical one, norm-wise (does not flake near zero).

    Args:
        label: e.g. ``"affine_backward dW"``.
        analytic: the backward pass's gradient, any shape.
        numerical: the centered-difference gradient, same shape as `analytic`.
        tol: passes when ``norm_rel_error(analytic, numerical) < tol``.
        batch_size, name: as in `check_close` (the mistake named on a failure).

    Returns:
        The norm-wise relative error (float).
    """
    return _compare(label, analytic, numerical, tol, norm_rel_error, "analytic gradient", batch_size, name)


def check_shape(label: str, actual: Any, expected_shape: tuple[int, ...]) -> None:
    """Check that `actual` has `expected_shape` ("the gradient has the shape of the variable").

    Args:
        label: e.g. ``"affine_backward dW"``.
        actual: an array (or float, whose shape is ``()``).
        expected_shape: a tuple of ints.
    """
    expected_shape = tuple(int(n) for n in expected_shape)
    shape = np.shape(actual)
    if shape != expected_shape:
        mistake = shape_mistake(shape, expected_shape, bias=_output_name(label).startswith("db"))
        _fail(label, f"shape {shape}, expected {expected_shape}" + _named(label, mistake, None))
    _report(label, True, f"shape {shape}")


def check_true(label: str, condition: bool, detail: str, failed: str | None = None) -> None:
    """A yes / no check: PASS when `condition` holds.

    Args:
        label: what is checked, e.g. ``"sgd leaves w alone"``.
        condition: the property.
        detail: the PASS line's detail, what holds (``"w is not modified in place"``).
        failed: the FAIL line's detail, what was found instead (``"sgd changed w in place"``);
            default ``"expected: <detail>; that does not hold"`` (a FAIL line never repeats
            the passing sentence as if it were true).
    """
    if not condition:
        _fail(label, failed if failed else f"expected: {detail}; that does not hold")
    _report(label, True, detail)


def check_raises(label: str, func: Callable, *args: Any, exception: type[BaseException] = ValueError, **kwargs: Any) -> None:
    """Check that ``func(*args, **kwargs)`` raises `exception` (e.g. bad input -> ValueError).

    A `NotImplementedError` from a stub is reported as "not implemented yet".
    """
    try:
        func(*args, **kwargs)
    except exception as err:
        _report(label, True, f"raised {type(err).__name__}: {err}")
        return
    except NotImplementedError as err:
        _fail(label, not_implemented_message(err))
    except Exception as err:  # noqa: BLE001 - any other exception is the failure we report
        _fail(label, f"raised {type(err).__name__}: {err}, expected {exception.__name__}")
    _fail(label, f"returned normally, expected {exception.__name__}")


def not_implemented_message(err: NotImplementedError) -> str:
    """The FAIL detail for a stub that still raises NotImplementedError."""
    task = str(err).strip()
    return "not implemented yet" + (f" ({task})" if task else "")


def run_stub(label: str, func: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call ``func(*args, **kwargs)`` and return its result; a stub's NotImplementedError becomes a FAIL.

    Use it around the student's function in a public check, so an unfinished stub prints
    ``FAIL AddGate.forward: not implemented yet (a1_gates AddGate.forward: ...)`` instead of a
    traceback. Other exceptions propagate unchanged (their traceback is the useful message).
    """
    try:
        return func(*args, **kwargs)
    except NotImplementedError as err:
        _fail(label, not_implemented_message(err))
    except ValueError as err:
        shape = _raised_shape(err)
        if shape is None:
            raise
        _fail(label, f"raised {type(err).__name__}: {err}" + shape)


def _raised_shape(err: ValueError) -> str | None:
    """The named mistake of a shape error: the library's GradShapeError (by its fields) or
    numpy's matrix product of mismatched shapes; None for any other error."""
    if type(err).__name__ == "GradShapeError":
        name = str(getattr(err, "name", "gradient"))
        mistake = shape_mistake(tuple(err.got), tuple(err.expected), bias=name.startswith("db"))
        return _named(name, mistake, None, name)
    text = str(err)
    if text.startswith("matmul: Input operand") or (text.startswith("shapes (") and "not aligned" in text):
        return ("; the shapes of a matrix product do not match: most often a missing or extra "
                "transpose (missing_transpose)")
    return None


def check_gate(name: str, gate: Any, inputs: tuple, dout: Any, expected_out: Any, expected_grads: tuple,
               tol: float = 1e-7) -> None:
    """Run ``gate.forward(*inputs)`` then ``gate.backward(dout)``; compare with expected values.

    Prints one line per compared quantity, labelled ``<name>.forward``, ``<name>.backward dx``
    (``dy`` for a second input). A stub that is not written yet fails as "not implemented yet".

    Args:
        name: the gate's class name, e.g. ``"MultiplyGate"``.
        gate: a fresh gate instance.
        inputs: the forward inputs, e.g. ``(3.0, -4.0)``.
        dout: the upstream gradient; a tuple ``(d1, d2)`` for a gate with two outputs (CopyGate).
        expected_out: forward's expected output (a tuple for two outputs).
        expected_grads: backward's expected gradients, one per input.
        tol: bound of the elementwise relative error.
    """
    out = run_stub(f"{name}.forward", gate.forward, *inputs)
    check_close(f"{name}.forward", out, expected_out, tol)
    douts = dout if isinstance(dout, tuple) else (dout,)
    grads = run_stub(f"{name}.backward", gate.backward, *douts)
    n = len(expected_grads)
    if not (isinstance(grads, tuple) and len(grads) == n):
        _fail(f"{name}.backward", f"must return a tuple of {n} gradient(s), one per input, got {repr(grads)[:80]}")
    for label, grad, expected in zip(("dx", "dy"), grads, expected_grads):
        check_close(f"{name}.backward {label}", grad, expected, tol)
