"""One notebook's task: what travels to whoever grades it, and the one function that grades it.

The command, on its own machine, reads each notebook's bytes from `SUBMITTED` without following
a link (`read_submission`) and packs a `GradeTask`: the bytes, the student id, the assignment,
the trusted source notebook (parsed by the command), the seed and the limits the command
measured, and the options `grade_notebook` takes. Every engine sends the same *wire* form to
the same function, `grade_task`:

    wire = {"fingerprint": str, "run_id": str, "payload": bytes}   # payload: pickle of GradeTask

The thread pool calls it in this process (`engines.local`), a Dask worker in its own
(`engines.dask_engine`); a worker opens no file of `SUBMITTED` or `OUT`, it only has the bytes.
The worker compares the kit fingerprint (`engines.fingerprint`) *before* it unpickles anything,
so a worker of another kit version refuses with a reason instead of failing on a changed class.
`grade_task` returns plain data, `{"worker": str, "refused": str, "result": dict | None}`; the
command turns it into a `TaskResult` with `receive` (a refusal raises `WorkerRefused`) and writes
every output itself.

Cancelling: `cancel_run(run_id)` stops every task of that run in this process (the running
sandboxes are killed, the next tasks refuse to start), whichever engine called it.
"""
from __future__ import annotations

import atexit
import pickle
import shutil
import sys
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..errors import GraderError, SandboxUnavailable
from ..outputs.safe_text import terminal_text
from ..pipeline.discover import Job, read_notebook
from ..pipeline.grade import Checks, default_checks, grade_notebook, internal_error, unreadable
from ..pipeline.notebook import SourceNotebook
from ..pipeline.safe_files import UnsafeFile
from ..sandbox.uid import own_temp_folder
from ..sandbox.launch import Limits, SandboxCgroups, bwrap_skip_reason, preflight
from ..sandbox.stage import build_stage, warm_bytecode
from .fingerprint import KIT_ROOT, kit_fingerprint

LOCAL_WORKER = "local"
"""The worker name of every result graded by the command's own thread pool."""


class WorkerRefused(GraderError):
    """A worker refused a task: it runs another version of the kit (its fingerprint differs)
    or it cannot run the sandbox; the message says which worker and why."""


class TaskCancelled(Exception):
    """The task's run was cancelled (Ctrl-C on the command); its sandbox was killed."""


@dataclass(frozen=True)
class GradeTask:
    """One (student, assignment) with everything needed to grade it anywhere.

    Attributes:
        run_id: the grading run (for `cancel_run`).
        student_id, assignment: the row.
        notebook: the notebook's bytes as the command read them; None when there is none.
        status: "" to grade; "missing" (no notebook) or "error" (refused: a link, a FIFO, too
            large) when the command could not read one, `reason` says why.
        source: the trusted source notebook, parsed by the command.
        options: keyword arguments of `grade_notebook` (seed, limits, measured limits, ...).
    """

    run_id: str
    student_id: str
    assignment: str
    notebook: bytes | None
    status: str
    reason: str
    source: SourceNotebook
    options: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """The form an engine sends: builtins only, the fingerprint outside the pickle."""
        return {"fingerprint": kit_fingerprint(), "run_id": self.run_id,
                "payload": pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)}


@dataclass(frozen=True)
class TaskResult:
    """What came back: the curriculum's result dict (with `seconds`) and who graded it."""

    result: dict[str, Any]
    worker: str


def read_submission(job: Job) -> tuple[bytes | None, str, str]:
    """The notebook of `job` as (bytes, status, reason), read on the command's machine.

    `SUBMITTED/<student_id>/<a>/<a>.ipynb` is opened component by component without following
    a link (`discover.read_notebook`): a linked student folder (`job.refused`), a link, a
    special file or an oversized file gives (None, "error", why), a file that vanished
    (None, "missing", why), a job without a notebook (None, "missing", its reason); else
    (bytes, "", "").
    """
    if job.refused:
        return None, "error", job.refused
    if job.notebook is None:
        return None, "missing", job.reason
    try:
        return read_notebook(job), "", ""
    except UnsafeFile as exc:
        return None, ("missing" if exc.missing else "error"), exc.reason


def build_task(job: Job, source: SourceNotebook, run_id: str,
               options: dict[str, Any]) -> GradeTask:
    """The task of `job`: its notebook read now (`read_submission`), the rest as given."""
    data, status, reason = read_submission(job)
    return GradeTask(run_id=run_id, student_id=job.student_id, assignment=job.assignment,
                     notebook=data, status=status, reason=reason, source=source,
                     options=dict(options))


