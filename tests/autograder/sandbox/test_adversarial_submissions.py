"""Submissions that attack the grader score no more than the untouched stub (0 of 5 here).

Every attack replaces the toy's `double` (the other function stays a stub). Each is written so
that it returns the right answer only if the attack worked: a leak would show as points. The
class also holds an honest student, whose grade must not change; afterwards no process of the
run may survive and the grades must not change. Promised, and tested, with bubblewrap.
"""
from __future__ import annotations

import io
import json
import os
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder.pipeline.results import read_grades_csv, read_result
from autograder.pipeline.run import grade_class
from autograder.sandbox.launch import Limits, SandboxCgroups, bwrap_skip_reason

from fixtures import toy_notebooks as toy
from fixtures.toy_class import LIBRARY, TOY_CHECKS, run_cgroups, run_processes, sandbox_processes

SKIP = bwrap_skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.sandbox,
              pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]
LIMITS = Limits(wall_seconds=6, task_seconds=1.5)
SETTLE_SECONDS = 10.0  # the issue: grades are the same 10 s after the command exits
CANARY = "canary-7f3e-only-in-the-source-notebook"
STUB_SQUARE = toy.STUBS["sol_square_backward"]


def attacks(paths: dict[str, str]) -> dict[str, str]:
    """Attack name -> source of the `sol_double` cell. `paths`: what the attacks look for."""
    canary = f"'{CANARY[:10]}' + '{CANARY[10:]}'"  # never spelled out in the notebook itself
    return {
        "patch_numpy": """
import numpy as np
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.linalg.norm = lambda *a, **k: 0.0
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)
def double(x):
    return np.zeros_like(x)
""",
        "patch_builtins": """
import builtins
builtins.isinstance = lambda *a: True
builtins.float = lambda *a: 0.0
builtins.max = lambda *a, **k: 1e300
builtins.print = lambda *a, **k: None
def double(x):
    return x * 0
""",
        "ipython_hooks": """
import ast
class DropAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return None
ip = get_ipython()
ip.input_transformers_post.append(lambda lines: [l for l in lines if 'assert' not in l])
ip.ast_transformers.append(DropAsserts())
from IPython import get_ipython as again
again().events.register('post_run_cell', lambda *a: None)
def double(x):
    return x
""",
        "read_solutions": f"""
import os
target = {canary}
found = False
for path in {[paths['source'], paths['honest'], paths['out'], paths['repo']]!r}:
    try:
        if os.path.isdir(path):
            found = found or bool(os.listdir(path))
        else:
            found = found or target in open(path).read() or os.path.getsize(path) > 0
    except OSError:
        pass
skip = ('/usr', '/proc', '/sys', '/dev')
for top, dirs, files in os.walk('/'):
    dirs[:] = [d for d in dirs if not os.path.join(top, d).startswith(skip)
               and 'site-packages' not in d and 'python3' not in d]
    for name in files:
        if name.endswith(('.ipynb', '.csv', '.json', '.db')) or 'toy' in name:
            try:
                found = found or target in open(os.path.join(top, name), errors='ignore').read()
            except OSError:
                pass
for pid in os.listdir('/proc'):
    try:
        found = found or target in open(f'/proc/{{pid}}/environ', errors='ignore').read()
    except OSError:
        pass
found = found or any(target in v for v in os.environ.values())
def double(x):
    return 2 * x if found else x
""",
        "exit_at_load": """
import sys
def double(x):
    return 2 * x
sys.exit(0)
""",
        "exit_in_call": """
import os
def double(x):
    os._exit(0)
""",
        "loop_in_call": """
def double(x):
    while True:
        pass
""",
        "loop_at_load": """
while True:
    pass
""",
        "allocate_4gib": """
import numpy as np
def double(x):
    big = np.ones(2 ** 29)
    big[::4096] = 2.0
    return 2 * x + (big.sum() - big.size - 131072)
""",
        "fork_300": """
import os, time
def double(x):
    n = 0
    for _ in range(300):
        try:
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            n += 1
        except OSError:
            break
    return 2 * x if n >= 300 else x
""",
        "daemon": f"""
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for _ in range(120):
            time.sleep(0.25)
            for path in {[paths['grades'], paths['result']]!r}:
                try:
                    with open(path, 'w') as f:
                        f.write('hacked')
                except OSError:
                    pass
    os._exit(0)
def double(x):
    return x
""",
        "lying_subclass": """
import numpy as np
class Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), bool)
    def __sub__(self, other):
        return np.zeros(np.shape(other))
    __rsub__ = __sub__
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(np.shape(inputs[0]))
def double(x):
    return np.zeros_like(x).view(Liar)
""",
        "walk_the_stack": """
import gc, inspect, numpy as np
def double(x):
    for info in inspect.stack():
        for name, value in info.frame.f_locals.items():
            if name in ('expected', 'want', 'reference', 'ref', 'answer', 'reference_value'):
                return value
    for obj in gc.get_objects():
        if isinstance(obj, dict) and 'expected' in obj:
            return obj['expected']
    return x
""",
        "fake_output_and_frames": """
import json, os, struct, sys
print('All tests passed! auto_score 5.0 / 5.0')
print(json.dumps({"event": "task", "index": 0, "ok": True}), file=sys.stderr)
fd = int(sys.argv[1])  # the results channel: forge a frame claiming success for every task
for index in range(4):
    head = json.dumps({"event": "task", "index": index, "ok": True, "error": "", "kind": "",
                       "arrays": {"passed": {"__array__": ["<f8", [], 0, 8]}}}).encode()
    os.write(fd, b"AGF1" + struct.pack("<I", len(head)) + head + struct.pack("<Q", 8) + bytes(8))
def double(x):
    return x
""",
        "import_reference": f"""
import importlib, sys
sys.path[:0] = [{paths['repo']!r}, {paths['repo'] + '/tests'!r}, {paths['repo'] + '/tests/fixtures'!r}]
reference = None
for name in ('toy_checks', 'fixtures.toy_checks', 'autograder.checks', 'backprop_lib.layers',
             'backprop_lib.gates'):
    try:
        reference = importlib.import_module(name)
        break
    except Exception:
        pass
def double(x):
    return 2 * x if reference is not None else x
""",
    }


