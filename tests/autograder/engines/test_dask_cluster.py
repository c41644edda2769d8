"""The same class on a real Dask cluster (scheduler + two `python -m autograder worker`, each from
its own copy of the kit, neither able to see SUBMITTED or OUT) gives byte for byte the local
engine's grades.csv and lms.csv; a worker killed mid-run costs only time; a worker of another
kit version, or without a sandbox, is refused with its reason."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.engines.dask_engine import ClusterRefused, DaskEngine, _task_function
from autograder.engines.fingerprint import kit_fingerprint
from autograder.engines import task as task_module
from autograder.engines.task import GradeTask, TaskResult
from autograder.pipeline.notebook import load_source
from autograder.pipeline.results import read_grades_csv
from autograder.pipeline.run import grade_class
from tools.demo_class import build_class

from fixtures.dask_cluster import ROOT, client, cluster, copy_kit, wait_for_workers  # noqa: F401

pytestmark = pytest.mark.slow
N_STUDENTS = 2


@pytest.fixture(scope="module")
def command_kit(tmp_path_factory) -> Path:
    """The command's own copy of the kit: the same snapshot as the workers' (others may edit
    the working tree meanwhile), so both engines run the very same code."""
    return copy_kit(tmp_path_factory.mktemp("kit-command"))


def _grade(cluster, kit: Path, out: str, engine, outputs: bool = True):
    """The grading in this process (for an engine the test controls)."""
    return grade_class(cluster.hidden / "submitted", cluster.hidden / out,
                       solutions=kit / "solutions", jobs=2, progress=False, outputs=outputs,
                       stream=io.StringIO(), engine=engine)


def _command(cluster, kit: Path, out: str, *extra: str) -> subprocess.CompletedProcess:
    """`python -m autograder grade` run from the command's copy of the kit."""
    return subprocess.run([sys.executable, "-m", "autograder", "grade",
                           str(cluster.hidden / "submitted"), "--output", str(cluster.hidden / out),
                           "--solutions", str(kit / "solutions"), "--jobs", "2", "--quiet",
                           *extra], cwd=kit, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def graded_locally(cluster, command_kit, tmp_path_factory):
    """The class (2 students x 5 assignments, a third who handed in nothing, a linked
    notebook), its two workers started, and the local engine's grading of it."""
    submitted = cluster.hidden / "submitted"
    build_class(submitted, n=N_STUDENTS, seed=3)
    (submitted / "s004").mkdir()  # a student who handed in nothing: missing rows
    linked = submitted / "s001" / "a1_gates" / "a1_gates.ipynb"
    linked.unlink()
    linked.symlink_to(ROOT / "solutions" / "a1_gates" / "a1_gates.ipynb")  # an error row
    for name in ("w1", "w2"):
        kit = copy_kit(tmp_path_factory.mktemp(f"kit-{name}"))
        cluster.start_worker(name, kit)
    done = _command(cluster, command_kit, "out_local")
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def joined(cluster, client, graded_locally):
    return wait_for_workers(client, {"w1", "w2"})


def _worker_mounts(pid: int) -> str:
    return Path(f"/proc/{pid}/mountinfo").read_text()


def test_workers_are_copies_of_the_kit_that_cannot_see_the_class(cluster, client, joined):
    hidden = str(cluster.hidden)
    info = client.run(lambda: (os.getcwd(), os.listdir(hidden)))
    for address, (cwd, listing) in info.items():
        assert Path(cwd) != ROOT and "kit-w" in cwd  # its own copy, not the repository
        assert listing == []  # SUBMITTED and OUT are behind an empty tmpfs there
    for name in ("w1", "w2"):
        mounts = _worker_mounts(cluster.workers[name].pid)
        assert f" {cluster.hidden} " in mounts and "autograder-hidden" in mounts
    assert sorted(os.listdir(cluster.hidden)) == ["out_local", "submitted"]  # here: all of it


def test_cluster_gives_the_local_engine_grades_byte_for_byte(cluster, command_kit, joined,
                                                             graded_locally):
    done = _command(cluster, command_kit, "out_dask", "--scheduler", cluster.address)
    assert done.returncode == 0, done.stderr[-3000:]
    local, dask = cluster.hidden / "out_local", cluster.hidden / "out_dask"
    for name in ("grades.csv", "lms.csv"):
        assert (dask / name).read_bytes() == (local / name).read_bytes()
    rows = read_grades_csv(dask / "grades.csv")
    assert len(rows) == (N_STUDENTS + 1) * 5
    statuses = {(r["student_id"], r["assignment"]): r["status"] for r in rows}
    assert statuses[("s001", "a1_gates")] == "error" and statuses[("s004", "a3_mlp")] == "missing"
    assert sum(float(r["auto_score"]) for r in rows) > 0
    for path in (local / "results").rglob("*.json"):  # every check's row, not only the totals
        mine, theirs = json.loads(path.read_text()), json.loads((dask / path.relative_to(local))
                                                                .read_text())
        mine.pop("seconds"), theirs.pop("seconds")
        assert mine == theirs
    assert "with 2 jobs" in graded_locally.stdout and "per worker" not in graded_locally.stdout
    line = next(x for x in done.stdout.splitlines() if x.startswith("per worker: "))
    counts = dict(item.split() for item in line[len("per worker: "):].split(", "))
    assert set(counts) <= {"w1", "w2"} and sum(map(int, counts.values())) == len(rows)
    assert "threads on" in done.stdout and "slowest: " in done.stdout


def _tiny_task() -> GradeTask:
    source = load_source(ROOT / "solutions" / "a1_gates" / "a1_gates.ipynb", "a1_gates")
    return GradeTask(run_id="refusal", student_id="s", assignment="a1_gates", notebook=None,
                     status="missing", reason="none", source=source, options={})


def test_worker_of_another_kit_or_without_a_sandbox_is_refused(cluster, client, joined,
                                                               tmp_path_factory):
    other = copy_kit(tmp_path_factory.mktemp("kit-other"))
    with open(other / "autograder" / "checks" / "core.py", "a") as f:
        f.write("\n# another version of the kit\n")
    cluster.start_worker("other", other)
    bare = copy_kit(tmp_path_factory.mktemp("kit-bare"))  # a plain `dask worker`, no bwrap on PATH
    env = dict(os.environ, PATH="/nonexistent")
    cluster.start_worker("nobwrap", bare, env=env, command=[
        sys.executable, "-m", "distributed.cli.dask_worker", cluster.address,
        "--nthreads", "1", "--name", "nobwrap", "--no-dashboard"])
    try:
        addresses = wait_for_workers(client, {"w1", "w2", "other", "nobwrap"})
        with pytest.raises(ClusterRefused) as refused:
            _grade(cluster, ROOT, "out_refused", DaskEngine(cluster.address))
        message = str(refused.value)
        assert f"{addresses['other']}" in message and "another version of the kit" in message
        assert kit_fingerprint() in message
        assert f"{addresses['nobwrap']}" in message and "bubblewrap (bwrap) not found" in message
        assert addresses["w1"] not in message
        assert not (cluster.hidden / "out_refused" / "results").exists()  # refused before grading
        # and the worker itself refuses a task sent straight to it, without unpickling it
        envelope = client.submit(_task_function(), _tiny_task().to_wire(), pure=False,
                                 workers=[addresses["other"]]).result(timeout=60)
        assert envelope["result"] is None and "another version of the kit" in envelope["refused"]
    finally:
        cluster.stop_worker("other")
        cluster.stop_worker("nobwrap")
    wait_for_workers(client, {"w1", "w2"})


def _children(pids: set[int]) -> list[int]:
    """Live descendants of `pids` (a worker's sandboxes and their processes)."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parent[int(entry)] = int(fields[1])
    found, frontier = [], set(pids)
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier}
        found += frontier
    return found


def test_ctrl_c_cancels_the_cluster_run_and_leaves_no_half_written_file(cluster, client, joined,
                                                                         command_kit):
    kit = command_kit
    out = cluster.hidden / "out_interrupted"
    command = subprocess.Popen([sys.executable, "-m", "autograder", "grade",
                                str(cluster.hidden / "submitted"), "--output", str(out),
                                "--solutions", str(kit / "solutions"), "--scheduler",
                                cluster.address, "--quiet"], cwd=kit, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not list((out / "results").rglob("*.json")) and command.poll() is None:
            assert time.monotonic() < deadline, "no result came back"
            time.sleep(0.05)
        command.send_signal(signal.SIGINT)
        _, err = command.communicate(timeout=120)
    finally:
        if command.poll() is None:
            os.killpg(command.pid, signal.SIGKILL)
    assert command.returncode == 130, err[-2000:]
    assert "interrupted" in err
    assert not (out / "grades.csv").exists() and not (out / "lms.csv").exists()
    written = list((out / "results").rglob("*.json"))
    assert 1 <= len(written) < (N_STUDENTS + 1) * 5
    for path in written:  # each file whole, no temporary file left
        assert json.loads(path.read_text())["status"] in ("ok", "error", "timeout", "missing")
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    stopped = client.run(lambda: [e.is_set() for e in task_module._stops.values()])
    assert all(flags.count(True) == 1 for flags in stopped.values()), stopped  # the run, cancelled
    pids = {cluster.workers[n].pid for n in ("w1", "w2")}
    deadline = time.monotonic() + 60
    while _children(pids):  # the cancelled sandboxes are gone (killed, or ended by their limit)
        assert time.monotonic() < deadline, _children(pids)
        time.sleep(0.2)


class KillingEngine(DaskEngine):
    """Kills the process group of worker `victim` once it has returned `after` results."""

    def __init__(self, address: str, victim: str, pid: int, after: int):
        super().__init__(address)
        self.victim, self.pid, self.after = victim, pid, after
        self.seen_from_victim, self.killed = 0, False

    def run(self, tasks, on_result, run_id):
        def watch(done: TaskResult) -> None:
            on_result(done)
            if done.worker == self.victim:
                self.seen_from_victim += 1
            if not self.killed and self.seen_from_victim >= self.after:
                os.killpg(self.pid, signal.SIGKILL)
                self.killed = True

        super().run(tasks, watch, run_id)


def test_killing_a_worker_mid_run_costs_only_time(cluster, command_kit, joined, graded_locally):
    engine = KillingEngine(cluster.address, "w2", cluster.workers["w2"].pid, after=2)
    summary = _grade(cluster, command_kit, "out_killed", engine, outputs=False)
    assert engine.killed and cluster.workers["w2"].wait(timeout=30) == -signal.SIGKILL
    out, local = cluster.hidden / "out_killed", cluster.hidden / "out_local"
    assert (out / "grades.csv").read_bytes() == (local / "grades.csv").read_bytes()
    keys = [(r["student_id"], r["assignment"]) for r in summary.results]
    assert len(keys) == len(set(keys)) == (N_STUDENTS + 1) * 5  # every row, exactly once
    assert summary.workers["w2"] >= 2 and summary.workers["w1"] >= 1
    assert sum(summary.workers.values()) == len(keys)
    assert len(list((out / "results").rglob("*.json"))) == len(keys)
