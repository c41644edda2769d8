"""The engines' parts without a cluster: the kit fingerprint, a worker's refusal, what the command
reads and sends, addresses and TLS settings, the worker command's machine check, an unreachable
scheduler, and no `distributed` at all without --scheduler."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import cli
from autograder.engines import dask_engine
from autograder.engines.dask_engine import (DaskEngine, SchedulerUnreachable, is_loopback,
                                            parse_address, security_for)
from autograder.engines.fingerprint import compute_fingerprint, kit_fingerprint
from autograder.engines.task import (GradeTask, TaskResult, WorkerRefused, grade_task,
                                     read_submission, receive)
from autograder.errors import GraderError, UsageError
from autograder.pipeline.discover import discover

from fixtures.dask_cluster import ROOT, copy_kit, free_port


def test_fingerprint_follows_checks_library_and_pins(tmp_path):
    kit = copy_kit(tmp_path / "kit")
    same = compute_fingerprint(kit)
    assert same == kit_fingerprint() and len(same) == 16
    for changed in ("autograder/checks/core.py", "backprop_lib/layers.py", "requirements.txt"):
        before = (kit / changed).read_bytes()
        (kit / changed).write_bytes(before + b"\n# edited\n")
        assert compute_fingerprint(kit) != same, changed
        (kit / changed).write_bytes(before)
    (kit / "README.md").write_text("docs do not grade")
    assert compute_fingerprint(kit) == same


def test_worker_refuses_another_kit_before_unpickling_anything():
    wire = {"fingerprint": "0123456789abcdef", "run_id": "r", "payload": b"not a pickle"}
    envelope = grade_task(wire)
    assert envelope["result"] is None
    assert "another version of the kit" in envelope["refused"] and "0123456789abcdef" in envelope[
        "refused"] and kit_fingerprint() in envelope["refused"]
    with pytest.raises(WorkerRefused, match="another version of the kit"):
        receive(envelope)
    assert issubclass(WorkerRefused, GraderError)


def _class(root: Path) -> Path:
    submitted = root / "submitted"
    for student in ("s1", "s2", "s3"):
        (submitted / student / "a1_gates").mkdir(parents=True)
    (submitted / "s1" / "a1_gates" / "a1_gates.ipynb").write_bytes(b'{"cells": []}')
    (submitted / "s2" / "a1_gates" / "a1_gates.ipynb").symlink_to(
        ROOT / "solutions" / "a1_gates" / "a1_gates.ipynb")
    return submitted


def test_the_command_reads_the_bytes_and_never_follows_a_link(tmp_path):
    submitted = _class(tmp_path)
    jobs = {(j.student_id, j.assignment): j for j in discover(submitted, ROOT / "solutions")}
    assert read_submission(jobs["s1", "a1_gates"]) == (b'{"cells": []}', "", "")
    data, status, reason = read_submission(jobs["s2", "a1_gates"])
    assert data is None and status == "error" and "symbolic link" in reason
    data, status, reason = read_submission(jobs["s3", "a1_gates"])
    assert data is None and status == "missing" and "a1_gates/a1_gates.ipynb" in reason


def test_the_wire_is_builtins_with_the_fingerprint_outside_the_pickle():
    from autograder.pipeline.notebook import load_source

    source = load_source(ROOT / "solutions" / "a1_gates" / "a1_gates.ipynb", "a1_gates")
    task = GradeTask(run_id="r1", student_id="=cmd|' /C calc'!A0", assignment="a1_gates",
                     notebook=b"{}", status="", reason="", source=source, options={"seed": 7})
    wire = task.to_wire()
    assert set(wire) == {"fingerprint", "run_id", "payload"}
    assert wire["fingerprint"] == kit_fingerprint() and isinstance(wire["payload"], bytes)
    assert pickle.loads(wire["payload"]) == task


def test_scheduler_addresses_and_tls_settings(tmp_path):
    assert parse_address("tcp://10.0.0.5:8786") == ("tcp", "10.0.0.5", 8786)
    assert parse_address("tls://grader.example.org:8786")[0] == "tls"
    for bad in ("10.0.0.5:8786", "http://h:1", "tcp://h", "tcp://:8786", "tcp://h:port"):
        with pytest.raises(UsageError):
            parse_address(bad)
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("10.0.0.5") and not is_loopback("grader.example.org")
    assert security_for("tcp://127.0.0.1:8786") is None
    with pytest.raises(UsageError, match="tls://"):
        security_for("tcp://127.0.0.1:8786", "ca.pem", "c.pem", "k.pem")
    with pytest.raises(UsageError, match="all of"):
        security_for("tls://127.0.0.1:8786", ca_file="ca.pem")
    with pytest.raises(UsageError, match="holds no certificates"):
        security_for("tls://127.0.0.1:8786")  # Dask's own configuration has none here
    pem = [tmp_path / n for n in ("ca.pem", "cert.pem", "key.pem")]
    for p in pem:
        p.write_text("-")
    client = security_for("tls://127.0.0.1:8786", *map(str, pem))
    worker = security_for("tls://127.0.0.1:8786", *map(str, pem), role="worker")
    assert client.require_encryption and client.tls_client_cert == str(pem[1])
    assert worker.tls_worker_key == str(pem[2]) and worker.tls_ca_file == str(pem[0])


def test_worker_without_bubblewrap_says_why_and_does_not_join():
    env = dict(os.environ, PATH="/nonexistent")
    proc = subprocess.run([sys.executable, "-m", "autograder", "worker",
                           f"tcp://127.0.0.1:{free_port()}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "this machine cannot grade, so it does not join" in proc.stderr
    assert "bubblewrap (bwrap) not found" in proc.stderr
    assert "joined" not in proc.stderr


def test_unreachable_scheduler_is_a_clear_error_before_any_grading(tmp_path, monkeypatch, capsys):
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(SchedulerUnreachable, match="no Dask scheduler answered"):
        DaskEngine(address, connect_timeout=2).start(sys.stderr)
    monkeypatch.setattr(dask_engine, "CONNECT_TIMEOUT", 2.0)
    submitted = _class(tmp_path)
    code = cli.main(["grade", str(submitted), "--output", str(tmp_path / "out"), "--quiet",
                     "--solutions", str(ROOT / "solutions"), "--scheduler", address])
    assert code == 2
    err = capsys.readouterr().err
    assert f"autograder: error: no Dask scheduler answered at {address}" in err
    assert not (tmp_path / "out").exists()


def test_cli_refuses_mixed_options(tmp_path, capsys):
    submitted = _class(tmp_path)
    base = ["grade", str(submitted), "--output", str(tmp_path / "out"), "--quiet"]
    assert cli.main(base + ["--scheduler", "tcp://127.0.0.1:1", "--sandbox", "plain"]) == 2
    assert cli.main(base + ["--tls-cert", "c.pem"]) == 2
    assert cli.main(base + ["--scheduler", "ftp://h:1"]) == 2
    err = capsys.readouterr().err
    assert "always grades in bubblewrap" in err and "need --scheduler tls://" in err
    assert "is not tcp://HOST:PORT" in err


def test_without_scheduler_no_service_and_no_distributed(tmp_path):
    code = f"""
