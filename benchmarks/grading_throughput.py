"""Grading throughput: our command against plain `nbgrader autograde`, on one synthetic class.

    .venv/bin/python benchmarks/grading_throughput.py [--n 10] [--jobs 2] [--nbgrader-students K]

Builds a class with `tools.demo_class.build_class` (correct, mistaken, unfinished, broken,
missing and cheating submissions of every assignment in solutions/) inside a temporary nbgrader
course, then, on the same machine and in the same run:

1. times `python -m autograder grade SUBMITTED --output OUT --jobs J` (everything it writes:
   grades, feedback, gradebook, report, LMS CSV);
2. times plain `nbgrader autograde <assignment> --force` for every assignment (after an untimed
   `nbgrader generate_assignment`), which executes each whole notebook in a fresh kernel, one
   after the other, as nbgrader does; with `--nbgrader-students K` only the first K students;

and prints notebooks per second for each, the ratio, and both extrapolated to 300 students x 5
notebooks (the curriculum's budget for ours is 8 minutes). A small class makes our fixed costs
(imports, the report's figures) look large per notebook, so ours also grades the class copied
`--fit-factor` times, and the estimate for 1500 notebooks uses the fitted fixed + per-notebook time. It also prints the score each
system gave the cheating student (it patches `numpy.allclose`, which nbgrader's own tests rely on).
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.demo_class import build_class  # noqa: E402

BUDGET_SECONDS = 8 * 60
CLASS_SIZE, NOTEBOOKS_EACH = 300, 5


def _nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "nbgrader"
    # the notebooks import backprop_lib: nbgrader's kernels find it as an installed course would
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               PATH=os.pathsep.join(filter(None, [str(exe.parent), os.environ.get("PATH")])))  # nbgrader runs `alembic`
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, env=env)


def time_ours(submitted: Path, out: Path, jobs: int, seed: int) -> tuple[float, str]:
    """Seconds of one run of our grading command, and its last lines of output."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted), "--output", str(out),
                           "--jobs", str(jobs), "--seed", str(seed), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"our grader exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    summary = "\n".join(line for line in (proc.stdout + proc.stderr).splitlines()
                        if line.startswith(("graded ", "outputs:")))
    return seconds, summary


