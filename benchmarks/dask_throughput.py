"""Grading throughput on a Dask cluster against the local engine, side by side in one run.

    .venv/bin/python benchmarks/dask_throughput.py [--n 6] [--repeat 1] [--noop 400]

Builds a class with `tools.demo_class.build_class` (n students x every assignment in
solutions/), starts a real `dask scheduler` on a free loopback port, and, alternating so a busy
machine slows each alike (`--repeat` rounds, the median kept):

1. the local engine with `--jobs 1` and `--jobs 2` (the command's thread pool);
2. the cluster with one `python -m autograder worker --nthreads 1`, then with a second one
   (two workers of one thread each: on this 2-core machine, one per core);
3. the scheduler's own cost per task: `--noop` tasks that carry a payload as large as a real
   notebook's and do nothing, through the same windowed submit / as_completed loop.

It prints notebooks per second of the grading phase alone (the engine's `run`: from the first
task sent to the last result written; limits measuring, start-up and the class-level outputs
excluded, and printed apart), core-seconds per notebook, the cluster's overhead per notebook
(its 1-worker time minus the local `--jobs 1` time, per notebook, next to the no-op figure),
and from them the cost model: cores and machines to grade 250,000 notebooks within an hour.
Those last figures are extrapolated (linear in cores, the scheduler's measured cost per task
added); everything above them is measured here. Workers and the command run from this checkout
(`ROOT`); edit nothing in it while the benchmark runs (the kit fingerprint would change).
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.engines.dask_engine import DaskEngine  # noqa: E402
from autograder.pipeline.run import grade_class  # noqa: E402
from tools.demo_class import build_class  # noqa: E402

MOOC_NOTEBOOKS = 250_000
HOUR = 3600.0


class Timed:
    """An engine wrapper that times its `run` (the grading phase alone)."""

    def __init__(self, inner: Any):
        self.inner, self.name, self.run_seconds = inner, inner.name, 0.0

    def start(self, stream):
        return self.inner.start(stream)

    def run(self, tasks, on_result, run_id):
        started = time.perf_counter()
        try:
            return self.inner.run(tasks, on_result, run_id)
        finally:
            self.run_seconds = time.perf_counter() - started

    def workers(self):
        return self.inner.workers()

    def close(self):
        return self.inner.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(argv: list[str], log: Path, cwd: Path) -> subprocess.Popen:
    with open(log, "wb") as f:
        return subprocess.Popen(argv, cwd=cwd, stdout=f, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    for signum in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signum)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


def _wait_workers(address: str, n: int) -> None:
    from distributed import Client

    with Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(n, timeout=180)


def grade_once(submitted: Path, out: Path, engine: Any = None, jobs: int = 1) -> dict[str, float]:
    """One grading of the class; seconds of the run phase and of the whole command."""
    from autograder.engines.local import LocalEngine  # noqa: F401  (the default engine)

    shutil.rmtree(out, ignore_errors=True)
    timed = Timed(engine) if engine is not None else None
    started = time.perf_counter()
    if timed is None:  # the local engine is built inside grade_class: time it by wrapping
        import autograder.pipeline.run as run_module

        original = run_module.LocalEngine
        box: dict[str, Timed] = {}

        def wrapped(jobs_, grader):
            box["t"] = Timed(original(jobs_, grader))
            return box["t"]

        run_module.LocalEngine = wrapped
        try:
            summary = grade_class(submitted, out, solutions=ROOT / "solutions", jobs=jobs,
                                  progress=False, outputs=False, stream=io.StringIO())
        finally:
            run_module.LocalEngine = original
        timed = box["t"]
    else:
        summary = grade_class(submitted, out, solutions=ROOT / "solutions", jobs=jobs,
                              progress=False, outputs=False, stream=io.StringIO(), engine=timed)
    graded = sum(1 for r in summary.results if r["status"] != "missing")
    return {"run": timed.run_seconds, "total": time.perf_counter() - started,
            "notebooks": float(graded), "rows": float(len(summary.results))}


def noop_overhead(address: str, n: int, payload_bytes: int) -> float:
    """Seconds per task of the scheduler round trip alone: `n` tasks of `payload_bytes` that do
    nothing, at most 4 per thread (at least 8) in flight, results fetched as the engine does."""
    from distributed import Client, as_completed

    def nothing(wire: dict[str, Any]) -> dict[str, Any]:
        return {"worker": "", "refused": "", "result": None}

    with Client(address, timeout=30, set_as_default=False, direct_to_workers=False) as client:
        window = max(8, 4 * sum(client.nthreads().values()))
        payload = os.urandom(payload_bytes)
        started = time.perf_counter()
        pending, sent = as_completed(loop=client.loop, with_results=True), 0
        while sent < min(window, n):
            pending.add(client.submit(nothing, {"payload": payload}, pure=False))
            sent += 1
        for future, _ in pending:
            future.release()
            if sent < n:
                pending.add(client.submit(nothing, {"payload": payload}, pure=False))
                sent += 1
        return (time.perf_counter() - started) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=6, help="students in the class (default 6)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds, median kept (default 1)")
    parser.add_argument("--noop", type=int, default=400, help="no-op tasks (default 400)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="dask-throughput-"))
    procs: list[subprocess.Popen] = []
    try:
        build_class(work / "submitted", n=args.n, seed=args.seed)
        sizes = [p.stat().st_size for p in work.glob("submitted/*/*/*.ipynb")]
        load = os.getloadavg()
        print(f"class: {args.n} students, {len(sizes)} notebooks submitted (mean "
              f"{statistics.mean(sizes) / 1024:.0f} KiB); machine: "
              f"{len(os.sched_getaffinity(0))} cores, load average {load[0]:.1f} at the start "
              f"(shared with other jobs: absolute times wander, compare within this run)")
        port = _free_port()
        address = f"tcp://127.0.0.1:{port}"
        dask = str(Path(sys.executable).parent / "dask")
        procs.append(_start([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                             "--no-dashboard"], work / "scheduler.log", work))
        worker = [sys.executable, "-m", "autograder", "worker", address, "--nthreads", "1"]
        results: dict[str, list[dict[str, float]]] = {k: [] for k in
                                                      ("local j1", "local j2", "dask 1w", "dask 2w")}
        noop: list[float] = []
        for round_ in range(args.repeat):
            results["local j1"].append(grade_once(work / "submitted", work / "o", jobs=1))
            if len(procs) == 1:
                procs.append(_start(worker + ["--name", "w1"], work / "w1.log", ROOT))
            _wait_workers(address, 1)
            results["dask 1w"].append(grade_once(work / "submitted", work / "o",
                                                 DaskEngine(address)))
            noop.append(noop_overhead(address, args.noop, int(statistics.mean(sizes))))
            results["local j2"].append(grade_once(work / "submitted", work / "o", jobs=2))
            if len(procs) == 2:
                procs.append(_start(worker + ["--name", "w2"], work / "w2.log", ROOT))
            _wait_workers(address, 2)
            results["dask 2w"].append(grade_once(work / "submitted", work / "o",
                                                 DaskEngine(address)))
            if round_ + 1 < args.repeat:  # back to one worker for the next round
                _stop(procs.pop())
        print(f"{'engine':<28} {'notebooks':>9} {'run s':>7} {'nb/s':>6} {'core-s/nb':>9} "
              f"{'whole cmd s':>11}")
        cores = {"local j1": 1, "local j2": 2, "dask 1w": 1, "dask 2w": 2}
        label = {"local j1": "local, --jobs 1", "local j2": "local, --jobs 2",
                 "dask 1w": "dask, 1 worker x 1 thread", "dask 2w": "dask, 2 workers x 1 thread"}
        rate = {}
        for key, runs in results.items():
            run = statistics.median(r["run"] for r in runs)
            total = statistics.median(r["total"] for r in runs)
            n = runs[0]["notebooks"]
            rate[key] = n / run
            print(f"{label[key]:<28} {n:9.0f} {run:7.1f} {rate[key]:6.2f} "
                  f"{cores[key] / rate[key]:9.2f} {total:11.1f}")
        n = results["dask 1w"][0]["notebooks"]
        per_nb = (1 / rate["dask 1w"] - 1 / rate["local j1"])
        print(f"cluster overhead per notebook (dask 1w - local j1): {per_nb * 1000:+.0f} ms; "
              f"scheduler round trip of a no-op task of the same size: "
              f"{statistics.median(noop) * 1000:.1f} ms ({args.noop} tasks, 1 worker)")
        print(f"scaling 1 -> 2 workers: x{rate['dask 2w'] / rate['dask 1w']:.2f} "
              f"(local --jobs 1 -> 2: x{rate['local j2'] / rate['local j1']:.2f})")
        core_s = 2 / rate["dask 2w"]
        need = MOOC_NOTEBOOKS * core_s / HOUR
        ceiling = 1 / statistics.median(noop)
        print(f"cost model (EXTRAPOLATED from the dask 2-worker figure, {core_s:.2f} core-s per "
              f"notebook on this busy machine): {MOOC_NOTEBOOKS:,} notebooks within an hour are "
              f"{MOOC_NOTEBOOKS / HOUR:.0f} notebooks/s and need {need:.0f} cores, e.g. "
              f"{need / 16:.1f} machines of 16 cores or {need / 32:.1f} of 32; one scheduler and "
              f"one command pass at most {ceiling:.0f} tasks/s at the measured no-op cost")
    finally:
        for proc in reversed(procs):
            _stop(proc)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
