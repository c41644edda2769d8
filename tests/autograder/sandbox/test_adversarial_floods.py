"""Floods, forged and malformed frames, and slow code, through the real sandbox, in the ONE
hostile class of `fixtures.hostile_class` (graded as root and as uid 65534 at once).

Every attacker writes to the worker's results channel (`sys.argv[1]` inside the sandbox) what a
determined student would: a 64 MiB result at load time or during a check, a JSON header nested
20000 deep, bytes that are not a frame, an announced header of 2 GiB, arrays that point outside
their data, hundreds of frames that each fit, malformed results from every function, or it
sleeps 58 s at load time or in a check. The curriculum's promises checked here:

- at load time a malformed or oversized result makes the notebook `error` with a plain reason
  (never the grader's "please report it" internal error), a slow load is `timeout` after the
  load limit measured from the reference (seconds, not the 30 s cap);
- during a check it fails that check only, the status stays `ok`; a function that honestly
  returns far too much fails its own checks and the others still count;
- each attacker scores no more than the untouched stub, the honest student's grade is the same
  as when graded alone, no process of the run survives, the grades are the same 10 s later;
- the grader's peak memory does not grow with what the attackers send (the child reports its
  peak RSS after grading an honest student alone and again after the hostile class).
"""
from __future__ import annotations

import json

import pytest

from autograder.pipeline.results import read_grades_csv, read_result
from autograder.sandbox.launch import bwrap_skip_reason

from fixtures.child_runs import whos
from fixtures.hostile_class import (CAP_SECONDS, TASK_CAP_SECONDS, flood_attacks,
                                    hostile_class, others)
from fixtures.toy_class import run_cgroups, run_processes

SKIP = bwrap_skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.sandbox,
              pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]
__all__ = ["hostile_class"]  # the session fixture, imported so pytest finds it here


@pytest.mark.parametrize("who", whos())
def test_floods_forged_frames_and_sleeps_cost_their_author_only(hostile_class, who):
    report = hostile_class[who]
    out = report["folder"] / "out"
    rows = {r["student_id"]: r for r in read_grades_csv(out / "grades.csv")}
    assert rows["stub"]["auto_score"] == "0.0"
    for sid, (_, status) in flood_attacks().items():
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
                for sid in flood_attacks()}
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
    assert report["load_seconds"] < CAP_SECONDS
    assert report["check_seconds_max"] < TASK_CAP_SECONDS
    slow_load = read_result(out / "results" / "sleep_at_load" / "toy.json")
    assert f"after the {report['load_seconds']:g} s limit" in slow_load["reason"]
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
