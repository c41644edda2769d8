"""Cgroups per sandbox: created, bounded, swept when a grader died, removed after the run."""
from __future__ import annotations

import os

import pytest

from autograder.sandbox.cgroups import SandboxCgroups

from fixtures.toy_class import run_cgroups

needs_cgroups = pytest.mark.skipif(not SandboxCgroups.supported(),
                                   reason="needs root and a writable cgroup v1 pids hierarchy")


@needs_cgroups
def test_a_sandbox_set_has_its_limits_and_close_removes_everything():
    cgroups = SandboxCgroups()
    try:
        made = cgroups.create(processes=7, memory_bytes=300 << 20)
        pids = made.folders[0]
        assert (pids / "pids.max").read_text().strip() == "7"
        if "memory" in cgroups.parents:
            memory = made.folders[1]
            assert int((memory / "memory.limit_in_bytes").read_text()) == 300 << 20
        assert len(run_cgroups(os.getpid())) == len(cgroups.parents)
    finally:
        cgroups.close()
    assert run_cgroups(os.getpid()) == []


@needs_cgroups
def test_cgroups_of_a_dead_grader_are_swept():
    probe = SandboxCgroups()
    root = probe.parent.parent
    probe.close()
    stale = root / "autograder-99999999-deadbeef"  # above pid_max: that grader is gone
    (stale / "child").mkdir(parents=True)
    cgroups = SandboxCgroups()
    try:
        assert not stale.exists()
    finally:
        cgroups.close()
    assert run_cgroups(os.getpid()) == []
