"""`python -m autograder worker tcp://HOST:PORT [--nworkers N]`: a grading machine joins a cluster.

Run from a copy of the kit (a clone at the command's commit, with its environment and
bubblewrap). Before it accepts a task it proves this machine can grade: bubblewrap works and an
empty sandbox starts and answers (`task.sandbox_status`, the grader's own preflight); if not, it
says why and exits 2 without joining. It prints the kit's fingerprint (the command's tasks carry
theirs; a task of another kit version is refused). Then it starts `--nworkers` Dask workers
(processes; the first in this one) with `--nthreads` threads each (default: the machine's cores
divided among them): each thread grades one notebook at a time in its own sandbox. Exit codes:
0 after SIGINT / SIGTERM or when the scheduler closes, 2 when the machine cannot grade or the
scheduler does not answer within `--connect-timeout`.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
from typing import Any

from ..errors import GraderError
from .fingerprint import KIT_ROOT, kit_fingerprint

PROG = "python -m autograder worker"


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return os.cpu_count() or 1


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The worker's arguments (added to `parser`, the CLI's `worker` sub-command, if given)."""
    parser = parser or argparse.ArgumentParser(prog=PROG)
    parser.add_argument("scheduler", metavar="SCHEDULER",
                        help="the Dask scheduler, tcp://HOST:PORT (private network only) or "
                             "tls://HOST:PORT")
    parser.add_argument("--nworkers", type=int, default=1, metavar="N",
                        help="worker processes on this machine (default 1)")
    parser.add_argument("--nthreads", type=int, default=None, metavar="T",
                        help="notebooks each worker grades at once (default: cores / N)")
    parser.add_argument("--name", default=None,
                        help="this worker's name in the summary (default: HOST-PID)")
    parser.add_argument("--host", default=None,
                        help="address to listen on (default: the one that reaches the "
                             "scheduler)")
    parser.add_argument("--port", type=int, default=0,
                        help="port to listen on (default 0: any free port; with N workers, "
                             "PORT, PORT+1, ...)")
    parser.add_argument("--connect-timeout", type=float, default=60.0, metavar="SECONDS",
                        help="give up when the scheduler does not answer (default 60)")
    parser.add_argument("--tls-ca-file", default=None, help="tls://: the cluster's CA (PEM)")
    parser.add_argument("--tls-cert", default=None, help="tls://: this worker's certificate")
    parser.add_argument("--tls-key", default=None, help="tls://: this worker's private key")
    return parser


def check_machine() -> str | None:
    """None when this machine can grade in bubblewrap, else why not (a sentence)."""
    from .task import sandbox_status

    return sandbox_status()


def run(args: argparse.Namespace) -> int:
    """Check the machine, then serve (see the module docstring). Returns the exit code."""
    from .dask_engine import parse_address, security_for

    try:
        parse_address(args.scheduler)
        security = security_for(args.scheduler, args.tls_ca_file, args.tls_cert, args.tls_key,
                                role="worker")
        if args.nworkers < 1 or (args.nthreads is not None and args.nthreads < 1):
            raise GraderError("--nworkers and --nthreads must be at least 1")
    except GraderError as exc:
        print(f"autograder: error: {exc}", file=sys.stderr)
        return 2
    nthreads = args.nthreads or max(1, _cores() // args.nworkers)
    reason = check_machine()
    if reason is not None:
        print(f"autograder: error: this machine cannot grade, so it does not join "
              f"{args.scheduler}: {reason}", file=sys.stderr)
        return 2
    name = args.name or f"{socket.gethostname()}-{os.getpid()}"
    print(f"autograder worker: kit {kit_fingerprint()} at {KIT_ROOT}; sandbox ok; "
          f"{args.nworkers} x {nthreads} threads for {args.scheduler}", file=sys.stderr,
          flush=True)
    children = _start_children(args, nthreads, name) if args.nworkers > 1 else []
    try:
        return asyncio.run(_serve(args, security, nthreads, name if not children else f"{name}-0"))
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()


def _start_children(args: argparse.Namespace, nthreads: int, name: str) -> list[subprocess.Popen]:
    """Workers 1..N-1 as processes of their own (same arguments, one worker each)."""
    children = []
    for i in range(1, args.nworkers):
        argv = [sys.executable, "-m", "autograder", "worker", args.scheduler, "--nworkers", "1",
                "--nthreads", str(nthreads), "--name", f"{name}-{i}",
                "--connect-timeout", str(args.connect_timeout)]
        if args.host:
            argv += ["--host", args.host]
        if args.port:
            argv += ["--port", str(args.port + i)]
        for flag, value in (("--tls-ca-file", args.tls_ca_file), ("--tls-cert", args.tls_cert),
                            ("--tls-key", args.tls_key)):
            if value:
                argv += [flag, value]
        children.append(subprocess.Popen(argv, cwd=str(KIT_ROOT)))
    return children


async def _serve(args: argparse.Namespace, security: Any, nthreads: int, name: str) -> int:
    from distributed import Worker

    worker = Worker(args.scheduler, nthreads=nthreads, name=name, security=security,
                    host=args.host, port=args.port or None, dashboard=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await asyncio.wait_for(worker.start(), timeout=args.connect_timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        print(f"autograder: error: no Dask scheduler answered at {args.scheduler} within "
              f"{args.connect_timeout:g} s ({type(exc).__name__}: {exc})", file=sys.stderr)
        await worker.close(timeout=5)
        return 2
    print(f"autograder worker: {name} joined {args.scheduler} as {worker.address}",
          file=sys.stderr, flush=True)
    finished = asyncio.ensure_future(worker.finished())
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({finished, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not finished.done():
        await worker.close(timeout=10)
    stopped.cancel()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m autograder worker` (the CLI hands its arguments here)."""
    return run(build_parser().parse_args(argv))