import io, sys
sys.path.insert(0, {str(ROOT / 'tests')!r})
from autograder.pipeline.run import grade_class
from autograder.sandbox.launch import Limits
from fixtures import toy_notebooks as toy
from fixtures.toy_class import TOY_CHECKS
root = __import__('pathlib').Path({str(tmp_path)!r})
toy.write_source(root / 'solutions')
for sid in ('s1', 's2'):  # handed in nothing: the whole pipeline, no sandbox to wait for
    (root / 'submitted' / sid).mkdir(parents=True)
s = grade_class(root / 'submitted', root / 'out', solutions=root / 'solutions', jobs=1,
                checks=TOY_CHECKS, limits=Limits(wall_seconds=10, task_seconds=2),
                progress=False, outputs=False, stream=io.StringIO())
assert s.counts['missing'] == 2, s.counts
assert s.engine == 'local' and s.workers == {{'local': 2}}, s.workers
print('distributed' in sys.modules, 'dask' in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["False", "False"]


class EchoTwiceEngine:
    """An engine that hands every result to the command twice (a buggy engine)."""

    name = "echo"

    def start(self, stream):
        pass

    def run(self, tasks, on_result, run_id):
        for task in tasks:
            result = {"student_id": task.student_id, "assignment": task.assignment,
                      "auto_score": 0.0, "auto_max_score": task.source.max_score,
                      "status": "missing", "reason": task.reason, "checks": [], "seconds": 0.0}
            on_result(TaskResult(result, "echo-1"))
            on_result(TaskResult(dict(result, status="ok"), "echo-2"))

    def workers(self):
        return {"echo-1": 1, "echo-2": 1}

    def close(self):
        pass


def test_each_row_is_written_once_whatever_the_engine_sends(tmp_path):
    import io

    from autograder.pipeline.results import read_grades_csv
    from autograder.pipeline.run import grade_class

    submitted = tmp_path / "submitted"
    for student in ("s1", "s2"):
        (submitted / student).mkdir(parents=True)  # nothing handed in: no sandbox needed
    stream = io.StringIO()
    summary = grade_class(submitted, tmp_path / "out", solutions=ROOT / "solutions",
                          progress=False, outputs=False, stream=stream, engine=EchoTwiceEngine())
    rows = read_grades_csv(tmp_path / "out" / "grades.csv")
    assert len(rows) == len(summary.results) == 10 and {r["status"] for r in rows} == {"missing"}
    assert summary.workers == {"echo-1": 10} and summary.jobs == 2
    assert stream.getvalue().count("came back twice; the first result stands") == 10


def test_local_engine_reads_notebooks_as_threads_free_up(tmp_path):
    from autograder.engines.local import LocalEngine
    from autograder.engines.task import Grader, build_task
    from autograder.pipeline.notebook import load_source

    from fixtures.toy_class import TOY_CHECKS

    source = load_source(ROOT / "solutions" / "a1_gates" / "a1_gates.ipynb", "a1_gates")
    jobs = [j for j in discover(_class(tmp_path), ROOT / "solutions") if j.notebook is None]
    jobs = jobs * 20
    pulled, done = [0], []

    def tasks():
        for job in jobs:
            pulled[0] += 1
            assert pulled[0] - len(done) <= 2 * 2 + 1  # never the whole class in memory
            yield build_task(job, source, "r", {})

    grader = Grader(TOY_CHECKS)
    try:
        LocalEngine(2, grader).run(tasks(), done.append, "r")
    finally:
        grader.close()
    assert len(done) == len(jobs) and {d.worker for d in done} == {"local"}
    assert all(d.result["status"] == "missing" for d in done)
