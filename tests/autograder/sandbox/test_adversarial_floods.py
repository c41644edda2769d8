"""Floods, forged frames and slow code, through the real sandbox, in ONE grading run of one class.

Every attacker writes to the worker's results channel (`sys.argv[1]` inside the sandbox) what a
determined student would: a 64 MiB result at load time or during a check, a JSON header nested
20000 deep, bytes that are not a frame, an announced header of 2 GiB, arrays that point outside
their data, hundreds of frames that each fit, or it sleeps 58 s at load time or in a check. The
curriculum's promises checked here:

- at load time a malformed or oversized result makes the notebook `error` with a plain reason
  (never the grader's "please report it" internal error), a slow load is `timeout` after the
  load limit measured from the reference (seconds, not the 30 s cap);
- during a check it fails that check only, the status stays `ok`;
- each attacker scores no more than the untouched stub, the honest student's grade is the same
  as when graded alone, no process of the run survives, the grades are the same 10 s later;
- the grader's peak memory does not grow with what the attackers send: the run happens in a
  child process that reports its peak RSS after an honest class and again after the attackers.

The class is graded twice at once: as root from the project's venv, and as uid 65534 from the
scratch kit of `fixtures.unprivileged` (Debian's python3.11, the kit installed non-editable).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from autograder.sandbox.launch import bwrap_skip_reason

from fixtures.child_runs import (can_run_as_nobody, files_of, finish_child, processes_using,
                                 start_child, whos)
from fixtures.unprivileged import nobody_folder

SKIP = bwrap_skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.sandbox,
              pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]
SETTLE_SECONDS = 10.0
CAP_SECONDS = 30.0  # --timeout: the load limit measured from the reference is far below it
TASK_CAP_SECONDS = 20.0  # --task-timeout

FORGE = '''
import json as _json, os as _os, struct as _struct, sys as _sys
def _send(head, blob_len=0, blob=b"", magic=b"AGF1", hlen=None):
    fd = int(_sys.argv[1])
    hlen = len(head) if hlen is None else hlen
    _os.write(fd, magic + _struct.pack("<I", hlen) + head + _struct.pack("<Q", blob_len))
    chunk = b"\\0" * (1 << 20)
    sent = len(blob)
    if blob:
        _os.write(fd, blob)
    while sent < blob_len:  # blocks once the pipe is full: the grader must not wait for it
        sent += _os.write(fd, chunk[: blob_len - sent])
def _task(index, arrays, **extra):
    return _json.dumps({"event": "task", "index": index, "ok": True, "error": "", "kind": "",
                        "arrays": arrays, **extra}).encode()
_FLOOD = 64 << 20
_DEEP = b"[" * 20000 + b"]" * 20000
'''
CORRECT_DOUBLE = "def double(x):\n    return 2 * x\n"


def attacks() -> dict[str, tuple[str, str]]:
    """student id -> (the `sol_double` cell, the status its row must have)."""
    at_load = {
        "load_flood": "_send(_task(0, {'out': {'__array__': ['<f8', [_FLOOD // 8], 0, _FLOOD]}}), _FLOOD)",
        "load_deep_json": "_send(_DEEP)",
        "load_bad_magic": "_send(b'{}', magic=b'EVIL')",
        "load_huge_header": "_send(b'{}', hlen=2**31)",
        "load_not_json": "_send(b'\\xff\\xfe{')",
    }
    in_check = {
        "check_flood": "_send(_task(0, {'out': {'__array__': ['<f8', [_FLOOD // 8], 0, _FLOOD]}}), _FLOOD)",
        "check_deep_json": "_send(_DEEP)",
        "check_outside_blob": "_send(_task(0, {'out': {'__array__': ['<f8', [12], 0, 96]}}), 8, bytes(8))",
        "check_huge_header": "_send(b'{}', hlen=2**31)",
        "check_frame_spam": ("for i in range(400):\n"
                             "        _send(_task(7, {'out': {'__array__': ['<f8', [7000], 0, 56000]}}),"
                             " 56000)"),
    }
    cells = {sid: (FORGE + code + "\n" + CORRECT_DOUBLE, "error") for sid, code in at_load.items()}
    for sid, code in in_check.items():
        cells[sid] = (FORGE + "def double(x):\n    " + code + "\n    return 2 * x\n", "ok")
    cells["sleep_at_load"] = ("import time\ntime.sleep(58)\n" + CORRECT_DOUBLE, "timeout")
    cells["sleep_in_check"] = ("import time\ndef double(x):\n    time.sleep(58)\n    return 2 * x\n",
                               "ok")
    return cells


def others() -> dict[str, tuple[str, str, str, float]]:
    """student id -> (`sol_double`, `sol_square_backward`, status, score): a function that
    returns far too much (an honest bug: it fails its own checks only) and a forger of
    malformed results in every function (after 3, the rest fail unrun)."""
    correct_square = "def square_backward(dout, x):\n    return 2 * x * dout\n"
    deep = FORGE + "def NAME(*args, **kwargs):\n    _send(_DEEP)\n"
    return {
        "huge_return": ("import numpy as np\ndef double(x):\n    return np.ones(200_000)\n",
                        correct_square, "ok", 2.0),
        "malformed_everywhere": (deep.replace("NAME", "double"),
                                 deep.replace("NAME", "square_backward"),
                                 "ok", 0.0),
    }


@pytest.fixture(scope="module")
def graded():
    """Both children at once (root, uid 65534), then one 10 s wait, then what everything
    looked like."""
    root = nobody_folder("floods")  # readable by uid 65534, removed at exit
    whos = ["root"] + (["nobody"] if can_run_as_nobody() else [])
    procs = {who: start_child(who, __file__, root / who) for who in whos}
    runs = {}
    for who, proc in procs.items():
        runs[who] = report = finish_child(proc)
        report["folder"] = root / who
        report["snapshot"] = files_of(root / who / "class" / "out")
    time.sleep(SETTLE_SECONDS)
    for report in runs.values():
        report["later"] = files_of(report["folder"] / "class" / "out")
        report["survivors"] = processes_using(report["folder"] / "tmp")
    return runs


@pytest.mark.parametrize("who", whos())
def test_floods_forged_frames_and_sleeps_cost_their_author_only(graded, who):
    from autograder.pipeline.results import read_grades_csv, read_result
    from fixtures.toy_class import run_cgroups, run_processes

    report = graded[who]
    out = report["folder"] / "class" / "out"
    rows = {r["student_id"]: r for r in read_grades_csv(out / "grades.csv")}
    expected = attacks()
    assert set(rows) == set(expected) | set(others()) | {"honest", "stub"}
    assert rows["stub"]["auto_score"] == "0.0"
    for sid, (_, status) in expected.items():
        row = rows[sid]
        assert float(row["auto_score"]) <= 0.0, (sid, row)
        assert row["status"] == status, (sid, row)
        assert "please report" not in row["reason"], (sid, row)
        assert "RecursionError" not in json.dumps(read_result(out / "results" / sid / "toy.json"))

    # at load time: error with the plain reason
    assert "more than the" in rows["load_flood"]["reason"]
    assert "nested more than 8 levels" in rows["load_deep_json"]["reason"]
    assert "not a result frame" in rows["load_bad_magic"]["reason"]
    assert "result header of 2147483648 bytes" in rows["load_huge_header"]["reason"]
    assert "not JSON" in rows["load_not_json"]["reason"]
    # in a check: that check fails with the reason, the status stays ok
    messages = {sid: read_result(out / "results" / sid / "toy.json")["checks"][0]["message"]
                for sid in expected}
    assert "more than the" in messages["check_flood"]
    assert "nested more than 8 levels" in messages["check_deep_json"]
    assert "points outside" in messages["check_outside_blob"]
    assert "result header of 2147483648 bytes" in messages["check_huge_header"]
    assert "unexpected message" in messages["check_frame_spam"]
    for sid, (_, _, status, score) in others().items():
        assert (rows[sid]["status"], float(rows[sid]["auto_score"])) == (status, score), sid
    huge = read_result(out / "results" / "huge_return" / "toy.json")["checks"]
    assert all("more than the" in c["message"] for c in huge if c["function"] == "double")
    assert all(c["passed"] for c in huge if c["function"] == "square_backward")
    forger = [c["message"] for c in read_result(out / "results" / "malformed_everywhere" /
                                                "toy.json")["checks"]]
    assert forger[-1] == "not run: this notebook's code sent 3 malformed results", forger
        # time: the measured limits, far below the caps
    work = report["work"]
    assert work["load_seconds"] < CAP_SECONDS and work["check_seconds_max"] < TASK_CAP_SECONDS
    slow_load = read_result(out / "results" / "sleep_at_load" / "toy.json")
    assert f"after the {work['load_seconds']:g} s limit" in slow_load["reason"]
    assert slow_load["seconds"] < CAP_SECONDS
    slow_check = read_result(out / "results" / "sleep_in_check" / "toy.json")
    assert slow_check["checks"][0]["message"].startswith("timed out after")
    assert slow_check["seconds"] < 2 * TASK_CAP_SECONDS

    honest = read_result(out / "results" / "honest" / "toy.json")
    alone = read_result(report["folder"] / "alone" / "out" / "results" / "honest" / "toy.json")
    honest.pop("seconds"), alone.pop("seconds")
    assert honest == alone and honest["auto_score"] == 5.0

    # the grader's memory: what the attackers sent (12 x 64 MiB announced, 400 x 56 KB frames)
    # is refused before it is read; its peak grows by less than one flood's worth
    assert report["peak_after_attack_kib"] - report["peak_after_honest_kib"] < 32 * 1024

    assert run_processes(report["pid"]) == [] and run_cgroups(report["pid"]) == []
    assert report["survivors"] == []
    assert report["later"] == report["snapshot"]  # the same 10 s after the command exited


def main(tmp: Path) -> None:
    """The child process: grade an honest student alone, then the class; print the peaks."""
    import io
    import resource

    from autograder.pipeline.run import grade_class
    from autograder.sandbox.launch import Limits
    from fixtures import toy_notebooks as toy
    from fixtures.toy_class import TOY_CHECKS

    limits = Limits(wall_seconds=CAP_SECONDS, task_seconds=TASK_CAP_SECONDS)
    toy.write_source(tmp / "solutions")
    toy.write_submission(tmp / "alone" / "submitted", "honest")
    submitted = tmp / "class" / "submitted"
    toy.write_submission(submitted, "honest")
    toy.write_submission(submitted, "stub", toy.STUBS)
    for sid, (code, _) in attacks().items():
        toy.write_submission(submitted, sid, {"sol_double": code,
                                              "sol_square_backward": toy.STUBS["sol_square_backward"]})
    for sid, (double, square, _, _) in others().items():
        toy.write_submission(submitted, sid, {"sol_double": double, "sol_square_backward": square})

    def grade(folder: Path):
        return grade_class(folder / "submitted", folder / "out", solutions=tmp / "solutions",
                           jobs=2, checks=TOY_CHECKS, limits=limits, progress=False,
                           outputs=False, stream=io.StringIO())

    grade(tmp / "alone")
    honest_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    summary = grade(tmp / "class")
    attack_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    work = summary.work["toy"]
    print(json.dumps({"peak_after_honest_kib": honest_peak, "peak_after_attack_kib": attack_peak,
                      "work": {"load_seconds": work.load_seconds,
                               "check_seconds_max": max(work.check_seconds.values())}}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