class Grader:
    """What grading needs on one machine: the checks, a stage per assignment (built on first
    use, in a private temporary folder), the run's cgroups, the sandbox mode.

    Args:
        checks: the checks registry (`grade.default_checks()` on a worker).
        use_bwrap: None = bubblewrap when it works, True = required, False = plain subprocess.
        stream: where a grader bug's traceback goes (the row says "please report it").
    """

    def __init__(self, checks: Checks, use_bwrap: bool | None = None,
                 stream: TextIO | None = None):
        self.checks, self.use_bwrap, self.stream = checks, use_bwrap, stream
        self.root = own_temp_folder("autograder-stage")  # a killed worker's is swept later
        self.cgroups = SandboxCgroups()
        self._stages: dict[str, Path] = {}
        self._lock = threading.Lock()

    def stage(self, assignment: str) -> Path:
        """The sandbox's stage of `assignment` (`sandbox.stage.build_stage`), built once."""
        with self._lock:
            if assignment not in self._stages:
                self._stages[assignment] = build_stage(assignment, self.checks.drivers,
                                                       self.root / assignment)
            return self._stages[assignment]

    def preflight(self, assignment: str, limits: Limits) -> None:
        """Prove the sandbox runs here (raises SandboxUnavailable with the reason otherwise)."""
        warm_bytecode()
        preflight(self.stage(assignment), limits, self.cgroups, self.use_bwrap)

    def grade(self, task: GradeTask, stop: threading.Event | None = None) -> dict[str, Any]:
        """The result dict of `task` (never raises for anything the submission does).

        Raises KeyboardInterrupt when `stop` is set, SandboxUnavailable when the machine
        cannot run the sandbox at all.
        """
        job = Job(task.student_id, task.assignment, task.notebook, task.reason)
        if task.status == "error":
            return unreadable(job, task.source, task.reason)
        try:
            return grade_notebook(job, task.source, self.checks, self.stage(task.assignment),
                                  cgroups=self.cgroups, use_bwrap=self.use_bwrap, stop=stop,
                                  **task.options)
        except (KeyboardInterrupt, SandboxUnavailable):
            raise
        except Exception as exc:  # a grader bug on one notebook: a row, not a crash
            lines = traceback.format_exc().splitlines()  # it quotes what the student sent
            print("\n".join(terminal_text(line) for line in lines),
                  file=self.stream or sys.stderr)
            return internal_error(job, task.source, exc)

    def close(self) -> None:
        """Remove the stages and the cgroups (every sandbox has ended by then)."""
        self.cgroups.close()
        shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Runs and their cancellation, per process.

_stops: dict[str, threading.Event] = {}
_stops_lock = threading.Lock()


def run_stop(run_id: str) -> threading.Event:
    """The event that cancels every task of `run_id` in this process."""
    with _stops_lock:
        return _stops.setdefault(run_id, threading.Event())


def cancel_run(run_id: str) -> bool:
    """Cancel the run's tasks in this process: running sandboxes are killed, later tasks of
    the run refuse to start. Returns True (a Dask `client.run` wants a value)."""
    run_stop(run_id).set()
    return True


# --------------------------------------------------------------------------------------------
# A worker's side: its own grader, built from its own kit.

_worker_grader: Grader | None = None
_worker_lock = threading.Lock()
_sandbox_status: list[str | None] = []


def worker_grader() -> Grader:
    """This process's grader for tasks from elsewhere: the kit's own checks, bubblewrap
    required. Built once, removed at exit."""
    global _worker_grader
    with _worker_lock:
        if _worker_grader is None:
            _worker_grader = Grader(default_checks(), use_bwrap=True)
            atexit.register(_worker_grader.close)
        return _worker_grader


def sandbox_status() -> str | None:
    """None when this machine can grade in bubblewrap (bwrap works, an empty sandbox of the
    first assignment starts and answers), else the reason. Checked once per process."""
    from ..registry import ASSIGNMENTS

    with _worker_lock:
        if _sandbox_status:
            return _sandbox_status[0]
    reason = bwrap_skip_reason()
    if reason is None:
        try:
            worker_grader().preflight(ASSIGNMENTS[0], Limits())
        except SandboxUnavailable as exc:
            reason = str(exc)
    with _worker_lock:
        if not _sandbox_status:
            _sandbox_status.append(reason)
        return _sandbox_status[0]


def worker_name() -> str:
    """The Dask worker running this call (its name, else its address), else `LOCAL_WORKER`."""
    if "distributed" in sys.modules:
        from distributed import get_worker

        try:
            worker = get_worker()
        except ValueError:
            return LOCAL_WORKER
        return str(worker.name) if worker.name is not None else str(worker.address)
    return LOCAL_WORKER


def grade_task(wire: dict[str, Any], grader: Grader | None = None) -> dict[str, Any]:
    """Grade one task (see the module docstring): the function every engine runs.

    Args:
        wire: `GradeTask.to_wire()`.
        grader: the command's own grader (the local engine); None on a worker, which uses
            `worker_grader()`.

    Returns:
        `{"worker", "refused", "result"}`: `refused` is empty, or says why this worker would
        not grade it (another kit version, no working sandbox; `result` is None then).

    Raises:
        TaskCancelled: the run was cancelled (`cancel_run`).
        SandboxUnavailable: the command's own machine cannot run the sandbox (`grader` given).
    """
    worker = worker_name()
    mine, theirs = kit_fingerprint(), str(wire.get("fingerprint"))
    if theirs != mine:
        return {"worker": worker, "result": None,
                "refused": f"worker {worker} runs another version of the kit (fingerprint "
                           f"{mine}, at {KIT_ROOT}) than the command (fingerprint {theirs}): "
                           f"update that machine's copy of the kit and its packages, then "
                           f"start its worker again"}
    stop = run_stop(str(wire.get("run_id")))
    if stop.is_set():
        raise TaskCancelled("the grading run was cancelled")
    task: GradeTask = pickle.loads(wire["payload"])
    try:
        result = (grader or worker_grader()).grade(task, stop)
    except KeyboardInterrupt:
        raise TaskCancelled("the grading run was cancelled") from None
    except SandboxUnavailable as exc:
        if grader is not None:  # the command's own machine: its error, as before
            raise
        return {"worker": worker, "result": None,
                "refused": f"worker {worker} cannot run the sandbox: {exc}"}
    return {"worker": worker, "refused": "", "result": result}


def receive(envelope: dict[str, Any]) -> TaskResult:
    """The command's side of `grade_task`'s answer.

    Raises:
        WorkerRefused: the worker refused the task, with its reason.
    """
    if envelope.get("refused"):
        raise WorkerRefused(str(envelope["refused"]))
    return TaskResult(result=envelope["result"], worker=str(envelope["worker"]))
