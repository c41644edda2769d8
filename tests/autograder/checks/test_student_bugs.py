"""Students' buggy backward passes (`fixtures.student_bugs`), graded in-process: every bug loses
points, the tuning set is named as expected, and the held-out set (frozen before the diagnosis
was written) is named at the share recorded here, never lower. A held-out bug that is named
must be named right: a wrong name misleads more than none."""
from __future__ import annotations

import numpy as np
import pytest

from autograder import checks
from fixtures.student_bugs import HELD_OUT, TUNING, Bug, namespace

HELD_OUT_NAMED_AT_LEAST = 15 / 18
"""Measured when the diagnosis was written (issue 13): 15 of the 18 held-out bugs named, every
one with the expected name; the 3 unnamed (db averaged, softmax without the one-hot, a
multiply gate without the swap) match no name of the contract."""


def _grade(bug: Bug, seed: int = 7) -> list:
    ns = namespace(bug)
    runs, verdicts = {}, []
    for task in checks.tasks_for(bug.function, np.random.default_rng(seed)):
        if id(task.args) not in runs:
            runs[id(task.args)] = checks.run_in_process(ns, task)
        verdicts.append(checks.evaluate(task, runs[id(task.args)]))
    return verdicts


def _names(verdicts: list) -> set:
    return {v.mistake for v in verdicts if not v.passed and v.mistake}


@pytest.mark.parametrize("bug", TUNING + HELD_OUT, ids=lambda b: b.id)
def test_every_bug_loses_points(bug):
    verdicts = _grade(bug)
    assert sum(v.fraction for v in verdicts) < len(verdicts), [v.message for v in verdicts]


@pytest.mark.parametrize("bug", TUNING, ids=lambda b: b.id)
def test_tuning_bugs_are_named(bug):
    names = _names(_grade(bug))
    if bug.expected is None:
        return
    assert bug.expected in names, (bug.id, names)


def test_held_out_named_share():
    named = wrong = 0
    report = []
    for bug in HELD_OUT:
        names = _names(_grade(bug))
        hit = bug.expected is not None and bug.expected in names
        named += hit
        misnamed = bool(names) and not hit and bug.expected is not None
        wrong += misnamed
        report.append(f"{bug.id}: expected {bug.expected}, got {sorted(names)}")
    share = named / len(HELD_OUT)
    print("\n".join(report), f"\nheld-out named share {share:.2f} ({named} of {len(HELD_OUT)})")
    assert share >= HELD_OUT_NAMED_AT_LEAST - 1e-9, report
    assert wrong == 0, report
