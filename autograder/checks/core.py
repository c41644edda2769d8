"""The data the checks pass around, and the comparisons every check module shares.

Tolerances (every comparison is norm-wise, in float64,
``err = ||got - want|| / max(||got|| + ||want||, floor)``):

=========================  =========  ==========  ==============================================
what                       tol        floor       why this is safe for a correct submission
=========================  =========  ==========  ==============================================
forward values, losses     1e-7       1e-8        same formula in float64 differs by ~1e-15
gradient vs numerical      1e-6       1e-2        centered differences of the REFERENCE forward
                                                  with h = 1e-5 on well-scaled inputs kept
                                                  >= 1e-2 from every kink err by < 1e-9
                                                  (absolute <= 5e-10); the floor keeps a
                                                  gradient that is exactly 0 (an SVM's db when
                                                  the labels balance) from failing on 1e-11
                                                  of noise: below norm 1e-2 the check is
                                                  absolute, |err| < 1e-8
optimizer / clip values    1e-9       1e-8        a few flops of float64 arithmetic
a student's numerical      1e-7       1e-8        (gradcheck) against the analytic gradient of
gradient checker                                  a known function: centered differences err
                                                  by ~1e-10, one-sided ones by ~1e-6
=========================  =========  ==========  ==============================================

Measured on 200 seeds x every function with the reference library as the student: the
largest relative error of any check is 8.9e-9 (mlp gradients; gates and layers <= 2e-10,
gradcheck 5e-11, optim and diagnostics 0), 100 times below the tightest gradient tolerance.

A gradient check passes on the numerical gradient; the mistake is diagnosed against the
reference's analytic gradient (exact, so wrong answers built from it match to ~1e-15).
Kinks are kept away by `inputs`: |x| >= 1e-2 for ReLU-type inputs, max branches >= 1e-2 apart,
hinge margins >= 1e-2 from 0; with h = 1e-5 no perturbation crosses a kink.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import mistakes
from .mistakes import Context
from .numeric import rel_error

TOL_VALUE, FLOOR_VALUE = 1e-7, 1e-8
TOL_GRAD, FLOOR_GRAD = 1e-6, 1e-2
TOL_EXACT, FLOOR_EXACT = 1e-9, 1e-8
SAMPLE_SIZE = 20
MAX_PARTS_SHOWN = 3


@dataclass(frozen=True)
class Task:
    """One run of a driver in the sandbox, and which check its result feeds.

    `args` holds only str / int / float / bool / None and float64 or int64 ndarrays. Tasks of
    one function share one `args` dict when they need the same run (the worker may run it once).
    """

    function: str
    check: str
    driver: str
    args: dict
    weight: float = 1.0


@dataclass
class Outcome:
    """What the sandbox sent back for a task: plain arrays, or why there are none."""

    ok: bool
    values: dict[str, np.ndarray] = field(default_factory=dict)
    error: str = ""
    kind: str = ""  # "exception" | "timeout" | "crash" | "not_defined"
    shape: dict[str, Any] | None = None  # {"name", "got", "expected"}: the library's shape error
    cpu_seconds: float | None = None  # the run's CPU time, measured outside the sandbox (cost.py)


@dataclass
class Verdict:
    """The result of one check: credit in [0, 1], a message for the student, a mistake name,
    and the numbers the message was made from (so nothing downstream parses the message).

    Attributes:
        sample: (gradient checks only) up to 20 pairs (student's value, numerical value) for a
            feedback plot.
        rel_error: the norm-wise relative error of the compared output (None when no numbers
            could be compared: a wrong shape, NaN, a yes / no check).
        tol: the bound `rel_error` had to stay under.
        shape: the student's output's shape, when it was compared with `expected_shape`.
        expected_shape: the shape the output must have.
    """

    fraction: float
    passed: bool
    message: str
    mistake: str | None = None
    sample: list[tuple[float, float]] | None = None
    rel_error: float | None = None
    tol: float | None = None
    shape: tuple[int, ...] | None = None
    expected_shape: tuple[int, ...] | None = None


# ----------------------------------------------------------------------------- memo
_MEMO: OrderedDict[str, Any] = OrderedDict()
_MEMO_SIZE = 64
_MEMO_LOCK = threading.Lock()  # the grader evaluates notebooks in several threads


def args_key(function: str, args: dict) -> str:
    """A digest of a task's function and args (arrays by dtype, shape and bytes)."""
    digest = hashlib.sha1(function.encode())
    for name in sorted(args):
        value = args[name]
        digest.update(name.encode())
        if isinstance(value, np.ndarray):
            digest.update(f"{value.dtype.str}{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def memo(function: str, args: dict, compute: Callable[[], Any]) -> Any:
    """`compute()` once per (function, args): the tasks of a function share reference numbers."""
    key = args_key(function, args)
    with _MEMO_LOCK:
        if key in _MEMO:
            _MEMO.move_to_end(key)
            return _MEMO[key]
    value = compute()  # outside the lock: two threads may compute the same value, harmlessly
    with _MEMO_LOCK:
        _MEMO[key] = value
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return value


# ----------------------------------------------------------------------------- verdicts
def _fmt(x: float) -> str:
    return f"{x:.2g}" if x >= 1e-3 else f"{x:.1e}"


def _fmt_tol(x: float) -> str:
    """1e-06 -> '1e-6'."""
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def compare(values: dict[str, np.ndarray], key: str, want: np.ndarray, *, name: str,
            tol: float, floor: float, context: Context | None = None,
            right: np.ndarray | None = None, sample: bool = False) -> Verdict:
    """Check the student's output `values[key]` against `want`.

    Args:
        values: what the driver returned.
        key: which output to check.
        want: what it must be close to (the reference value, or the numerical gradient).
        name: the output's name in messages ("dW").
        tol, floor: the norm-wise tolerance and the floor of its denominator.
        context: for the mistake diagnosis (None: no diagnosis).
        right: the exact right answer the mistakes are built from (default `want`).
        sample: attach up to 20 (student, want) pairs for a feedback plot.
    """
    want = np.asarray(want, dtype=np.float64)
    right = want if right is None else np.asarray(right, dtype=np.float64)
    if key not in values:
        return Verdict(0.0, False, f"{name}: missing from what your function returned")
    got = np.asarray(values[key], dtype=np.float64)
    if want.ndim == 0 and got.size == 1:
        got = got.reshape(())  # a loss returned as a 1-element array counts as the number
    shapes = {"shape": got.shape, "expected_shape": want.shape}
    if got.shape != want.shape:
        message = f"{name} has shape {_shape_text(got.shape)}, expected {_shape_text(want.shape)}"
        if context is None:
            return Verdict(0.0, False, message, "wrong_shape", **shapes)
        mistake = mistakes.diagnose(got, right, context) or "wrong_shape"
        return Verdict(0.0, False, message + "; " + mistakes.describe(mistake, name, context.batch_size),
                       mistake, **shapes)
    if not np.all(np.isfinite(got)):
        bad = int(np.sum(~np.isfinite(got)))
        return Verdict(0.0, False, f"{name} contains NaN or inf ({bad} of {got.size} entries)",
                       tol=tol, **shapes)
    err = rel_error(got, want, floor)
    pairs = None
    if sample and got.size:
        idx = np.unique(np.linspace(0, got.size - 1, min(SAMPLE_SIZE, got.size)).astype(int))
        pairs = [(float(a), float(b)) for a, b in zip(got.reshape(-1)[idx], want.reshape(-1)[idx])]
    numbers = {"rel_error": err, "tol": tol, **shapes}
    if err < tol:
        return Verdict(1.0, True, f"{name}: ok (relative error {_fmt(err)})", None, pairs, **numbers)
    mistake = mistakes.diagnose(got, right, context) if context else None
    message = f"{name}: relative error {_fmt(err)} (must be < {_fmt_tol(tol)})"
    if mistake:
        message += "; " + mistakes.describe(mistake, name, context.batch_size)
    return Verdict(0.0, False, message, mistake, pairs, **numbers)


def combine(verdicts: list[Verdict]) -> Verdict:
    """One verdict from several parts (e.g. every key of a grads dict): credit is the mean.

    Its numbers are those of the worst part: the first failed part's shapes, and the largest
    relative error (with that part's tolerance) among the failed parts, or among all parts
    when every part passed.
    """
    if not verdicts:
        raise ValueError("combine needs at least one verdict")
    fraction = float(np.mean([v.fraction for v in verdicts]))
    failed = [v for v in verdicts if not v.passed]
    measured = [v for v in (failed or verdicts) if v.rel_error is not None]
    worst = max(measured, key=lambda v: v.rel_error) if measured else None
    numbers = {"rel_error": worst.rel_error if worst else None, "tol": worst.tol if worst else None}
    shaped = next((v for v in (failed or verdicts) if v.shape is not None), None)
    if shaped is not None:
        numbers.update(shape=shaped.shape, expected_shape=shaped.expected_shape)
    if not failed:
        message = ("; ".join(v.message for v in verdicts) if len(verdicts) <= 6
                   else f"all {len(verdicts)} arrays ok")
        return Verdict(fraction, True, message, None, verdicts[0].sample, **numbers)
    mistake = next((v.mistake for v in failed if v.mistake), None)
    sample = next((v.sample for v in failed if v.sample), None)
    message = "; ".join(v.message for v in failed[:MAX_PARTS_SHOWN])
    if len(failed) > MAX_PARTS_SHOWN:
        message += f"; and {len(failed) - MAX_PARTS_SHOWN} more of {len(verdicts)} wrong"
    return Verdict(fraction, False, message, mistake, sample, **numbers)


def value_check(ok: bool, passed_message: str, failed_message: str, mistake: str | None = None) -> Verdict:
    """A yes / no check (e.g. "x restored after perturbing")."""
    if ok:
        return Verdict(1.0, True, passed_message)
    return Verdict(0.0, False, failed_message, mistake)


def failed_outcome(task: Task, outcome: Outcome, batch_size: int | None = None) -> Verdict:
    """Verdict for a task whose run produced no numbers (raised, hung, crashed, undefined)."""
    error = (outcome.error or "").strip()
    if outcome.kind == "not_defined":
        return Verdict(0.0, False, f"{task.function} is not defined (it must keep its name "
                                   f"and signature)")
    if outcome.kind == "timeout":
        return Verdict(0.0, False, f"{task.function} did not finish: {error or 'timed out'}")
    if outcome.kind == "crash":
        return Verdict(0.0, False, f"{task.function} crashed the grader's process: "
                                   f"{error or 'no message'}")
    mistake, name = mistakes.diagnose_shape_error(getattr(outcome, "shape", None), batch_size)
    if error.startswith("NotImplementedError"):
        message = f"{task.function} is not implemented yet ({error})"
    else:
        message = f"{task.function} raised {error or 'an exception'}"
    if mistake:
        message += "; " + mistakes.describe_shape_error(mistake, outcome.shape, batch_size)
    return Verdict(0.0, False, message, mistake)