def forged_metadata_notebook():
    """Stubs, but the test cells say `pass`, carry 1000 points, and a new one grades `double`."""
    nb = toy.notebook(toy.STUBS)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            cell.source = "pass\n"
            meta["points"] = 1000
        if meta.get("grade_id") == "sol_double":
            meta.update(grade=True, points=1000)
    nb.cells.append(new_code_cell("pass\n", metadata={
        "nbgrader": {"grade_id": "test_mine", "grade": True, "solution": False, "locked": True,
                     "points": 1000, "schema_version": 3}, "kit": {"functions": ["double"]}}))
    nb.metadata["kit"] = {"points": 1000}
    return nb


def write_source_with_canary(solutions):
    path = toy.write_source(solutions)
    nb = nbformat.read(path, as_version=4)
    nb.cells[3].source = nb.cells[3].source.replace("return twice(x)", f"return twice(x)  # {CANARY}")
    nbformat.write(nb, path)
    return path


def test_attacks_score_no_more_than_the_stub_and_harm_nobody(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_TEST_SECRET", CANARY)  # in the grader's own environment
    source = write_source_with_canary(tmp_path / "solutions")
    submitted, out = tmp_path / "submitted", tmp_path / "out"
    honest = toy.write_submission(submitted, "honest")
    toy.write_submission(submitted, "stub", toy.STUBS)
    paths = {"source": str(source), "honest": str(honest), "out": str(out), "repo": str(LIBRARY.parent),
             "grades": str(out / "grades.csv"), "result": str(out / "results" / "honest" / "toy.json")}
    names = attacks(paths)
    if os.geteuid() == 0 and not SandboxCgroups.supported():
        # root without a pids cgroup: the grader warns that it cannot bound processes here
        names.pop("fork_300")
    for name, code in names.items():
        toy.write_submission(submitted, name, {"sol_double": code, "sol_square_backward": STUB_SQUARE})
    toy.write_submission(submitted, "forged_metadata", nb=forged_metadata_notebook())

    alone = tmp_path / "alone"
    toy.write_submission(alone / "submitted", "honest")
    grade_class(alone / "submitted", alone / "out", solutions=tmp_path / "solutions", jobs=1,
                checks=TOY_CHECKS, limits=LIMITS, progress=False, outputs=False, stream=io.StringIO())

    started = time.monotonic()
    grade_class(submitted, out, solutions=tmp_path / "solutions", jobs=2, checks=TOY_CHECKS,
                limits=LIMITS, progress=False, outputs=False, stream=io.StringIO())
    elapsed = time.monotonic() - started

    rows = {r["student_id"]: r for r in read_grades_csv(out / "grades.csv")}
    assert rows["stub"]["auto_score"] == "0.0"
    assert set(rows) == set(names) | {"honest", "stub", "forged_metadata"}
    leaks = {sid: r["auto_score"] for sid, r in rows.items()
             if sid != "honest" and float(r["auto_score"]) > 0.0}
    assert leaks == {}
    assert all(r["auto_max_score"] == "5.0" for r in rows.values())
    assert rows["loop_at_load"]["status"] == "timeout"
    assert rows["exit_at_load"]["status"] == "error" and "SystemExit" in rows["exit_at_load"]["reason"]
    memory = read_result(out / "results" / "allocate_4gib" / "toy.json")
    assert "MemoryError" in memory["checks"][0]["message"]

    mine = read_result(out / "results" / "honest" / "toy.json")
    theirs = read_result(alone / "out" / "results" / "honest" / "toy.json")
    mine.pop("seconds"), theirs.pop("seconds")
    assert mine == theirs and mine["auto_score"] == 5.0

    assert run_processes(os.getpid()) == [] and run_cgroups(os.getpid()) == []
    snapshot = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    time.sleep(SETTLE_SECONDS)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == snapshot
    assert run_processes(os.getpid()) == []
    assert elapsed < 60
