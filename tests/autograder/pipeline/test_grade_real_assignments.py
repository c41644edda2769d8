"""The real assignments through the real sandbox: a correct submission gets full marks, also when
it prints to stdout and stderr and raises warnings; the untouched student release gets zero.

Generic over `solutions/`: a new assignment is covered by adding its notebook.
"""
from __future__ import annotations

import io
from pathlib import Path

import nbformat
import pytest

from tools.demo_class import as_submitted
from autograder.pipeline.notebook import load_source
from autograder.pipeline.results import read_grades_csv, read_result
from autograder.pipeline.run import grade_class
from autograder.sandbox.launch import bwrap_skip_reason

from fixtures.toy_class import run_cgroups, run_processes

REPO = Path(__file__).resolve().parents[3]
ASSIGNMENTS = sorted(p.name for p in (REPO / "solutions").iterdir() if p.is_dir())
SKIP = bwrap_skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]

NOISE_AT_LOAD = """import sys as _sys, warnings as _warnings
print("debugging: loading my cell")
print("debugging on stderr", file=_sys.stderr)
_warnings.warn("a student's own warning at load time")
"""

NOISY_WRAPPER = """
import functools as _functools
def _noisy(f):
    @_functools.wraps(f)
    def wrapper(*args, **kwargs):
        print("called", f.__name__, "with", len(args), "arguments")
        print("stderr chatter from", f.__name__, file=_sys.stderr)
        _warnings.warn(f.__name__ + ": a RuntimeWarning-like note", RuntimeWarning)
        return f(*args, **kwargs)
    return wrapper
for _name in NAMES:
    _obj = globals().get(_name)
    if isinstance(_obj, type):
        for _method in ("forward", "backward"):
            if _method in vars(_obj):
                setattr(_obj, _method, _noisy(vars(_obj)[_method]))
    elif callable(_obj):
        globals()[_name] = _noisy(_obj)
"""


def noisy(nb: nbformat.NotebookNode, graded: list[str]) -> nbformat.NotebookNode:
    """The correct submission, chatty: prints and warnings at load time and in every call."""
    solution_cells = [c for c in nb.cells if c.cell_type == "code"
                      and c.metadata.get("nbgrader", {}).get("solution")]
    for cell in solution_cells:
        cell.source = NOISE_AT_LOAD + cell.source
    solution_cells[-1].source += f"\nNAMES = {graded!r}\n" + NOISY_WRAPPER
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    submitted = root / "submitted"
    for a in ASSIGNMENTS:
        source = nbformat.read(REPO / "solutions" / a / f"{a}.ipynb", as_version=4)
        names = list(load_source(REPO / "solutions" / a / f"{a}.ipynb", a).points)
        versions = {
            "correct": as_submitted(source),
            "noisy": noisy(as_submitted(source), names),
            "unfinished": nbformat.read(REPO / "notebooks" / a / f"{a}.ipynb", as_version=4),
        }
        for sid, nb in versions.items():
            folder = submitted / sid / a
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{a}.ipynb")
    out = root / "out"
    grade_class(submitted, out, solutions=REPO / "solutions", jobs=2, seed=7, progress=False,
                outputs=False, stream=io.StringIO())
    return out


def test_correct_submission_gets_full_marks_in_every_assignment(graded):
    rows = [r for r in read_grades_csv(graded / "grades.csv") if r["student_id"] == "correct"]
    assert sorted(r["assignment"] for r in rows) == ASSIGNMENTS
    for r in rows:
        assert r["status"] == "ok", r
        assert float(r["auto_score"]) == float(r["auto_max_score"]) > 0, r


def test_printing_and_warnings_cost_nothing(graded):
    for a in ASSIGNMENTS:
        result = read_result(graded / "results" / "noisy" / f"{a}.json")
        failed = [c["message"] for c in result["checks"] if not c["passed"]]
        assert result["status"] == "ok" and failed == [], (a, failed[:3])
        assert result["auto_score"] == result["auto_max_score"]


def test_untouched_release_gets_zero_with_not_implemented_messages(graded):
    for a in ASSIGNMENTS:
        result = read_result(graded / "results" / "unfinished" / f"{a}.json")
        assert result["status"] == "ok" and result["auto_score"] == 0.0
        assert all("NotImplementedError" in c["message"] for c in result["checks"]), a


def test_no_sandbox_process_or_cgroup_survives(graded):
    import os

    assert run_processes(os.getpid()) == [] and run_cgroups(os.getpid()) == []
