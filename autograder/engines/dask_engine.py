"""The cluster engine (`--scheduler`): the workers of a Dask scheduler grade; the command writes.

    python -m autograder grade SUBMITTED --output OUT --scheduler tcp://HOST:8786

`start` connects (a scheduler that does not answer within `connect_timeout` is a
`SchedulerUnreachable`, before anything is graded), waits for a worker, and asks every worker
to describe itself (`describe_worker`, run there): a worker whose kit fingerprint differs from
the command's, or that cannot run the sandbox (no bubblewrap, no user namespaces), makes the
cluster `ClusterRefused`, with each worker's reason. `run` submits `task.grade_task` on each
task's wire form (the notebook's bytes travel in it; a worker opens no file of `SUBMITTED` or
`OUT`), at most `4 x threads` at a time, and hands each result to the command as it arrives.
A worker that joins later and runs another kit refuses the tasks it gets (`task.WorkerRefused`).

Faults: a worker lost mid-run (killed, its machine gone) costs only time: the scheduler gives
its tasks to other workers, and each future completes once, so each row is written once (a task
that kills three workers is given up: `ClusterError`). Ctrl-C: every worker cancels the run
(`task.cancel_run`, its sandboxes are killed), the pending tasks are cancelled on the
scheduler, and the interrupt goes on to the command, which writes no class-level file.

Security: whoever reaches the scheduler can run code on the workers (that is what Dask is for)
and read what travels, students' notebooks included. `tls://` addresses take Dask's security
settings (`security_for`: certificate files, or Dask's own configuration); plain `tcp://` is for
a private network only, and the command warns when it is not a loopback address.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import sys
import time
from typing import Any, Callable, Iterable, TextIO
from urllib.parse import urlsplit

from ..errors import GraderError, UsageError
from .fingerprint import KIT_ROOT, kit_fingerprint
from .task import GradeTask, TaskResult, cancel_run, receive, sandbox_status

CONNECT_TIMEOUT = 20.0
"""Seconds to reach the scheduler before the command gives up (before any grading)."""
WORKER_TIMEOUT = 60.0
"""Seconds to wait for a first worker to join the scheduler."""


class ClusterError(GraderError):
    """The cluster cannot grade this class (the message says why, and what to do)."""


class SchedulerUnreachable(ClusterError):
    """No scheduler answered at the address."""


class ClusterRefused(ClusterError):
    """A worker of the cluster runs another kit version or cannot run the sandbox."""


def parse_address(address: str) -> tuple[str, str, int]:
    """('tcp' | 'tls', host, port) of a scheduler address such as tcp://10.0.0.5:8786.

    Raises UsageError for anything else.
    """
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None:
        raise UsageError(f"scheduler address {address!r} is not tcp://HOST:PORT or "
                         f"tls://HOST:PORT")
    return parts.scheme, parts.hostname, port


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (a plain tcp:// scheduler is fine there)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def security_for(address: str, ca_file: str | None = None, cert: str | None = None,
                 key: str | None = None, role: str = "client") -> Any:
    """Dask's `Security` for `address`, or None for tcp://.

    For tls:// with `ca_file`, `cert` and `key` (PEM files: the cluster's CA, this side's
    certificate and private key): mutual TLS, encryption required. For tls:// without them:
    Dask's own configuration (`distributed.comm.tls.*` in ~/.config/dask/*.yaml or
    DASK_DISTRIBUTED__COMM__TLS__* variables). `role` is "client" (the command) or "worker".

    Raises UsageError when certificate files are given for tcp:// or only some are given.
    """
    scheme, _, _ = parse_address(address)
    given = [f for f in (ca_file, cert, key) if f]
    if scheme == "tcp":
        if given:
            raise UsageError("--tls-ca-file/--tls-cert/--tls-key need a tls:// scheduler address")
        return None
    from distributed.security import Security

    if not given:
        security = Security()
        if security.get_connection_args(role)["ssl_context"] is None:
            raise UsageError(f"{address} is tls:// but Dask's configuration holds no certificates: "
                             f"give --tls-ca-file, --tls-cert and --tls-key, or set "
                             f"distributed.comm.tls.ca-file and distributed.comm.tls.{role}.cert "
                             f"/ .key")
        return security
    if len(given) != 3:
        raise UsageError("give all of --tls-ca-file, --tls-cert and --tls-key (or none, to use "
                         "Dask's TLS configuration)")
    for path in given:
        if not os.path.isfile(path):
            raise UsageError(f"TLS file {path} does not exist")
    if role == "worker":
        return Security(tls_ca_file=ca_file, tls_worker_cert=cert, tls_worker_key=key,
                        require_encryption=True)
    return Security(tls_ca_file=ca_file, tls_client_cert=cert, tls_client_key=key,
                    require_encryption=True)


def describe_worker() -> dict[str, Any]:
    """Run on a worker: its kit fingerprint, whether its sandbox works (None, or why not),
    where its kit lives, its host and pid."""
    return {"fingerprint": kit_fingerprint(), "sandbox": sandbox_status(), "kit": str(KIT_ROOT),
            "host": socket.gethostname(), "pid": os.getpid()}


def _task_function() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """`task.grade_task` behind a stub that pickles *by value* and imports the kit only when it
    runs: the scheduler unpickles every task it is given, and it needs no copy of the kit
    (`dask scheduler` from a plain `pip install distributed==<pin>` will do)."""
    def grade_on_worker(wire: dict[str, Any]) -> dict[str, Any]:
        import importlib

        return importlib.import_module("autograder.engines.task").grade_task(wire)

    return grade_on_worker


class DaskEngine:
    """Grade on the workers of the Dask scheduler at `address` (see the module docstring).

    Args:
        address: tcp://HOST:PORT or tls://HOST:PORT.
        security: Dask's Security for tls:// (`security_for`); None for tcp://.
        connect_timeout: seconds to reach the scheduler (default `CONNECT_TIMEOUT`).
        worker_timeout: seconds to wait for a first worker (default `WORKER_TIMEOUT`).
    """

    name = "dask"

    def __init__(self, address: str, security: Any = None, connect_timeout: float | None = None,
                 worker_timeout: float | None = None):
        parse_address(address)
        self.address, self.security = address, security
        self.connect_timeout = CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
        self.worker_timeout = WORKER_TIMEOUT if worker_timeout is None else worker_timeout
        self.client: Any = None
        self.described: dict[str, dict[str, Any]] = {}

    def start(self, stream: TextIO) -> None:
        """Connect, wait for a worker, check every worker (module docstring).

        Raises SchedulerUnreachable, ClusterError (no worker) or ClusterRefused.
        """
        scheme, host, _ = parse_address(self.address)
        if scheme == "tcp" and not is_loopback(host):
            print(f"autograder: warning: {self.address} is plain tcp: anyone on the network "
                  f"between the command and the workers can read the notebooks and, through "
                  f"the scheduler, run code on the workers. Use it on a private network only, "
                  f"or tls:// (README, 'Grading a MOOC').", file=stream)
        from distributed import Client

        try:
            self.client = Client(self.address, security=self.security,
                                 timeout=self.connect_timeout, set_as_default=False,
                                 direct_to_workers=False)
        except (OSError, TimeoutError) as exc:
            raise SchedulerUnreachable(
                f"no Dask scheduler answered at {self.address} within {self.connect_timeout:g} s "
                f"({type(exc).__name__}: {exc}); start one with `dask scheduler` and check the "
                f"address, the firewall and, for tls://, the certificates") from None
        try:
            self.client.wait_for_workers(1, timeout=self.worker_timeout)
        except TimeoutError:
            raise ClusterError(f"the scheduler at {self.address} has no worker after "
                               f"{self.worker_timeout:g} s: start `python -m autograder worker "
                               f"{self.address}` on each grading machine") from None
        self.check_workers()

    def check_workers(self) -> dict[str, dict[str, Any]]:
        """Describe every worker now joined; refuse the cluster if one cannot grade with this
        kit. Returns address -> `describe_worker()`."""
        answers = self.client.run(describe_worker, on_error="return")
        mine = kit_fingerprint()
        problems = []
        for address, info in sorted(answers.items()):
            if isinstance(info, BaseException):
                problems.append(f"{address} cannot run the kit's code ({type(info).__name__}: "
                                f"{info}); start it with `python -m autograder worker` from a "
                                f"copy of the kit")
            elif info["fingerprint"] != mine:
                problems.append(f"{address} ({info['host']}, kit at {info['kit']}) runs another "
                                f"version of the kit (fingerprint {info['fingerprint']}, the "
                                f"command's is {mine}): update its copy of the kit and restart it")
            elif info["sandbox"] is not None:
                problems.append(f"{address} ({info['host']}) cannot run the sandbox: "
                                f"{info['sandbox']}")
        if problems:
            raise ClusterRefused("the cluster cannot grade this class: " + "; ".join(problems))
        self.described = answers
        return answers

    def workers(self) -> dict[str, int]:
        """Worker name (or address) -> threads, as the scheduler knows them now."""
        if self.client is None:
            return {}
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        return {str(w.get("name") or a): int(w.get("nthreads", 0)) for a, w in info.items()}

    def _window(self) -> int:
        return max(8, 4 * sum(self.client.nthreads().values()))

    def run(self, tasks: Iterable[GradeTask], on_result: Callable[[TaskResult], None],
            run_id: str) -> None:
        """Grade every task on the cluster; `on_result` gets each result exactly once."""
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        function = _task_function()
        queue = iter(tasks)
        pending: dict[str, str] = {}  # key -> "student/assignment"
        futures: dict[str, Any] = {}
        # results are fetched in the client's event loop as tasks finish, many at once
        done_keys = as_completed(loop=self.client.loop, with_results=True)
        counter = 0
        window, window_at = self._window(), time.monotonic()

        def top_up() -> None:
            nonlocal counter
            while len(pending) < window:
                task = next(queue, None)
                if task is None:
                    return
                counter += 1
                key = f"autograder-{run_id}-{counter}"
                futures[key] = self.client.submit(function, task.to_wire(), pure=False, key=key)
                pending[key] = f"{task.student_id}/{task.assignment}"
                done_keys.add(futures[key])

        try:
            top_up()
            while pending:
                try:
                    future, envelope = next(done_keys)
                except KilledWorker as exc:
                    what = pending.get(str(exc.task), str(exc.task))
                    raise ClusterError(f"the notebook {what!r} was lost with every worker that "
                                       f"graded it ({exc}); the cluster gave up on it") from None
                pending.pop(future.key, None)
                futures.pop(future.key, None)
                future.release()
                on_result(receive(envelope))
                if time.monotonic() - window_at > 5.0:
                    window, window_at = self._window(), time.monotonic()
                top_up()
        except BaseException:
            self._cancel(run_id, list(futures.values()))
            raise

    def _cancel(self, run_id: str, futures: list[Any]) -> None:
        """Stop the run on every worker (their sandboxes are killed) and drop its futures."""
        try:
            self.client.cancel(futures, force=True)
            self.client.run(cancel_run, run_id, on_error="ignore")
        except Exception as exc:  # a lost connection: the workers end the run when the tasks go
            print(f"autograder: warning: could not cancel the run on the cluster "
                  f"({type(exc).__name__}: {exc})", file=sys.stderr)

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close(timeout=10)
            finally:
                self.client = None
