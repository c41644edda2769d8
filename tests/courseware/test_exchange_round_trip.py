"""The course's flow on nbgrader's real exchange, end to end (CURRICULUM.md, "What a student
receives"): release, a student's fetch into an empty home, the work done in the fetched folder,
submit, the kit's collect, then `python -m autograder grade` on the collected `submitted/`.

A second student, mallory, plants links in the world-writable `inbound/` (a notebook linked to
the solution notebook, a module linked to the reference library, a FIFO that would hang a
copy, a whole entry linked to alice's submission, an entry named `..`). nbgrader's own collect
hands her alice's work (shown below, so the attack is real); the kit's collect does not.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.sandbox.launch import bwrap_skip_reason
from courseware import notebooks
from courseware.collect import collect
from courseware.layout import Layout
from courseware.student_folder import completed_notebook

LAYOUT = Layout()
ASSIGNMENTS = LAYOUT.assignments()


def do_the_work(folder: Path, assignment: str) -> None:
    """What a student who finished does: the solution code in every stub, saved in place."""
    path = folder / f"{assignment}.ipynb"
    notebooks.write(completed_notebook(notebooks.read(path), notebooks.read(LAYOUT.solution_notebook(assignment))), path)


def files_of(tree: Path) -> dict[str, bytes]:
    return {str(p.relative_to(tree)): p.read_bytes() for p in tree.rglob("*") if p.is_file()}


def entry_name(student: str, assignment: str, seconds_from_now: float, tag: str) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + seconds_from_now))
    return f"{student}+{assignment}+{stamp}.000000 UTC+{tag}"


def plant_mallory(exchange, alice_entry: Path) -> None:
    """mallory's entries in inbound/, written directly (inbound/ is o+wx)."""
    a = "a1_gates"
    linked = exchange.inbound / entry_name("mallory", a, 60, "links")
    (linked / "backprop_lib").mkdir(parents=True)
    (linked / f"{a}.ipynb").symlink_to(LAYOUT.solution_notebook(a))
    (linked / "backprop_lib" / "gates.py").symlink_to(LAYOUT.library / "gates.py")
    os.mkfifo(linked / "notes.txt")
    (exchange.inbound / entry_name("mallory", a, 120, "whole")).symlink_to(alice_entry, target_is_directory=True)
    dotdot = exchange.inbound / entry_name("..", a, 60, "escape")
    dotdot.mkdir()
    (dotdot / f"{a}.ipynb").write_bytes((alice_entry / f"{a}.ipynb").read_bytes())


@pytest.fixture(scope="module")
def course(exchange, tmp_path_factory):
    """alice does and submits every assignment; mallory plants her links."""
    for a in ASSIGNMENTS:
        folder = exchange.fetch("alice", a)
        assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in LAYOUT.release_dir(a).iterdir())
        do_the_work(folder, a)
        exchange.submit("alice", a)
    exchange.fetch("mallory", "a1_gates")
    alice_a1 = next(exchange.inbound.glob("alice+a1_gates+*"))
    plant_mallory(exchange, alice_a1)
    return exchange, alice_a1


