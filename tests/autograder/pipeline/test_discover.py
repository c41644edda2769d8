"""Discovery: every student folder x every assignment in solutions/ is a job."""
from __future__ import annotations

import pytest

from autograder.pipeline.discover import Job, discover, find_assignments


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")


def test_every_student_gets_every_assignment(tmp_path):
    for a in ("a1_gates", "a2_vectorized"):
        touch(tmp_path / "solutions" / a / f"{a}.ipynb")
    (tmp_path / "solutions" / "not_an_assignment").mkdir()
    sub = tmp_path / "submitted"
    touch(sub / "alice" / "a1_gates" / "a1_gates.ipynb")
    touch(sub / "bob" / "a2_vectorized" / "a2_vectorized-Copy1.ipynb")
    (sub / "carol").mkdir()  # an empty folder
    (sub / ".ipynb_checkpoints").mkdir()
    touch(sub / "stray-file.txt")

    jobs = discover(sub, tmp_path / "solutions")

    assert [(j.student_id, j.assignment) for j in jobs] == [
        (s, a) for s in ("alice", "bob", "carol") for a in ("a1_gates", "a2_vectorized")]
    assert jobs[0] == Job("alice", "a1_gates", sub / "alice" / "a1_gates" / "a1_gates.ipynb")
    assert jobs[1].notebook is None and jobs[1].reason == (
        "No submission: a2_vectorized/a2_vectorized.ipynb not found.")
    assert jobs[3].reason.endswith("(the folder holds a2_vectorized-Copy1.ipynb).")
    assert jobs[4].notebook is None and jobs[5].notebook is None


def test_bad_folders_raise_value_error_naming_them(tmp_path):
    with pytest.raises(ValueError, match="solutions folder .* does not exist"):
        find_assignments(tmp_path / "nope")
    (tmp_path / "solutions").mkdir()
    with pytest.raises(ValueError, match="holds no <assignment>"):
        find_assignments(tmp_path / "solutions")
    touch(tmp_path / "solutions" / "a1" / "a1.ipynb")
    with pytest.raises(ValueError, match="submitted folder .* does not exist"):
        discover(tmp_path / "missing", tmp_path / "solutions")
