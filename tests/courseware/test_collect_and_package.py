"""`courseware collect` on hand-made inbound folders (no nbgrader run), and the release package's
refusals. The nbgrader round trip is tests/courseware/test_exchange_round_trip.py."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from courseware.collect import Limits, collect, parse_entry
from courseware.errors import BuildError, ExchangeError
from courseware.layout import ROOT
from courseware.library_package import PackageError, write_release_package

A = "a1_gates"
STAMP = "2026-12-01 10:00:00.000000 UTC"
LATER = "2026-12-01 11:00:00.000000 UTC"


def entry(root: Path, student: str, stamp: str = STAMP, files: dict[str, bytes] | None = None,
          assignment: str = A, tag: str = "r") -> Path:
    folder = root / "c" / "inbound" / f"{student}+{assignment}+{stamp}+{tag}"
    for rel, data in (files or {f"{A}.ipynb": b"{}"}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


def test_entry_names_are_nbgraders():
    assert parse_entry(f"al+ice+{A}+{STAMP}+xyz", A) == ("al+ice", STAMP)
    assert parse_entry(f"alice+{A}+{STAMP}", A) == ("alice", STAMP)
    assert parse_entry(f"alice+a2_vectorized+{STAMP}+x", A) is None
    assert parse_entry("notes.txt", A) is None


def test_newest_entry_per_student_and_other_assignments_ignored(tmp_path):
    entry(tmp_path, "alice", STAMP, {f"{A}.ipynb": b"old"}, tag="1")
    entry(tmp_path, "alice", LATER, {f"{A}.ipynb": b"new", "img/plot.png": b"png"}, tag="2")
    entry(tmp_path, "alice", LATER, {"x.ipynb": b"other"}, assignment="a2_vectorized")
    entry(tmp_path, "bob", "yesterday-ish", tag="3")
    report = collect(A, tmp_path, "c", tmp_path / "out", check_owner=False)
    [alice] = report.collected
    assert (alice.student_id, alice.status, alice.entry.endswith("+2")) == ("alice", "collected", True)
    assert sorted(alice.files) == [f"{A}.ipynb", "img/plot.png"]
    dest = tmp_path / "out" / "alice" / A
    assert (dest / f"{A}.ipynb").read_bytes() == b"new" and (dest / "timestamp.txt").read_text() == LATER
    assert [r.reason for r in report.refused] == ["the timestamp 'yesterday-ish' is not one nbgrader writes"]
    assert not (tmp_path / "out" / "alice" / "a2_vectorized").exists()


def test_sizes_counts_depth_and_folder_links_are_capped(tmp_path):
    deep = "/".join(["d"] * 10) + "/f.txt"
    folder = entry(tmp_path, "alice", files={f"{A}.ipynb": b"{}", "big.bin": b"x" * 5000, deep: b"deep",
                                            **{f"many/{i:02}.txt": b"." for i in range(8)}})
    (folder / "linked_dir").symlink_to(ROOT / "solutions", target_is_directory=True)
    report = collect(A, tmp_path, "c", tmp_path / "out", check_owner=False,
                     limits=Limits(max_file_bytes=1000, max_files=6, max_depth=4))
    [alice] = report.collected
    reasons = {s.path: s.reason for s in alice.skipped}
    assert "MiB" in reasons["big.bin"] and "symbolic link" in reasons["linked_dir"]
    assert any("deeper than 4" in r for r in reasons.values())
    assert any("more than 6 files" in r for r in reasons.values())
    assert len(alice.files) + len(alice.skipped) <= 7 + 1  # the cap stops the walk
    assert not any(p.is_symlink() for p in (tmp_path / "out").rglob("*"))


def test_cli_escapes_what_students_named_and_exits_by_outcome(tmp_path):
    entry(tmp_path, "alice")
    entry(tmp_path, "\x1b[2Jevil", tag="x")
    cli = [sys.executable, "-m", "courseware", "collect", A, "--exchange", str(tmp_path), "--course", "c",
           "--to", str(tmp_path / "out"), "--no-check-owner"]
    run = subprocess.run(cli, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "\x1b" not in run.stdout + run.stderr
    assert "collected alice" in run.stdout and "refused" in run.stderr
    missing = subprocess.run([*cli[:5], "--exchange", str(tmp_path / "none"), "--course", "c"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "no inbound folder" in missing.stderr


def test_collect_refuses_an_unusable_course_id(tmp_path):
    with pytest.raises(ExchangeError):
        collect(A, tmp_path, "../c", tmp_path / "out")


def test_release_package_refuses_foreign_modules_and_a_short_library(tmp_path):
    (tmp_path / "backprop_lib").mkdir()
    (tmp_path / "backprop_lib" / "mine.py").write_text("x = 1\n")
    with pytest.raises(PackageError, match="mine.py"):
        write_release_package(A, tmp_path)
    assert (tmp_path / "backprop_lib" / "mine.py").exists()  # left alone
    short = tmp_path / "short_lib"
    short.mkdir()
    with pytest.raises(BuildError, match="checks.py"):
        write_release_package(A, tmp_path / "other", library=short)


def test_release_package_is_rewritten_whole(tmp_path):
    first = write_release_package("a2_vectorized", tmp_path)
    assert {p.name for p in first} >= {"gates.py", "graph.py", "digits.csv.gz"}
    second = write_release_package(A, tmp_path)
    assert {p.name for p in (tmp_path / "backprop_lib").iterdir()} == {p.name for p in second}
    assert not (tmp_path / "backprop_lib" / "gates.py").exists()
    assert all(os.stat(p).st_mode & 0o777 == 0o644 for p in second)