def test_nbgrader_collect_follows_the_planted_link(course, tmp_path, monkeypatch):
    """The attack is real: nbgrader's own collect gives mallory alice's submission."""
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))  # alembic
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeCollect

    exchange, alice_a1 = course
    config = exchange.config(CourseDirectory={"root": str(tmp_path), "student_id": "mallory",
                                              "assignment_id": "a1_gates"})
    ExchangeCollect(coursedir=CourseDirectory(config=config), authenticator=Authenticator(config=config),
                    config=config).start()
    got = (tmp_path / "submitted" / "mallory" / "a1_gates" / "a1_gates.ipynb").read_bytes()
    assert got == (alice_a1 / "a1_gates.ipynb").read_bytes()


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.timeout(900)  # grading 10 rows takes 11-30 s here; a busy machine gets a wide margin
def test_round_trip_grades_alice_full_and_gives_mallory_nothing(course, tmp_path):
    if bwrap_skip_reason():
        pytest.skip(bwrap_skip_reason())
    exchange, alice_a1 = course
    submitted = tmp_path / "submitted"
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "courseware", "collect", "a1_gates", "--exchange", str(exchange.root),
                          "--course", exchange.course, "--to", str(submitted), "--no-check-owner"],
                         cwd=LAYOUT.root, capture_output=True, text=True, timeout=120)
    print(run.stdout, run.stderr)
    assert run.returncode == 1, run.stderr  # collected what was safe, refused the rest
    assert "refused   inbound/mallory+a1_gates+" in run.stderr and "skipped  notes.txt: a named pipe" in run.stderr
    for a in ASSIGNMENTS[1:]:  # the same function in-process (the CLI costs seconds of imports each)
        assert collect(a, exchange.root, exchange.course, submitted, check_owner=False).clean
    collected = time.perf_counter() - start
    assert sorted(p.name for p in submitted.iterdir()) == ["alice", "mallory"]  # nothing written above it
    assert not (tmp_path / "a1_gates").exists()

    secrets = {(LAYOUT.solution_notebook("a1_gates")).read_bytes(), (LAYOUT.library / "gates.py").read_bytes(),
               (alice_a1 / "a1_gates.ipynb").read_bytes()}
    assert files_of(submitted / "mallory" / "a1_gates").keys() == {"timestamp.txt"}
    assert not secrets & set(files_of(submitted / "mallory").values())
    for a in ASSIGNMENTS:
        assert files_of(submitted / "alice" / a)[f"{a}.ipynb"] == next(exchange.inbound.glob(f"alice+{a}+*")).joinpath(f"{a}.ipynb").read_bytes()

    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted), "--output", str(tmp_path / "graded"),
                          "--solutions", str(LAYOUT.solutions), "--quiet"],
                         cwd=LAYOUT.root, capture_output=True, text=True, timeout=600)
    graded = time.perf_counter() - start
    assert run.returncode == 0, run.stdout + run.stderr
    with open(tmp_path / "graded" / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(fh)}
    print(f"collect x{len(ASSIGNMENTS)}: {collected:.1f} s; grade {len(rows)} rows: {graded:.1f} s")
    for a in ASSIGNMENTS:
        alice = rows[("alice", a)]
        assert alice["status"] == "ok" and float(alice["auto_score"]) == float(alice["auto_max_score"]) > 0, alice
        mallory = rows[("mallory", a)]
        assert mallory["status"] == "missing" and float(mallory["auto_score"] or 0) == 0, mallory


def test_kit_collect_refuses_each_planted_link(course, tmp_path):
    exchange, _ = course
    report = collect("a1_gates", exchange.root, exchange.course, tmp_path, check_owner=False)
    by_student = {c.student_id: c for c in report.collected}
    assert sorted(by_student) == ["alice", "mallory"]
    mallory = by_student["mallory"]
    assert mallory.entry.endswith("+links") and mallory.files == ()
    assert {s.path: s.reason.split(":")[0] for s in mallory.skipped} == {
        "a1_gates.ipynb": "a symbolic link", "backprop_lib/gates.py": "a symbolic link", "notes.txt": "a named pipe"}
    refused = {r.entry.rsplit("+", 1)[1]: r.reason for r in report.refused}
    assert refused.keys() == {"whole", "escape"}
    assert "symbolic link" in refused["whole"] and "not a plain name" in refused["escape"]
    assert not report.clean and not by_student["alice"].skipped


def test_kit_collect_checks_the_owner_and_keeps_or_updates(course, tmp_path):
    exchange, alice_a1 = course
    a = "a2_vectorized"
    impostor = exchange.inbound / entry_name("alice", a, 300, "impostor")
    impostor.mkdir()
    (impostor / f"{a}.ipynb").write_text("{}")
    os.chown(impostor, 60002, 60002)  # mallory's uid; alice's real entry is root's here
    names = {0: "alice", 60002: "mallory"}
    try:
        report = collect(a, exchange.root, exchange.course, tmp_path, owner_of=names.get)
        assert [r.entry for r in report.refused] == [impostor.name]
        assert "owned by mallory" in report.refused[0].reason
        assert [(c.student_id, c.status) for c in report.collected] == [("alice", "collected")]
        assert report.collected[0].entry.startswith(f"alice+{a}+") and report.collected[0].entry != impostor.name
        again = collect(a, exchange.root, exchange.course, tmp_path, owner_of=names.get)
        assert [(c.student_id, c.status) for c in again.collected] == [("alice", "kept")]
        os.chown(impostor, 0, 0)  # now alice's own newer entry: --update takes it
        newer = collect(a, exchange.root, exchange.course, tmp_path, owner_of=names.get, update=True)
        assert [(c.student_id, c.status, c.entry) for c in newer.collected] == [("alice", "updated", impostor.name)]
        assert (tmp_path / "alice" / a / f"{a}.ipynb").read_text() == "{}"
        assert not list((tmp_path / "alice").glob(".*"))  # no temporary folder left behind
    finally:
        import shutil

        shutil.rmtree(impostor)
