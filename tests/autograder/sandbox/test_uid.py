"""sandbox/uid.py's private temp folders: named by the pid of the process that made them, so the
next process of ours removes what a killed one (SIGKILL: no atexit) left, and nothing else.
The staged runtime and the engines' stages both use them."""
from __future__ import annotations

import os
import subprocess
import sys

from autograder.engines.task import Grader
from autograder.sandbox.uid import own_temp_folder
from fixtures.toy_class import TOY_CHECKS


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_new_folder_sweeps_the_dead_and_keeps_the_living_and_the_others(tmp_path):
    dead = tmp_path / f"autograder-stage-{dead_pid()}-abc"
    living = tmp_path / f"autograder-stage-{os.getppid()}-abc"
    other_prefix = tmp_path / f"autograder-runtime-{dead_pid()}-abc"
    no_pid = tmp_path / "autograder-stage-xyz-abc"
    for folder in (dead, living, other_prefix, no_pid):
        (folder / "a1").mkdir(parents=True)
    made = own_temp_folder("autograder-stage", str(tmp_path))
    assert made.name.startswith(f"autograder-stage-{os.getpid()}-") and made.is_dir()
    assert not dead.exists()
    assert living.exists() and other_prefix.exists() and no_pid.exists()
    own_temp_folder("autograder-stage", str(tmp_path))
    assert made.exists()  # its own process's folder is never swept


def test_a_grader_sweeps_the_stage_a_killed_worker_left(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    left = tmp_path / f"autograder-stage-{dead_pid()}-abc" / "a1_gates"
    left.mkdir(parents=True)
    grader = Grader(TOY_CHECKS, use_bwrap=False)
    try:
        assert grader.root.parent == tmp_path and not left.parent.exists()
    finally:
        grader.close()
    assert not grader.root.exists()
