"""``python -m courseware sync|build|check [assignment ...]`` (``make notebooks`` = sync + build),
and ``python -m courseware collect <assignment> --exchange ROOT --course ID [--to submitted]``.

Exit codes: 0 done; 1 `check` found stale files, or `collect` refused an entry or skipped a
file (it still collected what was safe); 2 a `CoursewareError` (bad argument, broken source).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.outputs.safe_text import terminal_text

from .collect import CollectReport, collect
from .errors import CoursewareError
from .layout import Layout


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m courseware", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("sync", "solutions' generated cells from backprop_lib"),
                       ("build", "student releases in notebooks/ (and solutions/<a>/backprop_lib/)"),
                       ("check", "fail if regenerating changes any committed file")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("assignments", nargs="*", help="assignment folders of solutions/ (default: all)")
    sub = commands.add_parser("collect", help="nbgrader exchange inbound/ -> submitted/, regular files only")
    sub.add_argument("assignment", help="assignment id, e.g. a1_gates")
    sub.add_argument("--exchange", type=Path, required=True, metavar="ROOT", help="nbgrader's Exchange.root")
    sub.add_argument("--course", required=True, metavar="ID", help="nbgrader's course id")
    sub.add_argument("--to", type=Path, default=Path("submitted"), metavar="SUBMITTED",
                     help="the submitted folder to write (default: ./submitted)")
    sub.add_argument("--update", action="store_true",
                     help="replace an already collected submission by a newer one (nbgrader's --update)")
    sub.add_argument("--no-check-owner", dest="check_owner", action="store_false",
                     help="accept entries not owned by the Unix user their name claims "
                          "(only where every student runs as one Unix user; any student can then submit as another)")
    return parser


def print_collect(report: CollectReport) -> None:
    """One line per student and per refusal or skipped file (student-made names escaped)."""
    show = terminal_text
    print(f"collect {report.assignment}: {len(report.collected)} student(s), {len(report.refused)} entry(ies) refused")
    for item in report.collected:
        print(f"  {item.status:9} {show(item.student_id)} ({len(item.files)} file(s), {item.timestamp:%Y-%m-%d %H:%M:%S} UTC)")
        for skipped in item.skipped:
            print(f"    skipped  {show(skipped.path)}: {show(skipped.reason)}", file=sys.stderr)
    for refused in report.refused:
        print(f"  refused   inbound/{show(refused.entry)}: {show(refused.reason)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "collect":
            report = collect(args.assignment, args.exchange, args.course, args.to,
                             update=args.update, check_owner=args.check_owner)
            print_collect(report)
            return 0 if report.clean else 1
        from .check import check  # nbformat and nbgrader: seconds to import, not needed to collect
        from .release import build
        from .sync import sync

        layout = Layout()
        assignments = layout.assignments(args.assignments)
        if args.command == "sync":
            changed = sync(layout, assignments)
            print(f"sync: {len(assignments)} notebook(s), {len(changed)} changed"
                  + "".join(f"\n  {p.relative_to(layout.root)}" for p in changed))
        elif args.command == "build":
            written = build(layout, assignments)
            print(f"build: {len(assignments)} release(s)"
                  + "".join(f"\n  {p.relative_to(layout.root)}" for p in written))
        else:
            problems = check(layout, assignments)
            if problems:
                print("check: generated files are out of date; run `make notebooks` and commit:\n  "
                      + "\n  ".join(problems), file=sys.stderr)
                return 1
            print(f"check: {len(assignments)} assignment(s) up to date: {', '.join(assignments)}")
    except CoursewareError as err:
        print(f"courseware {args.command}: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
