"""Grade a class: every (student, assignment) job, `jobs` at a time, then write the outputs.

The steps are a list the command walks: find the jobs, load the trusted sources, stage what the
sandbox may see, grade (thread pool: each thread drives one sandbox process, so `jobs` sandboxes
run at once), record each result as it finishes, then `grades.csv`, feedback, the gradebook,
the class report and the LMS table. A tqdm bar shows done/total, rate and ETA; a summary
(status counts, slowest notebooks) follows.

Ctrl-C (SIGINT) or SIGTERM: the workers stop, every sandbox is killed, `grades.csv` and the
other class-level files are not written (the previous complete ones stay); per-notebook JSON
already written is complete. Running the command again grades the class from the start.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from ..errors import CourseLayoutError, UsageError
from .discover import Job, discover, find_assignments
from .grade import Checks, default_checks, grade_notebook, internal_error
from .notebook import NotebookError, SourceNotebook, load_source
from .results import STATUSES, write_grades_csv, write_result
from ..sandbox.launch import Limits, SandboxCgroups, SandboxUnavailable, preflight
from ..sandbox.stage import build_stage, warm_bytecode
from ..outputs.safe_text import terminal_text



@dataclass
class Summary:
    """What the run did: counts per status, the slowest notebooks, throughput."""

    results: list[dict[str, Any]]
    seconds: float
    jobs: int
    output_errors: list[str] = field(default_factory=list)
    output_seconds: dict[str, float] = field(default_factory=dict)
    grading_seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUSES}
        for r in self.results:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        return counts

    def slowest(self, n: int = 5) -> list[dict[str, Any]]:
        graded = [r for r in self.results if r["status"] != "missing"]
        return sorted(graded, key=lambda r: -r.get("seconds", 0.0))[:n]

    def text(self) -> str:
        graded = [r for r in self.results if r["status"] != "missing"]
        rate = len(graded) / self.grading_seconds if self.grading_seconds > 0 else 0.0
        per = (sum(r.get("seconds", 0.0) for r in graded) / len(graded)) if graded else 0.0
        counts = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        lines = [f"graded {len(self.results)} rows in {self.grading_seconds:.1f} s with "
                 f"{self.jobs} jobs ({rate:.2f} notebooks/s, {per:.2f} s per notebook): {counts}"]
        slow = self.slowest()
        if slow:
            lines.append("slowest: " + ", ".join(
                f"{terminal_text(r['student_id'])}/{r['assignment']} {r.get('seconds', 0):.2f} s "
                f"({r['status']})"
                for r in slow))
        if self.output_seconds:
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in self.output_seconds.items())
            lines.append(f"outputs: {steps}; total {self.seconds:.1f} s")
        for problem in self.output_errors:
            lines.append(f"output step failed: {terminal_text(problem)}")
        return "\n".join(lines)


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def load_sources(solutions: Path, assignments: list[str]) -> dict[str, SourceNotebook]:
    """The trusted source notebook of every assignment.

    Raises:
        CourseLayoutError: a source notebook breaks the contract (unreadable, no points).
    """
    sources = {}
    for a in assignments:
        try:
            sources[a] = load_source(Path(solutions) / a / f"{a}.ipynb", a)
        except NotebookError as exc:
            raise CourseLayoutError(f"source notebook of {a}: {exc}") from exc
    return sources


def _progress(total: int, enabled: bool, stream: TextIO):
    from tqdm import tqdm

    return tqdm(total=total, unit="nb", desc="grading", file=stream, disable=not enabled,
                mininterval=0.5, dynamic_ncols=True)


def grade_class(submitted: Path, out: Path, *, solutions: Path = Path("solutions"),
                jobs: int | None = None, seed: int = 0, checks: Checks | None = None,
                limits: Limits | None = None, use_bwrap: bool | None = None,
                progress: bool = True, outputs: bool = True,
                stream: TextIO | None = None) -> Summary:
    """Grade every submission under `submitted` into `out` (see the module docstring).

    Args:
        submitted: nbgrader's submitted folder, `<student_id>/<assignment>/<assignment>.ipynb`.
        out: output folder (created).
        solutions: folder of the trusted source notebooks.
        jobs: notebooks graded at once (default: the number of usable cores).
        seed: base seed of the random inputs.
        checks: the checks registry (default: `autograder.checks`).
        outputs: also write feedback, gradebook, report and LMS table.

    Raises:
        CourseLayoutError: a missing `submitted` / `solutions` folder or a broken source notebook.
        UsageError: `jobs` < 1.
        SandboxUnavailable: the sandbox cannot run here (checked before grading).
        KeyboardInterrupt: when interrupted (after killing every sandbox).
    """
    stream = stream or sys.stderr
    started = time.monotonic()
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise UsageError(f"jobs must be at least 1, got {jobs}")
    checks = checks or default_checks()
    limits = limits or Limits()
    out = Path(out)
    all_jobs = discover(submitted, solutions)
    if not all_jobs:
        print(f"autograder: warning: {submitted} holds no student folder", file=stream)
    assignments = find_assignments(solutions)
    sources = load_sources(solutions, assignments)
    stage_root = Path(tempfile.mkdtemp(prefix="autograder-stage-"))
    cgroups = SandboxCgroups()
    stop = threading.Event()
    results: list[dict[str, Any]] = []
    try:
        stages = {a: build_stage(a, checks.drivers, stage_root / a)
                  for a in assignments}
        if any(job.notebook is not None for job in all_jobs):
            warm_bytecode()
            preflight(stages[assignments[0]], limits, cgroups, use_bwrap)

        def one(job: Job) -> dict[str, Any]:
            try:
                return grade_notebook(job, sources[job.assignment], checks, stages[job.assignment],
                                      seed=seed, limits=limits, cgroups=cgroups,
                                      use_bwrap=use_bwrap, stop=stop)
            except (KeyboardInterrupt, SandboxUnavailable):
                raise
            except Exception as exc:  # a grader bug on one notebook: a row, not a crash
                lines = traceback.format_exc().splitlines()  # it quotes what the student sent
                print("\n".join(terminal_text(line) for line in lines), file=stream)
                return internal_error(job, sources[job.assignment], exc)

        with _progress(len(all_jobs), progress, stream) as bar:
            pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
            try:
                pending: set[Future] = {pool.submit(one, job) for job in all_jobs}
                while pending:
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        result = future.result()
                        write_result(result, out)
                        results.append(result)
                        bar.update(1)
            except BaseException:
                stop.set()
                for future in pending:
                    future.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            pool.shutdown(wait=True)
    finally:
        stop.set()
        cgroups.close()
        shutil.rmtree(stage_root, ignore_errors=True)

    results.sort(key=lambda r: (r["student_id"], r["assignment"]))
    write_grades_csv(results, out / "grades.csv")
    summary = Summary(results, time.monotonic() - started, jobs)
    summary.grading_seconds = summary.seconds
    if outputs:
        summary.output_errors = write_outputs(results, out, Path(solutions), assignments, stream,
                                              summary.output_seconds, submitted=Path(submitted))
    summary.seconds = time.monotonic() - started
    return summary


def _step(name: str, action: Callable[[], Any], stream: TextIO, errors: list[str],
          timings: dict[str, float]) -> None:
    started = time.monotonic()
    try:
        action()
        timings[name] = time.monotonic() - started
    except Exception as exc:  # one output's bug must not cost the others
        errors.append(f"{name}: {type(exc).__name__}: {exc}")
        print(f"autograder: error: {name} failed: {type(exc).__name__}: {terminal_text(exc)}",
              file=stream)


def write_outputs(results: list[dict[str, Any]], out: Path, solutions: Path,
                  assignments: list[str], stream: TextIO,
                  timings: dict[str, float] | None = None,
                  submitted: Path | None = None) -> list[str]:
    """Feedback per notebook, the gradebook, formgrader's view of the submissions (when
    `submitted` is given), the class report and the LMS table.

    Returns the failures (as sentences); one step's failure does not stop the others.
    `timings` (if given) receives the seconds of each step that succeeded.
    """
    errors: list[str] = []
    timings = {} if timings is None else timings

    def feedback() -> None:
        from ..outputs.feedback import write_feedback

        for r in results:
            write_feedback(r, out / "feedback" / r["student_id"] / f"{r['assignment']}.html")

    def gradebook() -> None:
        from ..outputs.gradebook import write_gradebook

        write_gradebook(results, out / "gradebook.db", solutions)

    def formgrader() -> None:
        from ..outputs.formgrader import write_autograded

        if any(e.startswith("gradebook:") for e in errors):  # not an earlier run's gradebook
            raise RuntimeError("skipped, the gradebook step failed")
        for problem in write_autograded(results, submitted, out, solutions):
            print(f"autograder: warning: formgrader: {terminal_text(problem)}", file=stream)

    def report() -> None:
        from ..outputs.report import write_report

        write_report(results, out)

    def lms() -> None:
        from ..outputs.lms import write_lms_csv

        write_lms_csv(results, out / "lms.csv", assignments)

    steps = [("feedback", feedback), ("gradebook", gradebook)]
    if submitted is not None:
        steps.append(("formgrader", formgrader))
    steps += [("report", report), ("lms", lms)]
    for name, action in steps:
        _step(name, action, stream, errors, timings)
    return errors