def time_nbgrader(course: Path, assignments: list[str], students: list[str]) -> tuple[float, dict]:
    """Seconds of plain `nbgrader autograde` over `students`, and its scores {(sid, a): score}."""
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.ExecutePreprocessor.timeout = 120\n")
    for a in assignments:
        proc = _nbgrader("generate_assignment", a, "--force", cwd=course)
        if proc.returncode != 0:
            raise SystemExit(f"nbgrader generate_assignment {a} failed:\n{proc.stderr[-2000:]}")
    started = time.perf_counter()
    for a in assignments:
        # nbgrader exits non-zero when some notebooks fail (the broken ones); that is expected
        _nbgrader("autograde", a, "--force", cwd=course)
    seconds = time.perf_counter() - started
    export = course / "nbgrader_grades.csv"
    _nbgrader("export", f"--to={export}", cwd=course)
    scores = {}
    if export.exists():
        for row in csv.DictReader(export.open()):
            scores[(row["student_id"], row["assignment"])] = float(row["raw_score"] or 0)
    return seconds, scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10, help="students in the class (default 10)")
    parser.add_argument("--jobs", type=int, default=2, help="our --jobs (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nbgrader-students", type=int, default=None, metavar="K",
                        help="plain nbgrader grades only the first K students (default: all)")
    parser.add_argument("--fit-factor", type=int, default=4, metavar="F",
                        help="also grade the class copied F times, to split our time into a fixed "
                             "part and a part per notebook for the 300 x 5 estimate (default 4; 1: skip)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the course folder here")
    args = parser.parse_args(argv)

    course = Path(tempfile.mkdtemp(prefix="throughput-")) if args.keep is None else args.keep
    course.mkdir(parents=True, exist_ok=True)
    try:
        assignments = sorted(p.parent.name for p in (ROOT / "solutions").glob("*/*.ipynb")
                             if p.stem == p.parent.name)
        for a in assignments:
            (course / "source" / a).mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / "solutions" / a / f"{a}.ipynb", course / "source" / a / f"{a}.ipynb")
        plan = build_class(course / "submitted", n=args.n, seed=args.seed)
        present = sorted(course.glob("submitted/*/*/*.ipynb"))
        print(f"class: {args.n} students x {len(assignments)} assignments, {len(present)} notebooks "
              f"submitted; this machine: {len(os.sched_getaffinity(0))} cores")

        ours_s, summary = time_ours(course / "submitted", course / "ours", args.jobs, args.seed)
        ours_rate = len(present) / ours_s
        print(f"ours     : {len(present)} notebooks in {ours_s:7.1f} s = {ours_rate:6.2f} notebooks/s "
              f"(--jobs {args.jobs}, whole command incl. feedback, gradebook, report)")
        if summary:
            print("           " + summary.replace("\n", "\n           "))

        students = sorted(plan)[: args.nbgrader_students or len(plan)]
        if len(students) < len(plan):  # grade a subset: move the others out of nbgrader's sight
            hidden = course / "not_graded_by_nbgrader"
            hidden.mkdir()
            for sid in sorted(plan)[len(students):]:
                shutil.move(str(course / "submitted" / sid), hidden / sid)
        nb_present = sorted(course.glob("submitted/*/*/*.ipynb"))
        nbg_s, nbg_scores = time_nbgrader(course, assignments, students)
        nbg_rate = len(nb_present) / nbg_s
        print(f"nbgrader : {len(nb_present)} notebooks in {nbg_s:7.1f} s = {nbg_rate:6.2f} notebooks/s "
              "(plain `nbgrader autograde`, one notebook after another)")
        print(f"ratio    : ours / nbgrader = {ours_rate / nbg_rate:.1f}x")
        total = CLASS_SIZE * NOTEBOOKS_EACH
        print(f"300 x 5  : at these rates ours {total / ours_rate / 60:.1f} min, "
              f"nbgrader {total / nbg_rate / 60:.1f} min")
        if args.fit_factor > 1:
            big = course / "submitted_x{}".format(args.fit_factor)
            for copy in range(args.fit_factor):
                for sid in plan:
                    source = course / "submitted" / sid
                    if not source.exists():
                        source = course / "not_graded_by_nbgrader" / sid
                    shutil.copytree(source, big / f"{sid}_{copy}")
            n_big = len(list(big.glob("*/*/*.ipynb")))
            big_s, big_summary = time_ours(big, course / "ours_big", args.jobs, args.seed)
            per = (big_s - ours_s) / (n_big - len(present))
            fixed = max(ours_s - per * len(present), 0.0)
            print(f"ours x{args.fit_factor} : {n_big} notebooks in {big_s:7.1f} s = {n_big / big_s:6.2f} notebooks/s")
            if big_summary:
                print("           " + big_summary.replace("\n", "\n           "))
            print(f"fit      : ours = {fixed:.1f} s fixed + {per:.3f} s per notebook -> 300 x 5 in "
                  f"{(fixed + per * total) / 60:.1f} min (budget {BUDGET_SECONDS / 60:.0f} min); "
                  f"at the x{args.fit_factor} rate with no fixed part: {total / (n_big / big_s) / 60:.1f} min")

        ours_scores = {}
        with open(course / "ours" / "grades.csv") as handle:
            for row in csv.DictReader(handle):
                ours_scores[(row["student_id"], row["assignment"])] = float(row["auto_score"])
        for kind in ("cheat", "correct"):
            sid = next((s for s in students if plan[s] == kind), None)
            if sid is not None:
                ours_total = sum(v for (s, _), v in ours_scores.items() if s == sid)
                nbg_total = sum(v for (s, _), v in nbg_scores.items() if s == sid)
                print(f"{kind:8s} : {sid} scored {ours_total:g} by ours, {nbg_total:g} by nbgrader")
    finally:
        if args.keep is None:
            shutil.rmtree(course, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
