"""The grading command exactly as the curriculum fixes it, on the real a2_vectorized."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.pipeline.results import read_grades_csv
from autograder.sandbox.launch import SandboxCgroups, bwrap_skip_reason

from fixtures.toy_class import run_cgroups, run_processes, sandboxes_of, still_running

REPO = Path(__file__).resolve().parents[2]
A2 = "a2_vectorized"
SOLUTION = REPO / "solutions" / A2 / f"{A2}.ipynb"
RELEASE = REPO / "notebooks" / A2 / f"{A2}.ipynb"
needs_a2 = pytest.mark.skipif(not (SOLUTION.exists() and RELEASE.exists()),
                              reason="a2_vectorized's solution and release notebooks are not built yet")


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "autograder", "grade", *args]


def setup_class(root: Path, students: dict[str, Path | str | None]) -> tuple[Path, Path]:
    """solutions/ with a2 only; submitted/<sid>/a2/a2.ipynb from a path, raw text, or nothing."""
    solutions = root / "solutions"
    (solutions / A2).mkdir(parents=True)
    shutil.copy(SOLUTION, solutions / A2)
    submitted = root / "submitted"
    for sid, content in students.items():
        folder = submitted / sid / A2
        folder.mkdir(parents=True)
        if isinstance(content, Path):
            shutil.copy(content, folder / f"{A2}.ipynb")
        elif isinstance(content, str):
            (folder / f"{A2}.ipynb").write_text(content)
    return solutions, submitted


def hanging_release(root: Path) -> Path:
    """The student release with a solution cell that never finishes loading."""
    nb = json.loads(RELEASE.read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "sol_affine":
            cell["source"] = "while True:\n    pass\n"
    path = root / "hanging.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_bad_arguments_exit_2_with_a_message(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nope"), "--output", str(tmp_path / "out")]) == 2
    assert "submitted folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["grade", str(tmp_path)])  # --output is required
    assert exit_.value.code == 2
    with pytest.raises(SystemExit):
        main(["grade", str(tmp_path), "--output", "o", "--jobs", "0"])


@pytest.mark.slow
@needs_a2
def test_grading_command_writes_every_row_and_output(tmp_path):
    solutions, submitted = setup_class(tmp_path, {
        "alice": SOLUTION, "bob": RELEASE, "carol": "{ this is not json", "dave": None})
    (submitted / "erin").mkdir()
    out = tmp_path / "out"
    proc = subprocess.run(command(str(submitted), "--output", str(out), "--jobs", "2",
                                  "--solutions", str(solutions), "--quiet"),
                          cwd=REPO, capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stderr
    rows = {r["student_id"]: r for r in read_grades_csv(out / "grades.csv")}
    assert list(rows) == ["alice", "bob", "carol", "dave", "erin"]
    alice = rows["alice"]
    assert (alice["status"], alice["auto_score"]) == ("ok", alice["auto_max_score"])
    assert float(rows["alice"]["auto_max_score"]) > 0
    assert (rows["bob"]["status"], rows["bob"]["auto_score"]) == ("ok", "0.0")
    assert rows["carol"]["status"] == "error" and "not valid JSON" in rows["carol"]["reason"]
    assert rows["dave"]["status"] == rows["erin"]["status"] == "missing"
    assert all(r["reason"] for sid, r in rows.items() if sid not in ("alice", "bob"))
    for sid in rows:
        result = json.loads((out / "results" / sid / f"{A2}.json").read_text())
        assert result["auto_score"] == float(rows[sid]["auto_score"])
        assert (out / "feedback" / sid / f"{A2}.html").exists()
    for name in ("lms.csv", "gradebook.db", "report/index.html"):
        assert (out / name).exists(), name
    assert "ok 2, error 1, timeout 0, missing 2" in proc.stdout


@pytest.mark.slow
@needs_a2
@pytest.mark.timeout(900)
def test_sigint_stops_every_sandbox_and_a_rerun_completes(tmp_path):
    """SIGINT while two sandboxes run: exit 130, no grades.csv, every sandbox seen gone; then
    a rerun grades the class. Waits are events with wide caps (a busy machine is slow, not
    wrong): the signal goes once two sandboxes exist, however long they take to start."""
    hang = hanging_release(tmp_path)
    solutions, submitted = setup_class(tmp_path, {f"s{i}": hang for i in range(4)})
    out = tmp_path / "out"
    args = command(str(submitted), "--output", str(out), "--jobs", "2", "--solutions",
                   str(solutions), "--quiet")
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cgroups_here = SandboxCgroups.supported()
    seen: list[int] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            seen = sandboxes_of(proc.pid)  # the two jobs' sandboxes, bwrap or plain
            if len(seen) >= 2:
                break
            time.sleep(0.1)
        assert len(seen) >= 2, "the two sandboxes never started"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert not (out / "grades.csv").exists()
    assert not any(p.name.endswith(".tmp") for p in out.rglob("*")) if out.exists() else True
    assert still_running(seen) == []  # every sandbox it had started is gone
    if cgroups_here:
        assert run_processes(proc.pid) == [] and run_cgroups(proc.pid) == []

    rerun = subprocess.run(args + ["--timeout", "1.5"], cwd=REPO, capture_output=True, text=True,
                           timeout=400)
    assert rerun.returncode == 0, rerun.stderr
    rows = read_grades_csv(out / "grades.csv")
    assert [(r["student_id"], r["status"]) for r in rows] == [(f"s{i}", "timeout") for i in range(4)]
    assert "1.5 s limit" in rows[0]["reason"]


def test_only_the_graders_own_errors_exit_2(monkeypatch, tmp_path, capsys):
    """GraderError (bad arguments, course layout, no sandbox) -> one line and exit 2; any other
    exception is a bug and escapes with its traceback."""
    import autograder.cli as cli
    from autograder.errors import CourseLayoutError, GraderError, SandboxUnavailable, UsageError

    assert all(issubclass(e, GraderError) for e in (CourseLayoutError, SandboxUnavailable, UsageError))
    args = ["grade", str(tmp_path), "--output", str(tmp_path / "out")]
    for error in (CourseLayoutError("no solutions/ here"), SandboxUnavailable("no bwrap")):
        monkeypatch.setattr(cli, "grade_class", lambda *a, error=error, **k: (_ for _ in ()).throw(error))
        assert main(args) == 2
        assert capsys.readouterr().err.strip() == f"autograder: error: {error}"
    monkeypatch.setattr(cli, "grade_class", lambda *a, **k: int("not a number"))
    with pytest.raises(ValueError, match="invalid literal"):
        main(args)
