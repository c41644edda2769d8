"""A submission folder and student ids made by an attacker, in the ONE hostile class of
`fixtures.hostile_class` (graded as root and as uid 65534 at once), with every output.

`SUBMITTED` is nbgrader's exchange, written by students. The class holds what a student can
put there: a notebook linked to the source notebook (full marks, before), a student folder
linked to another student's, an assignment folder linked likewise, a dangling link, a FIFO (it
would block whoever opens it), a folder named like the notebook, a 17 MiB notebook, a student's
own `backprop_lib/` with the answers beside their notebook, a notebook of 1200 cells (what
formgrader is given is bounded), and ids a spreadsheet reads as formulas or a terminal as
control sequences. The curriculum's promises: only the regular file
`<student_id>/<a>/<a>.ipynb` inside the student's own folder counts, anything else is an `error`
row with its reason; each attacker scores no more than the stub; honest grades are unchanged;
every CSV cell is escaped (ids stay distinct, numbers stay numbers) while the JSON and folder
names keep ids as they are; nothing printed carries a control character.
"""
from __future__ import annotations

import csv

import pytest

from autograder.pipeline.results import read_grades_csv, read_result
from autograder.pipeline.run import Summary
from autograder.sandbox.launch import bwrap_skip_reason

from fixtures.child_runs import whos
from fixtures.hostile_class import (HOSTILE_IDS, REFUSED, flood_attacks, hostile_class,
                                    others)
from fixtures.toy_class import run_cgroups, run_processes

SKIP = bwrap_skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.sandbox,
              pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]
__all__ = ["hostile_class"]  # the session fixture, imported so pytest finds it here


@pytest.mark.parametrize("who", whos())
def test_links_special_files_and_hostile_ids_cost_their_author_only(hostile_class, who):
    report = hostile_class[who]
    work = report["folder"]
    out, alone = work / "out", work / "alone"

    # every row, read back as the JSON has it (ids as they are)
    rows = {}
    for path in (out / "results").rglob("*.json"):
        result = read_result(path)
        assert path.parent.name == result["student_id"]  # the folder name is the raw id
        rows[result["student_id"]] = result
    assert set(rows) == (set(REFUSED) | set(HOSTILE_IDS) | set(flood_attacks()) | set(others())
                         | {"honest", "stub", "own_lib", "many_cells"})
    for sid, says in REFUSED.items():
        assert rows[sid]["status"] == "error" and says in rows[sid]["reason"], (sid, rows[sid])
        assert rows[sid]["auto_score"] == 0.0 and rows[sid]["auto_max_score"] == 5.0
    assert rows["own_lib"]["auto_score"] == 0.0 and rows["own_lib"]["status"] == "ok"
    assert rows["stub"]["auto_score"] == 0.0

    honest, theirs = dict(rows["honest"]), read_result(alone / "out" / "results" / "honest" / "toy.json")
    honest.pop("seconds"), theirs.pop("seconds")
    assert honest == theirs and honest["auto_score"] == 5.0
    for sid in HOSTILE_IDS + ["many_cells"]:
        assert rows[sid]["auto_score"] == 5.0 and rows[sid]["status"] == "ok", sid

    # grades.csv and lms.csv: every id escaped, two ids stay two, numbers stay numbers
    grades_text = (out / "grades.csv").read_text(encoding="utf-8")
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        cells = list(csv.reader(f))
    ids = [r[0] for r in cells[1:]]
    assert len(set(ids)) == len(ids) == len(rows)
    for cell in ids:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert {"'=x", "''=x", "'-x", "'+1+1", "'@SUM(1)", "'\tlead"} <= set(ids)
    assert "\n'=x,toy,5.0,5.0,ok,\n" in grades_text  # scores written as plain numbers
    with open(out / "lms.csv", newline="", encoding="utf-8") as f:
        lms_ids = [r[0] for r in list(csv.reader(f))[1:]]
    assert sorted(lms_ids) == sorted(ids)
    assert [r["student_id"] for r in read_grades_csv(out / "grades.csv")] == ids

    # what the TA's terminal shows: no control, format or bidi character
    printed = report["summary"] + report["stream"]
    assert "\x1b" not in printed and "\u202e" not in printed and "\x07" not in printed
    shown = Summary([rows["esc\x1b]0;pwned\x07"], rows["bidi\u202egpj.exe"]], 1.0, 1).text()
    assert "esc\\x1b]0;pwned\\x07/toy" in shown and "bidi\\u202egpj.exe/toy" in shown

    # formgrader's view: nothing linked is shown, the 1200-cell notebook is refused with a reason
    autograded = out / "autograded"
    assert (autograded / "honest" / "toy" / "toy.ipynb").is_file()
    for sid in list(REFUSED) + ["many_cells"]:
        assert not (autograded / sid).exists(), sid
    assert ("many_cells/toy: no autograded notebook for formgrader (it has 1207 cells, more "
            "than the 1000 formgrader is given)") in report["stream"]
    assert report["output_errors"] == []

    assert run_processes(report["pid"]) == [] and run_cgroups(report["pid"]) == []
    assert report["survivors"] == []
    assert report["later"] == report["snapshot"]  # the same 10 s after the command exited
