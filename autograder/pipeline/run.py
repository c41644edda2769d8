"""Grade a class: every (student, assignment) job, on an engine, then write the outputs.

The steps are a list the command walks: find the jobs, load the trusted sources, stage what the
sandbox may see and prove it runs here, pack each job as a task (`engines.task`: the notebook's
bytes, read here, the source, seed and limits), grade the tasks on an engine, record each
result as it comes back, then `grades.csv`, feedback, the gradebook, the class report and the
LMS table. Two engines run the same task function: `engines.local` (the default, a thread pool:
each thread drives one sandbox process, so `jobs` sandboxes run at once) and
`engines.dask_engine` (`--scheduler`: the workers of a Dask cluster). Every file is written
here, by the command, whatever the engine. A tqdm bar shows done/total, rate and ETA; a summary
(status counts, results per worker, slowest notebooks) follows.

Ctrl-C (SIGINT) or SIGTERM: the workers stop, every sandbox is killed, `grades.csv` and the
other class-level files are not written (the previous complete ones stay); per-notebook JSON
already written is complete. Running the command again grades the class from the start.
"""
from __future__ import annotations

import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol, TextIO

from ..errors import CourseLayoutError, UsageError
from .discover import Job, discover, find_assignments
from .grade import Checks, default_checks
from .limits import WorkLimits, measure
from .notebook import NotebookError, SourceNotebook, load_source
from .results import STATUSES, write_grades_csv, write_result
from ..sandbox.launch import Limits
from ..engines.local import LocalEngine
from ..engines.task import GradeTask, Grader, TaskResult, build_task
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
    engine: str = "local"
    workers: dict[str, int] = field(default_factory=dict)
    """Results per worker (`local` for the command's own threads, else the Dask worker)."""
    work: dict[str, WorkLimits] = field(default_factory=dict)

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
        where = "jobs" if self.engine == "local" else f"threads on {len(self.workers)} workers"
        lines = [f"graded {len(self.results)} rows in {self.grading_seconds:.1f} s with "
                 f"{self.jobs} {where} ({rate:.2f} notebooks/s, {per:.2f} s per notebook): "
                 f"{counts}"]
        if self.engine != "local" and self.workers:
            lines.append("per worker: " + ", ".join(
                f"{terminal_text(name)} {n}" for name, n in sorted(self.workers.items())))
        slow = self.slowest()
        if slow:
            lines.append("slowest: " + ", ".join(
                f"{terminal_text(r['student_id'])}/{r['assignment']} {r.get('seconds', 0):.2f} s "
                f"({r['status']})"
                for r in slow))
        if self.output_seconds:
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in self.output_seconds.items())
            lines.append(f"outputs: {steps}; total {self.seconds:.1f} s")
        for assignment, work in self.work.items():
            lines.append(f"limits of {assignment}: {work.describe()}")
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


def measure_work(all_jobs: list[Job], sources: dict[str, SourceNotebook], checks: Checks,
                 stages: dict[str, Path], limits: Limits, jobs: int, **sandbox: Any
                 ) -> dict[str, WorkLimits]:
    """The limits of each assignment that has a notebook to grade, measured from its reference
    through the sandbox (`limits.measure`), `jobs` at a time as the class will be graded."""
    wanted = sorted({j.assignment for j in all_jobs if j.notebook is not None and not j.refused})
    if not wanted:
        return {}
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="measure") as pool:
        futures = {a: pool.submit(measure, sources[a], checks, stages[a], limits, **sandbox)
                   for a in wanted}
        return {a: future.result() for a, future in futures.items()}


def _progress(total: int, enabled: bool, stream: TextIO):
    from tqdm import tqdm

    return tqdm(total=total, unit="nb", desc="grading", file=stream, disable=not enabled,
                mininterval=0.5, dynamic_ncols=True)


class Engine(Protocol):
    """Where the tasks are graded (`engines.local.LocalEngine`, `engines.dask_engine.DaskEngine`).

    `start` connects and checks (raising a GraderError before any grading), `run` grades every
    task and hands each result to `on_result` exactly once (cancelling the run's tasks and
    re-raising on any exception, Ctrl-C included), `workers` names who grades (name ->
    threads), `close` lets go of everything the engine started.
    """

    name: str

    def start(self, stream: TextIO) -> None: ...

    def run(self, tasks: Iterable[GradeTask], on_result: Callable[[TaskResult], None],
            run_id: str) -> None: ...

    def workers(self) -> dict[str, int]: ...

    def close(self) -> None: ...


