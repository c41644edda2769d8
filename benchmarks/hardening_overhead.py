"""What the sandbox's hardening costs: the same class graded with it and without, side by side.

    .venv/bin/python benchmarks/hardening_overhead.py [--n 10] [--jobs 2] [--rounds 2]
                                                      [--nbgrader-students K]

Hardened = what the grader does (issue 11): bubblewrap as uid 65534 when root, its own user
namespace, the seccomp filter, the staged runtime. The runtime is staged once per grading run:
its cost is timed on its own and added to the hardened run's time in the "per run" line, while
the rounds compare the per-notebook throughput (staging already done). Unhardened = the launch of before (`command.HARDENED
= False`: the venv at /opt/venv, the host's /usr, the grader's uid, no seccomp). Both grade the
same synthetic class (`tools.demo_class.build_class`) in this one process, alternating
hardened / unhardened `--rounds` times so a busy machine slows both alike, with the outputs
step off (the hardening changes only grading); the best round of each is compared. It also
times the staging alone, and one empty sandbox (start, load, exit) in each mode.

With `--nbgrader-students K`, plain `nbgrader autograde` (from `grading_throughput.py`) grades
the first K students' notebooks in the same run, for the ratio against plain nbgrader.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.pipeline.run import grade_class  # noqa: E402
from autograder.sandbox import command, runtime  # noqa: E402
from autograder.sandbox.launch import Limits, SandboxCgroups, preflight  # noqa: E402
from autograder.sandbox.stage import build_stage  # noqa: E402
from autograder.pipeline.grade import default_checks  # noqa: E402
from tools.demo_class import build_class  # noqa: E402


def grade_once(submitted: Path, out: Path, jobs: int, hardened: bool) -> tuple[float, int]:
    """Seconds to grade `submitted` (outputs off) in one mode, and the notebooks graded."""
    command.HARDENED = hardened
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    summary = grade_class(submitted, out, solutions=ROOT / "solutions", jobs=jobs,
                          progress=False, outputs=False)
    seconds = time.perf_counter() - started
    graded = sum(1 for r in summary.results if r["status"] != "missing")
    return seconds, graded


def empty_sandbox_seconds(hardened: bool, repeats: int = 5) -> float:
    """Median seconds of one empty sandbox (start, import numpy, report loaded, exit)."""
    command.HARDENED = hardened
    times = []
    with tempfile.TemporaryDirectory(prefix="autograder-bench-") as tmp:
        stage = build_stage("a2_vectorized", default_checks().drivers, Path(tmp) / "a2")
        cgroups = SandboxCgroups()
        try:
            preflight(stage, Limits(), cgroups)  # warm: runtime staged, bwrap probed
            for _ in range(repeats):
                started = time.perf_counter()
                preflight(stage, Limits(), cgroups)
                times.append(time.perf_counter() - started)
        finally:
            cgroups.close()
    return sorted(times)[len(times) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10, help="students in the class (default 10)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the two modes")
    parser.add_argument("--nbgrader-students", type=int, default=0, metavar="K",
                        help="also time plain nbgrader on the first K students (default: skip)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="hardening-"))
    try:
        plan = build_class(work / "submitted", n=args.n, seed=0)
        print(f"class: {args.n} students, {len(list(work.glob('submitted/*/*/*.ipynb')))} "
              f"notebooks; {len(os.sched_getaffinity(0))} cores; euid {os.geteuid()}; "
              f"load average {os.getloadavg()[0]:.1f} (a busy machine slows both modes alike)")
        runtime.forget_staged_runtime()
        staged = runtime.staged_runtime()
        print(f"staging  : {staged.seconds:.2f} s, {staged.files} files "
              f"({'hard-linked' if staged.linked else 'copied'}), once per run")
        for hardened in (True, False):
            label = "hardened" if hardened else "without "
            print(f"sandbox  : {label} one empty sandbox {empty_sandbox_seconds(hardened):.3f} s")
        best: dict[bool, tuple[float, int]] = {}
        for round_ in range(args.rounds):
            for hardened in (True, False):
                seconds, graded = grade_once(work / "submitted", work / "out", args.jobs, hardened)
                label = "hardened" if hardened else "without "
                print(f"round {round_ + 1}  : {label} {graded} notebooks in {seconds:6.1f} s = "
                      f"{graded / seconds:5.2f} notebooks/s")
                if hardened not in best or seconds < best[hardened][0]:
                    best[hardened] = (seconds, graded)
        rate = {h: best[h][1] / best[h][0] for h in best}
        print(f"best     : hardened {rate[True]:.2f} notebooks/s, without {rate[False]:.2f} "
              f"notebooks/s: hardened / without = {rate[True] / rate[False]:.3f} "
              f"({(1 - rate[True] / rate[False]) * 100:+.1f} % slower per notebook)")
        with_staging = best[True][0] + staged.seconds
        print(f"per run  : hardened incl. staging {with_staging:.1f} s vs without "
              f"{best[False][0]:.1f} s for {best[True][1]} notebooks "
              f"({(with_staging / best[False][0] - 1) * 100:+.1f} %; the staging is paid once, "
              f"so this shrinks with the class: {staged.seconds / 1500:.4f} s per notebook at 300 x 5)")
        if args.nbgrader_students:
            from benchmarks.grading_throughput import time_nbgrader  # noqa: E402

            course = work / "course"
            assignments = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
            for a in assignments:
                (course / "source" / a).mkdir(parents=True)
                shutil.copy(ROOT / "solutions" / a / f"{a}.ipynb", course / "source" / a)
            students = sorted(plan)[: args.nbgrader_students]
            for sid in students:
                shutil.copytree(work / "submitted" / sid, course / "submitted" / sid)
            n_nb = len(list(course.glob("submitted/*/*/*.ipynb")))
            seconds, _ = time_nbgrader(course, assignments, students)
            print(f"nbgrader : {n_nb} notebooks in {seconds:.1f} s = {n_nb / seconds:.2f} "
                  f"notebooks/s; hardened ours / nbgrader = {rate[True] / (n_nb / seconds):.1f}x "
                  f"(ours without outputs step)")
    finally:
        command.HARDENED = True
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
