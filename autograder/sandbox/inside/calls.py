"""How a driver calls the student's code and reads what it returned (runs IN the sandbox).

The drivers (`drivers.py`) are written with these: `get` a function from the student's
namespace (`NotDefined` when it is missing), hand it `fresh` copies of the task's inputs
(`inputs`, `kwargs`, `prefixed`), and turn what came back into plain float64 arrays
(`as_array`, `unpack`, `dict_out`), refusing what the signature does not promise with a
message that says what was expected; `changed` and `aliased` record whether an input was
written in place or returned as the output (the checks grade "inputs are not modified" and
"returns a new array"). Like every file in `sandbox/inside/`, it imports only numpy and the
standard library.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

MAX_ELEMENTS = 2_000_000
KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")


class NotDefined(NameError):
    """A function the task needs is not in the student's namespace."""


def get(ns: dict, name: str) -> Any:
    if name not in ns:
        raise NotDefined(f"{name} is not defined (it must keep its name and signature)")
    return ns[name]


def fresh(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def changed(passed: Any, original: Any) -> float:
    """1.0 when the array handed to the student's code no longer equals its original (it was
    written in place), else 0.0. The checks grade the promise "inputs are not modified"."""
    if not isinstance(passed, np.ndarray) or not isinstance(original, np.ndarray):
        return 0.0
    return 0.0 if passed.shape == original.shape and np.array_equal(passed, original, equal_nan=True) else 1.0


def aliased(result: Any, passed: list) -> float:
    """1.0 when the student's returned array shares memory with an array handed in (a result
    promised to be a new array that is the input itself, or a view of it), else 0.0."""
    if not isinstance(result, np.ndarray):
        return 0.0
    return float(any(isinstance(a, np.ndarray) and np.shares_memory(result, a) for a in passed))


def as_array(value: Any, what: str) -> np.ndarray:
    """`value` as a new float64 array, or ValueError saying what it was instead."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise ValueError(f"{what} must be a number or an array of numbers, got {type(value).__name__}")
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a number or an array of numbers, got "
                         f"{type(value).__name__} ({exc})") from None
    if array.size > MAX_ELEMENTS:
        raise ValueError(f"{what} has {array.size} entries, far more than expected")
    return array


def unpack(result: Any, count: int, what: str) -> tuple:
    """`result` as a tuple of exactly `count` items (a function that must return a tuple)."""
    if isinstance(result, (tuple, list)) and len(result) == count:
        return tuple(result)
    got = f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
    raise ValueError(f"{what} must return {count} values, got {got}")


def inputs(args: dict) -> list:
    return [fresh(args[f"in{i}"]) for i in range(int(args["n_in"]))]


def kwargs(args: dict) -> dict:
    return {key[3:]: fresh(value) for key, value in args.items() if key.startswith("kw_")}


def prefixed(args: dict, prefix: str) -> dict[str, np.ndarray]:
    return {key[len(prefix):]: fresh(value) for key, value in sorted(args.items())
            if key.startswith(prefix)}


def dict_out(result: Any, prefix: str, what: str) -> dict[str, np.ndarray]:
    """A dict of arrays returned by the student -> {prefix + key: float64 array}."""
    if not isinstance(result, dict):
        raise ValueError(f"{what} must be a dict, got {type(result).__name__}")
    if len(result) > 64:
        raise ValueError(f"{what} has {len(result)} keys, far more than expected")
    out = {}
    for key, value in result.items():
        if not isinstance(key, str) or not KEY.match(key):
            raise ValueError(f"{what} has a key {key!r}; keys are names like 'W1', 'b1'")
        out[prefix + key] = as_array(value, f"{what}[{key!r}]")
    return out
