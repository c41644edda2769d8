"""The sandbox: what student code can see and do under bubblewrap, and that it all dies after."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from autograder.sandbox.launch import (Limits, Sandbox, SandboxCgroups, SandboxEnded,
                                bwrap_skip_reason)
from autograder.sandbox.command import reachable_stage
from autograder.sandbox.stage import build_stage

from fixtures.own_processes import processes_of
from fixtures.toy_class import FIXTURES, LIBRARY

SKIP = bwrap_skip_reason()
needs_bwrap = [pytest.mark.sandbox, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]
PROBES = FIXTURES / "probe_drivers.py"


def probe(stage: Path, snippets: list[str], cells: str = "", limits: Limits | None = None,
          cgroups: SandboxCgroups | None = None) -> list[dict]:
    """Run each snippet as one task in one bwrap sandbox; return the task frames."""
    limits = limits or Limits(wall_seconds=30, task_seconds=10)
    request = {"cells": [{"name": "imports", "source": "import os, sys, numpy as np\n" + cells}],
               "tasks": [{"index": i, "function": "os", "driver": "exec", "args": {"code": code}}
                         for i, code in enumerate(snippets)],
               "limits": limits.for_worker()}
    frames = []
    with Sandbox(stage, request, b"", limits, cgroups, use_bwrap=True) as sandbox:
        deadline = time.monotonic() + limits.wall_seconds
        assert sandbox.read_frame(deadline)["event"] == "loaded"
        for _ in snippets:
            frames.append(sandbox.read_frame(deadline))
    return frames


@pytest.fixture(scope="module")
def a2_stage(tmp_path_factory) -> Path:
    return build_stage("a2_vectorized", PROBES, tmp_path_factory.mktemp("stage"), LIBRARY)


def test_limits_reject_nonsense():
    with pytest.raises(ValueError, match="wall_seconds"):
        Limits(wall_seconds=0)
    with pytest.raises(ValueError, match="processes"):
        Limits(processes=-1)


@needs_bwrap[0]
@needs_bwrap[1]
def test_student_code_sees_no_repository_no_network_and_cannot_write(a2_stage, monkeypatch):
    repo = LIBRARY.parent
    monkeypatch.setenv("GRADER_SECRET", "s3cret-token")
    frames = probe(a2_stage, [
        # nothing of the grader's environment or paths, even through bwrap's own pid 1
        f"text = ''.join(open(f'/proc/{{p}}/{{f}}', errors='ignore').read() for p in os.listdir('/proc')"
        f" if p.isdigit() for f in ('environ', 'cmdline'))\n"
        f"result = float('s3cret' not in text and {str(repo)!r} not in text)",
        # the repository is not there at all (the runtime is staged at a neutral path)
        f"result = float(not os.path.exists({str(repo)!r}) and sys.prefix == '/usr')",
        # no network: even a connection attempt to a literal address fails at once
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
        "    result = 0.0\nexcept OSError:\n    result = 1.0",
        # the stage is read-only, /tmp is private and writable
        "try:\n    open('/grader/drivers.py', 'a')\n    result = 0.0\nexcept OSError:\n"
        "    open('/tmp/scratch', 'w').write('ok')\n    result = 1.0",
        # own pid namespace: only the sandbox's processes are visible; no capabilities
        "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "cap = int(open('/proc/self/status').read().split('CapEff:')[1].split()[0], 16)\n"
        "result = float(len(pids) <= 3 and cap == 0)",
        # the reference of the assignment being graded is not importable
        "try:\n    import backprop_lib.layers\n    result = 0.0\nexcept ImportError:\n    result = 1.0",
    ])
    assert [float(f["values"]["out"]) for f in frames] == [1.0] * 6, frames


@needs_bwrap[0]
@needs_bwrap[1]
def test_memory_and_process_limits_bind(a2_stage):
    cgroups = SandboxCgroups()
    bounded = cgroups.available or os.geteuid() != 0
    try:
        frames = probe(a2_stage, [
            "result = np.ones(2 ** 29).sum()",  # 4 GiB
            "n = 0\ntry:\n    for _ in range(100):\n        if os.fork() == 0:\n"
            "            import time; time.sleep(60); os._exit(0)\n        n += 1\n"
            "except OSError:\n    pass\nresult = n",
        ], limits=Limits(wall_seconds=30, task_seconds=10, processes=16), cgroups=cgroups)
    finally:
        cgroups.close()
    assert frames[0]["ok"] is False and "MemoryError" in frames[0]["error"]
    assert frames[1]["ok"]
    if bounded:  # else the grader warned that it cannot bound processes here
        assert 0 < float(frames[1]["values"]["out"]) < 16
    assert processes_of(reachable_stage(a2_stage)) == []


@needs_bwrap[0]
@needs_bwrap[1]
def test_a_double_forked_daemon_dies_with_the_sandbox(a2_stage):
    daemon = ("if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
              "        import time\n        time.sleep(120)\n    os._exit(0)\n")
    cgroups = SandboxCgroups()
    try:
        frames = probe(a2_stage, ["import time; time.sleep(0.2); result = 1.0"], cells=daemon,
                       cgroups=cgroups)
        assert frames[0]["ok"]
    finally:
        cgroups.close()
    time.sleep(0.2)
    assert processes_of(reachable_stage(a2_stage)) == []


def test_without_bwrap_the_grader_warns_once_and_still_grades(tmp_path, monkeypatch, capsys):
    import autograder.sandbox.command as sandbox
    from autograder.pipeline.discover import Job
    from autograder.pipeline.grade import grade_notebook
    from autograder.pipeline.notebook import load_source

    from fixtures import toy_notebooks as toy
    from fixtures.toy_class import TOY_CHECKS, toy_stage

    monkeypatch.setattr(sandbox, "_warned", set())
    source = load_source(toy.write_source(tmp_path / "solutions"))
    stage = toy_stage(tmp_path / "stage")
    results = [grade_notebook(Job(sid, "toy", toy.write_submission(tmp_path / "sub", sid)), source,
                              TOY_CHECKS, stage, use_bwrap=False) for sid in ("s1", "s2")]
    assert [r["auto_score"] for r in results] == [5.0, 5.0]
    err = capsys.readouterr().err
    assert err.count("bubblewrap (bwrap) is not available") == 1
    assert "apt-get install bubblewrap" in err


@needs_bwrap[0]
@needs_bwrap[1]
def test_memory_is_bounded_for_the_whole_sandbox_not_per_process(a2_stage):
    cgroups = SandboxCgroups()
    if "memory" not in cgroups.parents:
        cgroups.close()
        pytest.skip("no memory cgroup here: only RLIMIT_AS (per process) bounds memory")
    # Six children of 300 MiB each: each is under RLIMIT_AS, two together are over 512 MiB.
    # Every child that got its block reports its index, then holds the block until the parent
    # has counted. The parent waits (20 s at most) until each child has reported or died and
    # counts the children holding a block AT THE SAME TIME (reported and not dead): a property
    # of one moment, however slowly the machine schedules the children.
    code = ("import os, select, time\n"
            "r, w = os.pipe()\nhold_r, hold_w = os.pipe()\npids = {}\n"
            "for i in range(6):\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        os.close(r); os.close(hold_w)\n"
            "        block = b'x' * (300 * 2 ** 20)\n"
            "        os.write(w, bytes([i]))\n"
            "        os.read(hold_r, 1)\n"
            "        os._exit(0)\n"
            "    pids[pid] = i\n"
            "os.close(w); os.close(hold_r)\n"
            "holding, dead = set(), set()\n"
            "def reap():\n"
            "    for pid, i in pids.items():\n"
            "        if i not in dead and os.waitpid(pid, os.WNOHANG)[0] == pid:\n"
            "            dead.add(i)\n"
            "deadline = time.time() + 20\n"
            "while time.time() < deadline and len(holding | dead) < 6:\n"
            "    if select.select([r], [], [], 0.1)[0]:\n"
            "        holding.update(os.read(r, 8))\n"
            "    reap()\n"
            "reap()\n"
            "result = len(holding - dead)\n"
            "os.close(hold_w)\n"
            "for pid in pids:\n"
            "    try:\n        os.waitpid(pid, 0)\n    except ChildProcessError:\n        pass\n")
    try:
        frames = probe(a2_stage, [code], cgroups=cgroups,
                       limits=Limits(wall_seconds=60, task_seconds=40, memory_bytes=512 << 20))
        together = float(frames[0]["values"]["out"]) if frames[0]["ok"] else 0.0
    except SandboxEnded:  # the OOM killer chose the worker itself: bounded all the same
        together = 0.0
    finally:
        cgroups.close()
    assert together <= 1


def test_without_bwrap_a_root_grader_still_runs_student_code_as_uid_65534(a2_stage):
    if os.geteuid() != 0:
        pytest.skip("the grader is not root here: there is no uid to drop")
    limits = Limits(wall_seconds=30, task_seconds=10)
    code = ("import sys\nresult = float(os.getuid() == os.geteuid() == 65534 and os.getgroups() == []"
            " and not os.access('/root', os.R_OK) and sys.prefix.endswith('/usr'))")
    request = {"cells": [{"name": "imports", "source": "import os, numpy as np\n"}],
               "tasks": [{"index": 0, "function": "os", "driver": "exec", "args": {"code": code}}],
               "limits": limits.for_worker()}
    with Sandbox(a2_stage, request, b"", limits, use_bwrap=False) as sandbox:
        deadline = time.monotonic() + limits.wall_seconds
        assert sandbox.read_frame(deadline)["event"] == "loaded"
        frame = sandbox.read_frame(deadline)
    assert frame["ok"] and float(frame["values"]["out"]) == 1.0, frame
