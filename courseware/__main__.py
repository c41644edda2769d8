"""``python -m courseware sync|build|check [assignment ...]`` (``make notebooks`` = sync + build)."""
from __future__ import annotations

import argparse
import sys

from .check import check
from .layout import Layout
from .release import build
from .sync import sync


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m courseware", description=__doc__)
    parser.add_argument("command", choices=("sync", "build", "check"),
                        help="sync: solutions from backprop_lib; build: student releases; "
                             "check: fail if regenerating changes any committed file")
    parser.add_argument("assignments", nargs="*", help="assignment folders of solutions/ (default: all)")
    args = parser.parse_args(argv)
    layout = Layout()
    try:
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
    except (ValueError, RuntimeError) as err:
        print(f"courseware {args.command}: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
