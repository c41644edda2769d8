"""`python -m autograder grade SUBMITTED --output OUT --roster EXPORT.csv` through the real sandbox:
canvas.csv is written, the summary lists who matched nobody, and says the tables hold the
autograded points only."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import cli
from autograder.sandbox.launch import bwrap_skip_reason
from tools.demo_class import as_submitted

REPO = Path(__file__).resolve().parents[3]
SKIP = bwrap_skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]


def test_grade_with_a_roster(tmp_path, capsys):
    solutions = tmp_path / "solutions" / "a1_gates"
    solutions.mkdir(parents=True)
    shutil.copyfile(REPO / "solutions" / "a1_gates" / "a1_gates.ipynb", solutions / "a1_gates.ipynb")
    nb = as_submitted(nbformat.read(solutions / "a1_gates.ipynb", as_version=4))
    (tmp_path / "submitted" / "ada" / "a1_gates").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "submitted" / "ada" / "a1_gates" / "a1_gates.ipynb")
    (tmp_path / "submitted" / "bob").mkdir()
    roster = tmp_path / "export.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,a1_gates (12345)\n"
                      "    Points Possible,,,,,12.00\n"
                      "\"Lovelace, Ada\",1,U1,ADA,S1,\n\"Carl\",2,U2,carl,S1,\n")
    out = tmp_path / "out"
    code = cli.main(["grade", str(tmp_path / "submitted"), "--output", str(out), "--solutions",
                     str(tmp_path / "solutions"), "--roster", str(roster), "-q", "-j", "2"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    rows = list(csv.reader((out / "canvas.csv").open(newline="")))
    assert rows == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "a1_gates (12345)"],
                    ["Points Possible", "", "", "", "", "12.0"],
                    ["Lovelace, Ada", "1", "U1", "ADA", "S1", "12.0"],
                    ["Carl", "2", "U2", "carl", "S1", "0.0"]]
    assert f"wrote {out / 'canvas.csv'}" in printed
    assert "canvas.csv: 1 roster students matched by 'SIS Login ID'" in printed
    assert "1 roster students have no submission and get 0: Carl (SIS Login ID carl)" in printed
    assert "1 submissions have no roster row and are not in canvas.csv: bob" in printed
    assert "lms.csv and canvas.csv hold the autograded points only" in printed
    assert f"python -m autograder export {out} --roster {roster}" in printed


def test_a_bad_roster_stops_before_grading(tmp_path, capsys):
    (tmp_path / "submitted" / "ada").mkdir(parents=True)
    roster = tmp_path / "export.csv"
    roster.write_text("Name\nAda\n")
    code = cli.main(["grade", str(tmp_path / "submitted"), "--output", str(tmp_path / "out"),
                     "--solutions", str(REPO / "solutions"), "--roster", str(roster), "-q"])
    assert code == 2
    assert "no 'Student' column" in capsys.readouterr().err
    assert not (tmp_path / "out" / "grades.csv").exists()
