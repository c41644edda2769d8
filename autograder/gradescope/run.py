"""What `run_autograder` runs on Gradescope for each submission (`python -m autograder.gradescope.run`).

1. Read the package's `gradescope.json` (assignment, seed, visibility, written-answer points).
2. Read `/autograder/submission_metadata.json` for the student id and pick the notebook in
   `/autograder/submission/` (`submission.py`); copy its bytes into a private temporary
   `submitted/<student_id>/<assignment>/<assignment>.ipynb`, the class grader's layout.
3. Close `/autograder`, `/autograder/source` and `/autograder/results` to other uids
   (`lockdown.py`) and grade that one notebook with `autograder.pipeline.run.grade_class`: the
   same checks, seed rules, limits and sandbox as `python -m autograder grade`, so the score is
   the class grader's for the same notebook, student id and seed. Then restore the folders.
4. Write `/autograder/results/results.json` (`results.py`) and print a short log for the
   instructor (Gradescope keeps stdout hidden from students).

Exit 0 when results.json was written (whatever the score); 2 on the grader's own errors
(`errors.GraderError`: the package or the machine is broken), with no results.json, so
Gradescope reports a failed run instead of a zero. `--self-test` grades the packaged reference
solution through the same steps in a temporary root and fails unless it gets full marks
(`setup.sh` runs it when the image is built).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..errors import GraderError
from ..outputs.safe_text import terminal_text
from ..pipeline.run import grade_class
from .lockdown import locked
from .results import gradescope_results, write_results_json
from .submission import find_notebook, folder_name, read_metadata, student_id

KIT = Path(__file__).resolve().parents[2]
"""The unpacked kit (`/autograder/source/kit` on Gradescope): autograder/, backprop_lib/, solutions/."""
CONFIG_NAME = "gradescope.json"


class PackageError(GraderError, RuntimeError):
    """The autograder package is incomplete or was built for something else."""


def load_config(kit: Path = KIT) -> dict[str, Any]:
    """The package's `gradescope.json` (written by `package.build_package`)."""
    try:
        config = json.loads((kit / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PackageError(f"{kit / CONFIG_NAME} cannot be read ({exc}): rebuild the package "
                           f"with `python -m autograder gradescope`") from None
    for key in ("assignment", "seed"):
        if key not in config:
            raise PackageError(f"{kit / CONFIG_NAME} has no {key!r}")
    return config


def _sandbox_mode() -> str:
    from ..sandbox.launch import bwrap_path

    return "bubblewrap" if bwrap_path() is not None else "fallback (no namespaces)"


def grade_submission(root: Path, config: dict[str, Any], kit: Path = KIT) -> dict[str, Any]:
    """Grade `root/submission` as the package's assignment; return Gradescope's results dict.

    Args:
        root: Gradescope's `/autograder` (holds `submission/`, `submission_metadata.json`,
            `results/`, `source/`).
        config: the package's `gradescope.json`.
        kit: the folder with `autograder/`, `backprop_lib/` and `solutions/`.
    """
    started = time.monotonic()
    assignment, seed = str(config["assignment"]), int(config["seed"])
    sid = student_id(read_metadata(root))
    found = find_notebook(root / "submission", assignment)
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        folder = Path(tmp) / "submitted" / folder_name(sid) / assignment
        folder.mkdir(parents=True)
        if found.data is not None:
            (folder / f"{assignment}.ipynb").write_bytes(found.data)
        with locked([root, root / "source", root / "results"]):
            summary = grade_class(Path(tmp) / "submitted", Path(tmp) / "out",
                                  solutions=kit / "solutions", jobs=1, seed=seed,
                                  progress=False, outputs=False)
    result = summary.results[0]
    wanted = f"{assignment}.ipynb"
    note = found.reason if found.data is None else (
        "" if found.parts == (wanted,) else f"Graded {'/'.join(found.parts)}.")
    extra = {"student_id": sid, "graded_as": result["student_id"], "seed": seed,
             "sandbox": _sandbox_mode(), "notebook": "/".join(found.parts)}
    return gradescope_results(result, seconds=time.monotonic() - started,
                              visibility=str(config.get("visibility", "visible")),
                              manual_points=float(config.get("manual_points", 0.0)),
                              note=note, extra=extra)


def self_test(config: dict[str, Any], kit: Path = KIT) -> int:
    """Grade the packaged solution as a submission in a temporary root; 0 when full marks."""
    assignment = str(config["assignment"])
    with tempfile.TemporaryDirectory(prefix="gradescope-selftest-") as tmp:
        root = Path(tmp)
        (root / "submission").mkdir()
        (root / "results").mkdir()
        shutil.copyfile(kit / "solutions" / assignment / f"{assignment}.ipynb",
                        root / "submission" / f"{assignment}.ipynb")
        results = grade_submission(root, config, kit)
    best = results["extra_data"]["auto_max_score"]
    print(f"self-test: the reference solution of {assignment} scored {results['score']:g} of "
          f"{best:g} in {results['execution_time']:.1f} s (sandbox: {results['extra_data']['sandbox']})")
    return 0 if abs(results["score"] - best) < 1e-6 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_autograder",
                                     description="Grade /autograder/submission for Gradescope.")
    parser.add_argument("--root", type=Path, default=Path("/autograder"),
                        help="Gradescope's folder (default /autograder)")
    parser.add_argument("--self-test", action="store_true",
                        help="grade the packaged reference solution; exit 1 unless full marks")
    args = parser.parse_args(argv)
    try:
        config = load_config()
        if args.self_test:
            return self_test(config)
        results = grade_submission(args.root, config)
        path = write_results_json(results, args.root / "results" / "results.json")
    except GraderError as exc:
        print(f"run_autograder: error: {exc}", file=sys.stderr)
        return 2
    extra = results["extra_data"]
    print(f"{extra['assignment']}: {results['score']:g} of {extra['auto_max_score']:g} "
          f"({extra['status']}) for {terminal_text(extra['student_id'])} in "
          f"{results['execution_time']:.2f} s; sandbox: {extra['sandbox']}; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
