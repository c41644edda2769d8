"""Limits that follow the work (`autograder/pipeline/limits.py`): the numbers, and the two facts
they rest on for the real checks: a check is the same check for every student (same key), and
what it returns differs in size between students by far less than BYTES_MULTIPLE."""
from __future__ import annotations

import importlib
import pickle

import numpy as np
import pytest

from autograder import checks as registry
from autograder.pipeline.grade import function_rng
from autograder.pipeline.limits import (BYTES_MULTIPLE, CHECK_FLOOR_SECONDS, HEADER_ALLOWANCE,
                                        LOAD_FLOOR_SECONDS, LOAD_FRAME_BYTES, TIME_MULTIPLE,
                                        Measured, WorkLimits, task_keys)
from autograder.sandbox.inside import wire
from autograder.sandbox.launch import Limits

LIBRARY_MODULES = ("gates", "graph", "layers", "gradcheck", "init", "mlp", "optim", "diagnostics")


def test_limits_are_multiples_of_the_reference_with_floors_and_caps():
    measured = Measured(load_seconds=1.5, check_seconds={"f/a": 0.01, "f/b": 0.9, "g/c": 4.0},
                        result_bytes={"f/a": 1000, "f/b": 2 << 20, "g/c": 0})
    work = WorkLimits.from_reference(measured, Limits(wall_seconds=60, task_seconds=10),
                                     unmeasured_runs=1)
    assert work.load_seconds == TIME_MULTIPLE * 1.5 == 15.0
    assert work.check_limit("f/a") == CHECK_FLOOR_SECONDS == 5.0
    assert work.check_limit("f/b") == 9.0
    assert work.check_limit("g/c") == 10.0  # 40 s capped by --task-timeout
    assert work.check_limit("unknown") == 10.0
    assert work.result_limit("f/a") == BYTES_MULTIPLE * 1000 + HEADER_ALLOWANCE
    assert work.result_limit("f/b") == 4 * (2 << 20) + HEADER_ALLOWANCE
    assert work.result_limit("unknown") == work.default_result_bytes > 64 << 20
    assert work.notebook_bytes == (sum(work.result_bytes.values()) + work.default_result_bytes
                                   + LOAD_FRAME_BYTES)
    fast = WorkLimits.from_reference(Measured(0.2), Limits(wall_seconds=60, task_seconds=10))
    assert fast.load_seconds == LOAD_FLOOR_SECONDS
    capped = WorkLimits.from_reference(Measured(3.0), Limits(wall_seconds=6, task_seconds=1.5))
    assert capped.load_seconds == 6 and capped.check_limit("x") == 1.5
    assert pickle.loads(pickle.dumps(work)) == work  # data that travels with each task
    assert "reference 1.50 s" in work.describe()


def _reference_namespace() -> dict:
    ns: dict = {}
    for name in LIBRARY_MODULES:
        module = importlib.import_module(f"backprop_lib.{name}")
        ns.update({k: v for k, v in vars(module).items() if not k.startswith("_")})
    return ns


@pytest.mark.parametrize("function", sorted(registry.MODULE_OF))
def test_a_check_keeps_its_key_and_its_result_size_for_every_student(function):
    ns = _reference_namespace()
    sizes: dict[str, list[int]] = {}
    keys = None
    for student in ("reference", "alice", "bob", "zoe-9"):
        rng = function_rng(0, student, "a", function)
        tasks = registry.tasks_for(function, rng)
        planned = [type("P", (), {"index": i, "function": function, "task": t})
                   for i, t in enumerate(tasks)]
        these = task_keys(planned)
        assert keys is None or these == keys
        keys = these
        for i, task in enumerate(tasks):
            outcome = registry.run_in_process(ns, task)
            assert outcome.ok, (function, task.check, outcome.error)
            nbytes = sum(wire.plain_array(v).nbytes for v in outcome.values.values())
            sizes.setdefault(these[i], []).append(nbytes)
    for key, seen in sizes.items():
        assert max(seen) <= BYTES_MULTIPLE * min(seen) + HEADER_ALLOWANCE, (key, seen)
        assert max(seen) <= 2 * max(min(seen), 1) or max(seen) < HEADER_ALLOWANCE, (key, seen)


def test_unmeasured_limits_are_the_fixed_caps():
    work = WorkLimits.unmeasured(Limits(wall_seconds=7, task_seconds=2))
    assert work.load_seconds == 7 and work.check_limit("f/a") == 2
    assert work.result_limit("f/a") == wire.FRAME_OVERHEAD + wire.MAX_HEADER_BYTES + wire.MAX_BLOB_BYTES
    assert work.reference is None and np.isfinite(work.notebook_bytes)
