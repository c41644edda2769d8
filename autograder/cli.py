"""`python -m autograder grade SUBMITTED --output OUT [--jobs N] [--seed S]` (the contract),
with `--scheduler tcp://HOST:PORT` on a Dask cluster whose machines each run
`python -m autograder worker tcp://HOST:PORT [--nworkers N]` (`engines.worker_cmd`).

Exit codes: 0 every row was written (whatever the scores); 1 grades were written but a later
output step (feedback, gradebook, report, LMS) failed; 2 the grader's own errors (`errors.GraderError`: bad arguments, folders, no sandbox);
130 interrupted (grades.csv is only written after the last notebook).
"""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from . import lms_cli
from .pipeline.run import default_jobs, grade_class
from .engines.worker_cmd import build_parser as worker_arguments
from .errors import GraderError, UsageError
from .sandbox.launch import Limits
from .pipeline.limits import CHECK_FLOOR_SECONDS, LOAD_FLOOR_SECONDS, TIME_MULTIPLE


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Grade nbgrader submissions of the backprop kit.")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade a class's submissions",
                                description="Grade SUBMITTED/<student_id>/<assignment>/"
                                            "<assignment>.ipynb against the source notebooks "
                                            "in --solutions.")
    grade.add_argument("submitted", type=Path, metavar="SUBMITTED",
                       help="nbgrader's submitted folder")
    grade.add_argument("--output", "-o", type=Path, required=True, metavar="OUT",
                       help="folder for grades.csv, results/, feedback/, gradebook.db, "
                            "report/, lms.csv")
    grade.add_argument("--jobs", "-j", type=_positive_int, default=None, metavar="N",
                       help=f"notebooks graded in parallel (default: cores, here {default_jobs()})")
    grade.add_argument("--seed", type=int, default=0, metavar="S",
                       help="base seed of the random inputs (default 0)")
    grade.add_argument("--solutions", type=Path, default=Path("solutions"),
                       help="folder of the source notebooks (default: solutions/)")
    grade.add_argument("--timeout", type=_positive_float, default=Limits.wall_seconds,
                       metavar="SECONDS",
                       help="wall limit per notebook, and the cap of its load limit (measured: "
                            f"{TIME_MULTIPLE:g}x what the reference needs to load here, at least "
                            f"{LOAD_FLOOR_SECONDS:g} s; "
                            "default %(default)g)")
    grade.add_argument("--task-timeout", type=_positive_float, default=Limits.task_seconds,
                       metavar="SECONDS",
                       help=f"cap of each check's limit (measured: {TIME_MULTIPLE:g}x what the "
                            f"reference's check needs here, at least {CHECK_FLOOR_SECONDS:g} s; "
                            "default %(default)g)")
    grade.add_argument("--sandbox", choices=("auto", "bwrap", "plain"), default="auto",
                       help="bwrap: require bubblewrap; plain: weaker subprocess only "
                            "(default auto: bubblewrap when it works here)")
    grade.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    grade.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="grade on the Dask cluster of this scheduler, tcp://HOST:PORT "
                            "(private network only) or tls://HOST:PORT; the outputs are "
                            "written here (default: this machine, no service)")
    for flag, what in (("--tls-ca-file", "the cluster's CA"), ("--tls-cert", "this client's "
                       "certificate"), ("--tls-key", "this client's private key")):
        grade.add_argument(flag, default=None, metavar="PEM",
                           help=f"with a tls:// --scheduler: {what} (default: Dask's config)")
    worker = commands.add_parser("worker", help="grade for a Dask cluster on this machine",
                                 description="Join the Dask scheduler SCHEDULER as a grading "
                                             "worker, after checking that bubblewrap and the "
                                             "sandbox work here. Run it from a copy of the kit.")
    worker_arguments(worker)
    lms_cli.add_arguments(commands, grade)
    return parser


def _engine(args: argparse.Namespace):
    """None (the local engine) or the Dask engine of --scheduler."""
    if args.scheduler is None:
        if args.tls_ca_file or args.tls_cert or args.tls_key:
            raise UsageError("--tls-ca-file/--tls-cert/--tls-key need --scheduler tls://...")
        return None
    if args.sandbox == "plain":
        raise UsageError("a cluster always grades in bubblewrap: --sandbox plain needs the "
                         "local engine (no --scheduler)")
    from .engines.dask_engine import DaskEngine, security_for

    security = security_for(args.scheduler, args.tls_ca_file, args.tls_cert, args.tls_key)
    return DaskEngine(args.scheduler, security=security)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "worker":
        from .engines.worker_cmd import run as run_worker

        return run_worker(args)
    if args.command in lms_cli.COMMANDS:
        try:
            return lms_cli.run(args)
        except GraderError as exc:
            print(f"autograder: error: {exc}", file=sys.stderr)
            return 2
    use_bwrap = {"auto": None, "bwrap": True, "plain": False}[args.sandbox]
    limits = Limits(wall_seconds=args.timeout, task_seconds=min(args.task_timeout, args.timeout))
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        summary = grade_class(args.submitted, args.output, solutions=args.solutions, jobs=args.jobs,
                              seed=args.seed, limits=limits, use_bwrap=use_bwrap,
                              progress=not args.quiet, engine=_engine(args),
                              roster=lms_cli.roster(args))
    except KeyboardInterrupt:
        print("autograder: interrupted: every sandbox was stopped. grades.csv is written only "
              "once every notebook is graded; files already written are complete. Run the same "
              "command again to grade the class.", file=sys.stderr)
        return 130
    except GraderError as exc:  # the command's own errors; anything else is a bug: traceback
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(summary.text())
    out = args.output
    print(f"wrote {out / 'grades.csv'} ({len(summary.results)} rows)")
    for path, what in ((out / "lms.csv", "one row per student, for the LMS"),
                       (out / "results", "per-notebook JSON with every check"),
                       (out / "feedback", "one HTML page per student and assignment"),
                       (out / "gradebook.db", "nbgrader's gradebook, for formgrader / nbgrader export"),
                       (out / "autograded", "for the TA: `cd OUT && nbgrader formgrader` grades the written answers"),
                       (out / "report" / "index.html", "the class report, self-contained")):
        if path.exists():
            print(f"wrote {path} ({what})")
    lms_cli.after_grade(args, summary)
    return 1 if summary.output_errors else 0
