"""Start `worker.py` in a sandbox with limits, read its frames with deadlines, kill it all.

How the sandbox is made (bubblewrap as an unprivileged uid, its own namespaces, a seccomp
filter, only the staged runtime and the stage visible) is `command.py`; this module runs it.

Limits: memory (RLIMIT_AS), CPU time (RLIMIT_CPU) and file size are set by the worker on itself
before any student code runs; when the grader may create cgroups (`cgroups.py`: root, cgroup v1
writable) the sandbox also gets a pids cgroup (RLIMIT_NPROC does not bind root) and a memory
cgroup for all its processes together, joined by the grader before the sandbox runs anything;
else RLIMIT_NPROC (an ordinary user's grader cannot create cgroups: it warns that its limits
are rlimits). The grader enforces wall time. After each sandbox every process of it is killed:
through the cgroup, the pid namespace (bwrap) or the process group (fallback).

Without bubblewrap (a TA's laptop) the worker runs as a plain subprocess with the same limits in
its own session; the grader warns once that the file system and other processes are reachable.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import struct
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SandboxUnavailable, UsageError
from .inside import wire
from .cgroups import CgroupSet, SandboxCgroups
from .command import (SANDBOX_ENV, TMPFS_BYTES, bwrap_launch, bwrap_path,  # noqa: F401
                      bwrap_skip_reason, plain_launch, warn_once)

OUTPUT_KEEP_BYTES = 4096


@dataclass(frozen=True)
class Limits:
    """Per-notebook limits. `task_seconds` bounds one check; `wall_seconds` the whole notebook;
    `memory_bytes` each process (RLIMIT_AS) and, with cgroups, the whole sandbox."""

    wall_seconds: float = 60.0
    task_seconds: float = 10.0
    memory_bytes: int = 2 << 30
    processes: int = 64
    file_bytes: int = 16 << 20

    def __post_init__(self) -> None:
        for name in ("wall_seconds", "task_seconds", "memory_bytes", "processes", "file_bytes"):
            if not getattr(self, name) > 0:
                raise UsageError(f"Limits.{name} must be positive, got {getattr(self, name)!r}")

    def for_worker(self) -> dict[str, int]:
        """The limits the worker sets on itself (CPU time gets a second of slack over wall)."""
        return {"memory_bytes": int(self.memory_bytes), "cpu_seconds": int(self.wall_seconds) + 1,
                "processes": int(self.processes), "file_bytes": int(self.file_bytes)}


class Frame(dict):
    """One decoded frame from the worker: its JSON header plus `values` (plain ndarrays);
    `nbytes` is its size on the wire."""

    nbytes: int = 0



class SandboxEnded(Exception):
    """The worker's results pipe closed or carried garbage; `.detail` says which."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class RefusedFrame(SandboxEnded):
    """The worker sent a frame that is malformed or larger than allowed; `read_frame` refused
    it unread. `malformed`: not a frame the worker writes (only the student's code forges
    those); False for a well-formed frame over its bound (a function that returned far too
    much is enough)."""

    def __init__(self, detail: str, malformed: bool = True):
        super().__init__(detail)
        self.malformed = malformed


def _parses(header: bytes) -> bool:
    """True when `header` is a frame header the worker could have written."""
    try:
        wire.parse_header(header)
        return True
    except wire.MalformedFrame:
        return False