def grade_class(submitted: Path, out: Path, *, solutions: Path = Path("solutions"),
                jobs: int | None = None, seed: int = 0, checks: Checks | None = None,
                limits: Limits | None = None, use_bwrap: bool | None = None,
                progress: bool = True, outputs: bool = True,
                stream: TextIO | None = None, engine: Engine | None = None,
                roster: Any = None) -> Summary:
    """Grade every submission under `submitted` into `out` (see the module docstring).

    Args:
        submitted: nbgrader's submitted folder, `<student_id>/<assignment>/<assignment>.ipynb`.
        out: output folder (created).
        solutions: folder of the trusted source notebooks.
        jobs: notebooks graded at once by the local engine (default: the number of usable cores).
        seed: base seed of the random inputs.
        checks: the checks registry (default: `autograder.checks`; a cluster's workers always
            use their own kit's).
        outputs: also write feedback, gradebook, report and LMS table.
        engine: where to grade (default: `LocalEngine` with `jobs` threads).
        roster: a Canvas export (`outputs.canvas.Roster`): also write `OUT/canvas.csv`.

    Raises:
        CourseLayoutError: a missing `submitted` / `solutions` folder or a broken source notebook.
        UsageError: `jobs` < 1.
        SandboxUnavailable: the sandbox cannot run here (checked before grading).
        GraderError: the engine's own (an unreachable scheduler, a refused cluster, a worker
            of another kit version).
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
    run_id = uuid.uuid4().hex
    grader = Grader(checks, use_bwrap, stream)
    engine = engine if engine is not None else LocalEngine(jobs, grader)
    results: list[dict[str, Any]] = []
    per_worker: dict[str, int] = {}
    try:
        engine.start(stream)  # an unreachable or refused cluster stops here, before grading
        stages = {a: grader.stage(a) for a in assignments}
        if any(job.notebook is not None for job in all_jobs):
            grader.preflight(assignments[0], limits)
        # measured once, here, and sent with every task: each engine applies the same limits
        work = measure_work(all_jobs, sources, checks, stages, limits, jobs,
                            cgroups=grader.cgroups, use_bwrap=use_bwrap)
        options = {a: {"seed": seed, "limits": limits, "work": work.get(a)} for a in assignments}
        tasks = (build_task(job, sources[job.assignment], run_id, options[job.assignment])
                 for job in all_jobs)
        written: set[tuple[str, str]] = set()

        with _progress(len(all_jobs), progress, stream) as bar:
            def record(done: TaskResult) -> None:
                key = (done.result["student_id"], done.result["assignment"])
                if key in written:  # an engine's bug; the row is already on disk
                    print(f"autograder: warning: {terminal_text('/'.join(key))} came back "
                          f"twice; the first result stands", file=stream)
                    return
                written.add(key)
                write_result(done.result, out)
                results.append(done.result)
                per_worker[done.worker] = per_worker.get(done.worker, 0) + 1
                bar.update(1)
                if engine.name != "local":
                    bar.set_postfix_str(f"{len(per_worker)} workers", refresh=False)

            engine.run(tasks, record, run_id)
        threads = sum(engine.workers().values()) or jobs
    finally:
        engine.close()
        grader.close()

    results.sort(key=lambda r: (r["student_id"], r["assignment"]))
    write_grades_csv(results, out / "grades.csv")
    summary = Summary(results, time.monotonic() - started, threads, engine=engine.name,
                      workers=per_worker, work=work)
    summary.grading_seconds = summary.seconds
    if outputs:
        summary.output_errors = write_outputs(results, out, Path(solutions), assignments, stream,
                                              summary.output_seconds, submitted=Path(submitted),
                                              roster=roster)
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
                  submitted: Path | None = None, roster: Any = None) -> list[str]:
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

    def canvas() -> None:  # with a roster (`outputs.canvas.Roster`): Canvas's import file
        from ..outputs.canvas import write_canvas_for_results

        write_canvas_for_results(results, out, roster, solutions, assignments)

    steps = [("feedback", feedback), ("gradebook", gradebook)]
    if submitted is not None:
        steps.append(("formgrader", formgrader))
    steps += [("report", report), ("lms", lms)]
    if roster is not None:
        steps.append(("canvas", canvas))
    for name, action in steps:
        _step(name, action, stream, errors, timings)
    return errors
