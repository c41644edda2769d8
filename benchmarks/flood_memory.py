"""The grader's peak memory when every student floods it with results, beside an honest class.

    .venv/bin/python benchmarks/flood_memory.py [--assignment a3_mlp] [--students 8] [--jobs 2]
                                                [--unbounded]

Builds two classes of one real assignment: `--students` honest students (the solution as
handed in) and as many flooding students, whose every graded function (and class) first writes
a forged 64 MiB result frame to the worker's results channel and then does the right thing.
Each class is graded in its own child process (`grade_class`, no outputs: the grading step is
what a flood reaches) and the child reports its peak RSS (`ru_maxrss`), its seconds and its
rows. With `--unbounded` a third child grades the flooding class with the result bounds off
(every frame may hold `wire.MAX_BLOB_BYTES`, the grader before issue 11): what the flood cost.

Prints one line per class: peak RSS in MiB, seconds, status counts and the score of the class.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOOD_PREFIX = '''
import functools as _functools, json as _json, os as _os, struct as _struct, sys as _sys
def _flood_once():
    head = _json.dumps({"event": "task", "index": 0, "ok": True, "error": "", "kind": "",
                        "arrays": {"out": {"__array__": ["<f8", [8 << 20], 0, 64 << 20]}}}).encode()
    fd = int(_sys.argv[1])
    _os.write(fd, b"AGF1" + _struct.pack("<I", len(head)) + head + _struct.pack("<Q", 64 << 20))
    chunk, sent = b"\\1" * (1 << 20), 0
    while sent < (64 << 20):
        sent += _os.write(fd, chunk)
def _flooding(f):
    if getattr(f, "_floods", False):
        return f
    if isinstance(f, type):
        class Flooding(f):
            def __init__(self, *a, **k):
                _flood_once()
                super().__init__(*a, **k)
        Flooding.__name__ = Flooding.__qualname__ = f.__name__
        Flooding._floods = True
        return Flooding
    @_functools.wraps(f)
    def wrapper(*a, **k):
        _flood_once()
        return f(*a, **k)
    wrapper._floods = True
    return wrapper
'''
FLOOD_SUFFIX = '''
for _name, _value in list(globals().items()):
    if (not _name.startswith("_") and callable(_value)
            and getattr(_value, "__module__", None) == "__main__"):
        globals()[_name] = _flooding(_value)
'''


def build_classes(root: Path, assignment: str, students: int) -> tuple[Path, Path, Path]:
    """(solutions, honest SUBMITTED, flooding SUBMITTED) under `root`."""
    import shutil

    import nbformat

    from tools.demo_class import as_submitted

    solutions = root / "solutions"
    (solutions / assignment).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / assignment / f"{assignment}.ipynb",
                solutions / assignment / f"{assignment}.ipynb")
    handed_in = as_submitted(nbformat.read(solutions / assignment / f"{assignment}.ipynb", 4))
    flooding = copy.deepcopy(handed_in)
    for cell in flooding.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = FLOOD_PREFIX + cell.source + "\n" + FLOOD_SUFFIX
    for kind, nb in (("honest", handed_in), ("flood", flooding)):
        for i in range(students):
            path = root / kind / f"{kind}{i:03d}" / assignment / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True)
            nbformat.write(nb, path)
    return solutions, root / "honest", root / "flood"


def child(submitted: Path, out: Path, solutions: Path, jobs: int, unbounded: bool) -> None:
    """Grade one class in this process and print what it cost (one JSON line)."""
    import io

    from autograder.pipeline import limits, run

    if unbounded:  # the grader before the bounds: every frame may hold wire.MAX_BLOB_BYTES
        run.measure = lambda source, checks, stage, fixed, **kw: limits.WorkLimits.unmeasured(fixed)
    started = time.perf_counter()
    summary = run.grade_class(submitted, out, solutions=solutions, jobs=jobs, progress=False,
                              outputs=False, stream=io.StringIO())
    print(json.dumps({"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "seconds": time.perf_counter() - started, "counts": summary.counts,
                      "score": sum(r["auto_score"] for r in summary.results),
                      "max": sum(r["auto_max_score"] for r in summary.results)}))


def run_child(submitted: Path, out: Path, solutions: Path, jobs: int, unbounded: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", str(submitted), str(out), str(solutions),
           "--jobs", str(jobs)] + (["--unbounded"] if unbounded else [])
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"the grading child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="a3_mlp")
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--unbounded", action="store_true",
                        help="also grade the flooding class with the result bounds off")
    parser.add_argument("--child", nargs=3, metavar=("SUBMITTED", "OUT", "SOLUTIONS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        submitted, out, solutions = map(Path, args.child)
        child(submitted, out, solutions, args.jobs, args.unbounded)
        return
    with tempfile.TemporaryDirectory(prefix="flood-memory-") as tmp:
        root = Path(tmp)
        solutions, honest, flood = build_classes(root, args.assignment, args.students)
        runs = [("honest class", honest, False), ("flooding class", flood, False)]
        if args.unbounded:
            runs.append(("flooding class, bounds off", flood, True))
        print(f"{args.assignment}, {args.students} students a class, {args.jobs} jobs, "
              f"every graded function of a flooding student sends a 64 MiB frame first")
        for label, submitted, unbounded in runs:
            report = run_child(submitted, root / f"out-{len(label)}-{unbounded}", solutions,
                               args.jobs, unbounded)
            counts = ", ".join(f"{k} {v}" for k, v in report["counts"].items() if v)
            print(f"{label:28s} peak RSS {report['peak_mib']:7.1f} MiB   "
                  f"{report['seconds']:6.1f} s   {counts}   "
                  f"score {report['score']:g} of {report['max']:g}")


if __name__ == "__main__":
    main()