class Sandbox:
    """One running worker. Use as a context manager: leaving it kills every process of it.

    Args:
        stage: folder from `build_stage` (mounted read-only at /grader).
        request: header dict for the worker (cells, tasks with encoded args, limits) and blob.
        limits: the notebook's `Limits`.
        cgroups: the run's `SandboxCgroups` (may be unavailable).
        use_bwrap: None = bubblewrap when it works here, else the warned fallback.
    """

    def __init__(self, stage: Path, request: dict[str, Any], blob: bytes, limits: Limits,
                 cgroups: SandboxCgroups | None = None, use_bwrap: bool | None = None):
        self.limits = limits
        self.cgroups = cgroups
        self.group: CgroupSet | None = None
        self.output = bytearray()
        self._tmp: str | None = None
        self._results: int | None = None
        bwrap = bwrap_path() if use_bwrap is not False else None
        if use_bwrap and bwrap is None:
            raise SandboxUnavailable("bubblewrap was required (--sandbox bwrap) but does not work "
                                     "here: install bubblewrap (apt-get install bubblewrap)")
        if bwrap is None:
            warn_once("no-bwrap", "bubblewrap (bwrap) is not available: student code runs in a "
                      "plain subprocess with resource limits, but it can read the file system "
                      "and see other processes. Install bubblewrap (apt-get install bubblewrap).")
        self.isolated = bwrap is not None
        if cgroups is not None and cgroups.available:
            self.group = cgroups.create(limits.processes, limits.memory_bytes)
        elif os.geteuid() == 0:
            warn_once("no-cgroup", "no pids cgroup available: the process count of student code "
                      "is bounded only by RLIMIT_NPROC of the sandbox's uid")
        else:
            warn_once("rlimits-only", "the grader is not root, so it cannot create cgroups: the "
                      "limits of student code are rlimits (memory and CPU time per process, "
                      "processes per uid), not one budget for the whole sandbox")

        read_fd, write_fd = os.pipe()
        self._results = read_fd
        launch = None
        try:
            launch = (bwrap_launch(bwrap, stage, write_fd) if bwrap is not None
                      else plain_launch(stage, write_fd))
            self._tmp = launch.tmp
            self.proc = subprocess.Popen(launch.cmd, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         pass_fds=tuple(launch.pass_fds), env=launch.env,
                                         cwd=launch.cwd, start_new_session=True, **launch.popen)
            # The child waits (bwrap for its arguments, the worker for its request) until it is
            # in the sandbox's cgroups, so nothing of it runs outside them.
            if self.group is not None:
                self.group.join(self.proc.pid)
            if launch.args_fd is not None:
                try:
                    os.write(launch.args_fd, launch.args)  # a few KiB: fits the pipe
                except BrokenPipeError:
                    pass  # bwrap died first: its frames say so (EOF)
        except BaseException:
            self.kill()
            raise
        finally:
            os.close(write_fd)
            if launch is not None:
                for fd in [*launch.pass_fds[1:], launch.args_fd]:
                    if fd is not None:
                        os.close(fd)
        self._buffer = bytearray()
        self._drain = threading.Thread(target=self._drain_output, daemon=True)
        self._drain.start()
        self._feeder = threading.Thread(target=self._send, args=(request, blob), daemon=True)
        self._feeder.start()

    # The student's stdout/stderr: drained so it never blocks, kept only for the first bytes.
    def _drain_output(self) -> None:
        stream = self.proc.stdout
        try:
            fd = stream.fileno()
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                self.output += chunk
                del self.output[:-OUTPUT_KEEP_BYTES]  # keep the tail: where errors are
        except (OSError, ValueError):
            pass
        finally:
            try:
                stream.close()
            except OSError:
                pass

    def _send(self, request: dict[str, Any], blob: bytes) -> None:
        # stdin stays open: a cost-timed task waits for `release_timed_task`'s byte, and after
        # its result for `acknowledge_timed_task`'s
        head = json.dumps({**request, "blob_bytes": len(blob)}).encode()
        try:
            self.proc.stdin.write(struct.pack("<Q", len(head)) + head + blob)
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass  # the worker died before reading: its frames say so (EOF)

    def release_timed_task(self) -> bool:
        """Let the worker start its next cost-timed task (it waits for one byte on stdin).

        Call it right after reading the sandbox's CPU time. Returns False when the worker had
        not waited: a result is already there before the task was released, so its CPU time
        cannot be attributed (`checks/cost.py` fails such a run).
        """
        self._feeder.join(timeout=10)
        early = bool(self._buffer) or bool(select.select([self._results], [], [], 0)[0])
        self._send_byte()
        return not early

    def acknowledge_timed_task(self) -> None:
        """Let the worker go on after a cost-timed task's result (it waits for one byte on
        stdin, so its processes are alive, idle, while the grader reads their CPU time)."""
        self._send_byte()

    def _send_byte(self) -> None:
        try:
            self.proc.stdin.write(b"\x01")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass  # the worker is gone: its frames say so (EOF)

    def read_frame(self, deadline: float, stop: threading.Event | None = None,
                   max_bytes: int | None = None) -> Frame | None:
        """The next frame, or None when `deadline` (time.monotonic) passed first.

        Args:
            max_bytes: the most this frame may hold, framing, header and data together
                (default: wire's ceilings). A frame that announces more is refused before its
                data is read, so the grader never holds more of it than `max_bytes`.

        Raises SandboxEnded (its detail a plain sentence) when the worker closed its results
        pipe, RefusedFrame (a SandboxEnded) when it sent a frame that is malformed, nested too
        deeply or larger than allowed, and
        KeyboardInterrupt when `stop` is set (the run was cancelled). The frame's size in bytes
        is `frame.nbytes`.
        """
        limit = wire.FRAME_OVERHEAD + wire.MAX_HEADER_BYTES + wire.MAX_BLOB_BYTES
        limit = limit if max_bytes is None else min(int(max_bytes), limit)
        head = self._read_exact(4 + 4, deadline, stop)
        if head is None:
            return None
        if head[:4] != wire.MAGIC:
            raise RefusedFrame("the grading process sent bytes that are not a result frame")
        (hlen,) = struct.unpack("<I", head[4:])
        if hlen > wire.MAX_HEADER_BYTES or wire.FRAME_OVERHEAD + hlen > limit:
            raise RefusedFrame(f"the grading process sent a result header of {hlen} bytes, "
                               f"more than a result may need")
        body = self._read_exact(hlen + 8, deadline, stop)
        if body is None:
            return None
        (blen,) = struct.unpack("<Q", body[hlen:])
        size = wire.FRAME_OVERHEAD + hlen + blen
        if size > limit:  # refused before reading: the grader's memory does not follow blen
            raise RefusedFrame(f"the grading process sent a result of {size} bytes, more than "
                               f"the {limit} bytes this result may need",
                               malformed=not _parses(body[:hlen]))
        blob = self._read_exact(blen, deadline, stop) if blen else b""
        if blob is None:
            return None
        try:
            header = wire.parse_header(body[:hlen])
            frame = Frame(header)
            arrays = header.get("arrays") or {}
            if not isinstance(arrays, dict):
                raise ValueError("arrays is not an object")
            frame["values"] = wire.decode_arrays(arrays, blob)
            if any(not hasattr(v, "dtype") for v in frame["values"].values()):
                raise ValueError("a value is not an array")
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            raise RefusedFrame(f"the grading process sent a malformed result ({exc})") from None
        frame.nbytes = size
        return frame

    def _read_exact(self, n: int, deadline: float, stop: threading.Event | None) -> bytes | None:
        while len(self._buffer) < n:
            if stop is not None and stop.is_set():
                raise KeyboardInterrupt
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._results], [], [], min(left, 0.2))
            if not ready:
                continue
            chunk = os.read(self._results, max(65536, n - len(self._buffer)))
            if not chunk:
                raise SandboxEnded(self._ended_detail())
            self._buffer += chunk
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    def last_output_line(self) -> str:
        """The last line the worker printed (e.g. the error that stopped it), truncated."""
        self._drain.join(timeout=0.5)
        lines = bytes(self.output).decode("utf-8", errors="replace").strip().splitlines()
        return lines[-1][:200] if lines else ""

    def _ended_detail(self) -> str:
        try:
            code = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "the grading process closed its results channel"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the grading process was killed by {name}"
        return f"the grading process exited (exit code {code})"

    def kill(self) -> None:
        """Kill the worker and everything it started; safe to call twice."""
        proc = getattr(self, "proc", None)
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.kill()
            except ProcessLookupError:
                pass
        if self.group is not None:
            self.group.kill()
            self.group = None
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            if not self.isolated:
                try:  # the fallback: anything left in the session's process group
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            for thread in (getattr(self, "_drain", None), getattr(self, "_feeder", None)):
                if thread is not None:
                    thread.join(timeout=1.0)  # the drain closes stdout at EOF
        if self._results is not None:
            try:
                os.close(self._results)
            except OSError:
                pass
            self._results = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def preflight(stage: Path, limits: Limits, cgroups: SandboxCgroups | None = None,
              use_bwrap: bool | None = None) -> None:
    """Start one empty sandbox to prove the worker runs here (Python, numpy, the drivers).

    Raises SandboxUnavailable with the worker's last output otherwise, before a class is graded as
    a column of errors.
    """
    request = {"cells": [], "tasks": [], "limits": limits.for_worker()}
    with Sandbox(stage, request, b"", limits, cgroups, use_bwrap) as sandbox:
        try:
            frame = sandbox.read_frame(time.monotonic() + 60)
            detail = ("no answer within 60 s" if frame is None
                      else f"unexpected {frame.get('event')}")
        except SandboxEnded as ended:
            frame, detail = None, ended.detail
        if frame is None or frame.get("event") != "loaded":
            raise SandboxUnavailable(f"the sandbox cannot run the grader's worker ({detail}): "
                               f"{sandbox.last_output_line() or 'no output'}")
