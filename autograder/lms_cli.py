"""The command line of the places courses grade (CURRICULUM.md, "Where courses grade"):

    python -m autograder gradescope <assignment> --output autograder.zip [--seed S]
    python -m autograder export OUT [--roster EXPORT.csv [--roster-key COLUMN]]
    python -m autograder grade SUBMITTED --output OUT ... [--roster EXPORT.csv [--roster-key COLUMN]]

`cli.py` wires these in: `add_arguments` adds the two subcommands and grade's roster options,
`run` runs a subcommand of `COMMANDS`, `roster(args)` reads grade's roster before grading (a bad
roster is an error before any notebook is graded), `after_grade` prints the Canvas matching
and says that the grading command's tables hold the autograded points only.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .outputs.canvas import DEFAULT_KEY, Roster, read_matching, read_roster
from .outputs.safe_text import terminal_text

COMMANDS = ("gradescope", "export")


def _roster_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--roster", type=Path, default=None, metavar="EXPORT.csv",
                        help="a gradebook export from Canvas: also write OUT/canvas.csv for "
                             "Canvas's gradebook import")
    parser.add_argument("--roster-key", default=DEFAULT_KEY, metavar="COLUMN",
                        help="the roster column that holds the student_id (default %(default)r; "
                             "whitespace and case are ignored)")


def add_arguments(commands: Any, grade: argparse.ArgumentParser) -> None:
    """Add `gradescope` and `export` to `commands`, and `--roster` / `--roster-key` to `grade`."""
    from .gradescope.results import VISIBILITIES

    _roster_options(grade)
    gradescope = commands.add_parser(
        "gradescope", help="build Gradescope's autograder package for one assignment",
        description="Write Gradescope's autograder zip (setup.sh and run_autograder at its "
                    "root) that grades one notebook with this kit's checks and sandbox.")
    gradescope.add_argument("assignment", help="an assignment of --solutions, e.g. a1_gates")
    gradescope.add_argument("--output", "-o", type=Path, default=Path("autograder.zip"),
                            metavar="ZIP", help="the zip to write (default %(default)s)")
    gradescope.add_argument("--seed", type=int, default=0, metavar="S",
                            help="base seed of the random inputs, fixed in the package (default 0)")
    gradescope.add_argument("--solutions", type=Path, default=Path("solutions"),
                            help="folder of the source notebooks (default: solutions/)")
    gradescope.add_argument("--visibility", choices=VISIBILITIES, default=VISIBILITIES[0],
                            help="when students see the tests (default %(default)s)")
    export = commands.add_parser(
        "export", help="rewrite lms.csv (and canvas.csv) from the gradebook, manual grades included",
        description="After the TA graded the written answers in formgrader, rewrite OUT/lms.csv "
                    "and, with --roster, OUT/canvas.csv from OUT/gradebook.db.")
    export.add_argument("out", type=Path, metavar="OUT", help="the grading command's output folder")
    _roster_options(export)


def roster(args: argparse.Namespace) -> Roster | None:
    """grade's `--roster`, read (RosterError when it is not a usable Canvas export)."""
    return None if args.roster is None else read_roster(args.roster, args.roster_key)


def _print_matching(lines: list[str]) -> None:
    for line in lines:
        print(terminal_text(line))


def after_grade(args: argparse.Namespace, summary: Any) -> None:
    """Lines for the grading command's summary: the Canvas matching, what the tables hold."""
    out = args.output
    canvas_ok = not any(e.startswith("canvas:") for e in summary.output_errors)
    if args.roster is not None and canvas_ok:
        print(f"wrote {out / 'canvas.csv'} (Canvas's gradebook import: Grades > Import)")
        matching = read_matching(out)
        if matching is not None:
            _print_matching(matching.lines())
    print("lms.csv" + (" and canvas.csv hold" if args.roster is not None else " holds")
          + " the autograded points only: after grading the written answers in formgrader, "
          f"`python -m autograder export {out}"
          + (f" --roster {args.roster}" if args.roster is not None else "")
          + "` rewrites them with the manual grades")


def run(args: argparse.Namespace) -> int:
    """Run `gradescope` or `export` (GraderError propagates to the CLI: exit 2)."""
    if args.command == "gradescope":
        from .gradescope.package import build_package

        info = build_package(args.assignment, args.output, seed=args.seed,
                             visibility=args.visibility, solutions=args.solutions)
        print(f"wrote {info.path} ({info.size_bytes / 1024:.0f} KiB, {len(info.entries)} files): "
              f"Gradescope's autograder for {info.assignment}, seed {info.seed}, "
              f"{info.auto_max_score:g} autograded points"
              + (f" (+{info.manual_points:g} written, graded by hand)" if info.manual_points else ""))
        print("upload it in Gradescope: the assignment's Configure Autograder page, "
              "Ubuntu 24.04 base image")
        return 0
    from .outputs.export import export_grades

    exported = export_grades(args.out, roster(args))
    totals = exported.totals
    print(f"read {args.out / 'gradebook.db'}: {len(totals.students)} students, "
          f"{len(totals.assignments)} assignments, totals with the manual grades")
    for path in exported.written:
        print(f"wrote {path}")
    if exported.matching is not None:
        _print_matching(exported.matching.lines())
    return 0

