"""A submission folder and student ids made by an attacker, in ONE grading run with every output.

`SUBMITTED` is nbgrader's exchange, written by students. The class here holds what a student
can put there: a notebook linked to the source notebook (full marks, before), a student folder
linked to another student's, an assignment folder linked likewise, a dangling link, a FIFO (it
would block whoever opens it), a folder named like the notebook, a 17 MiB notebook, a student's
own `backprop_lib/` with the answers beside their notebook, a notebook of 1200 cells (what
formgrader is given is bounded), and ids a spreadsheet reads as formulas or a terminal as
control sequences. The curriculum's promises: only the regular file
`<student_id>/<a>/<a>.ipynb` inside the student's own folder counts, anything else is an `error`
row with its reason; each attacker scores no more than the stub; honest grades are unchanged;
every CSV cell is escaped (ids stay distinct, numbers stay numbers) while the JSON and folder
names keep ids as they are; nothing printed carries a control character.

The class is graded twice at once, in child processes: as root from the project's venv, and as
uid 65534 from the scratch kit (`fixtures.child_runs`, `fixtures.unprivileged`).
"""
from __future__ import annotations

import csv
import io
import json
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell

from autograder.pipeline.results import read_grades_csv, read_result
from autograder.pipeline.run import Summary, grade_class
from autograder.sandbox.launch import Limits, bwrap_skip_reason

from fixtures import toy_notebooks as toy
from fixtures.child_runs import (can_run_as_nobody, files_of, finish_child, processes_using,
                                 start_child, whos)
from fixtures.toy_class import TOY_CHECKS, run_cgroups, run_processes
from fixtures.unprivileged import nobody_folder

SKIP = bwrap_skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.sandbox,
              pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]
LIMITS = Limits(wall_seconds=20, task_seconds=5)
SETTLE_SECONDS = 10.0
STUB_SQUARE = toy.STUBS["sol_square_backward"]
HOSTILE_IDS = ['=HYPERLINK("evil.example","x")', "+1+1", "@SUM(1)", "-x", "=x", "'=x",
               "\tlead", "esc\x1b]0;pwned\x07", "bidi\u202egpj.exe"]
OWN_LIB = """
import importlib, sys
found = None
for name in ('backprop_lib.answers', 'answers'):
    try:
        found = importlib.import_module(name)
        break
    except Exception:
        pass
def double(x):
    return found.double(x) if found is not None else x
"""
REFUSED = {  # student id -> what the reason must say
    "linked_notebook": "toy/toy.ipynb is a symbolic link",
    "linked_folder": "student folder linked_folder is a symbolic link",
    "linked_assignment": "linked_assignment/toy is a symbolic link",
    "dangling_link": "toy/toy.ipynb is a symbolic link",
    "fifo_notebook": "is a named pipe, not a regular file",
    "folder_notebook": "is a folder, not a regular file",
    "oversized": "17.0 MiB, more than the 16 MiB",
}


def _hostile_class(root: Path) -> Path:
    solutions = root / "solutions"
    source = toy.write_source(solutions)
    submitted = root / "submitted"
    honest = toy.write_submission(submitted, "honest")
    toy.write_submission(submitted, "stub", toy.STUBS)
    folder = lambda sid: submitted / sid / toy.ASSIGNMENT  # noqa: E731
    for sid in ("linked_notebook", "dangling_link", "fifo_notebook", "folder_notebook",
                "oversized"):
        folder(sid).mkdir(parents=True)
    (folder("linked_notebook") / "toy.ipynb").symlink_to(source)
    (folder("dangling_link") / "toy.ipynb").symlink_to(root / "nowhere.ipynb")
    os.mkfifo(folder("fifo_notebook") / "toy.ipynb")
    (folder("folder_notebook") / "toy.ipynb").mkdir()
    (folder("oversized") / "toy.ipynb").write_bytes(b" " * (17 << 20))
    (submitted / "linked_folder").symlink_to(honest.parent.parent, target_is_directory=True)
    (submitted / "linked_assignment").mkdir()
    (submitted / "linked_assignment" / "toy").symlink_to(honest.parent, target_is_directory=True)
    own = toy.write_submission(submitted, "own_lib", {"sol_double": OWN_LIB,
                                                       "sol_square_backward": STUB_SQUARE})
    for where in (own.parent, own.parent.parent):  # beside the notebook and in the student folder
        (where / "backprop_lib").mkdir()
        (where / "backprop_lib" / "__init__.py").write_text("")
        (where / "backprop_lib" / "answers.py").write_text("def double(x):\n    return 2 * x\n")
        (where / "answers.py").write_text("def double(x):\n    return 2 * x\n")
    many = toy.notebook(toy.SOLUTIONS, extra=[new_markdown_cell(f"note {i}") for i in range(1200)])
    toy.write_submission(submitted, "many_cells", nb=many)
    for sid in HOSTILE_IDS:
        toy.write_submission(submitted, sid)
    return submitted


def main(work: Path) -> None:
    """The child process: build the class in `work`, grade it (and the honest student alone)."""
    submitted = _hostile_class(work)
    alone = work / "alone"
    toy.write_submission(alone / "submitted", "honest")
    grade_class(alone / "submitted", alone / "out", solutions=work / "solutions", jobs=1,
                checks=TOY_CHECKS, limits=LIMITS, progress=False, outputs=False,
                stream=io.StringIO())
    stream = io.StringIO()
    summary = grade_class(submitted, work / "out", solutions=work / "solutions", jobs=2,
                          checks=TOY_CHECKS, limits=LIMITS, progress=False, outputs=True,
                          stream=stream)
    print(json.dumps({"summary": summary.text(), "stream": stream.getvalue(),
                      "output_errors": summary.output_errors}))


@pytest.fixture(scope="module")
def graded():
    """The class graded as root and as uid 65534 at once, then one 10 s wait."""
    root = nobody_folder("hostile-folders")
    whos = ["root"] + (["nobody"] if can_run_as_nobody() else [])
    procs = {who: start_child(who, __file__, root / who) for who in whos}
    runs = {}
    for who, proc in procs.items():
        runs[who] = report = finish_child(proc)
        report["folder"] = root / who
        report["snapshot"] = files_of(root / who / "out")
    time.sleep(SETTLE_SECONDS)
    for report in runs.values():
        report["later"] = files_of(report["folder"] / "out")
        report["survivors"] = processes_using(report["folder"] / "tmp")
    return runs


@pytest.mark.parametrize("who", whos())
def test_links_special_files_and_hostile_ids_cost_their_author_only(graded, who):
    report = graded[who]
    work = report["folder"]
    out, alone = work / "out", work / "alone"

    # every row, read back as the JSON has it (ids as they are)
    rows = {}
    for path in (out / "results").rglob("*.json"):
        result = read_result(path)
        assert path.parent.name == result["student_id"]  # the folder name is the raw id
        rows[result["student_id"]] = result
    assert set(rows) == set(REFUSED) | set(HOSTILE_IDS) | {"honest", "stub", "own_lib",
                                                           "many_cells"}
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


if __name__ == "__main__":
    main(Path(sys.argv[1]))
