"""The CPU time a sandbox has used so far, read from outside it (runs in the GRADER).

`tree_cpu_seconds(pid)` sums user + system time of the process `pid` and of every process
descended from it (found by the parent pids in ``/proc/<pid>/stat``), plus the times of
children they have reaped (``cutime`` / ``cstime``); zombies still count. The grader reads it
after each task's frame (`pipeline/task_run.py`): the difference between two readings is the
CPU time of the task in between, which the `not_backprop` rule (`checks/cost.py`) compares
with its bound. Nothing inside the sandbox is asked or trusted: the kernel's accounting of
the sandbox's processes is the measure, so the student's code cannot fake it (it can only
spend more time, never less). Resolution: one clock tick (10 ms on Linux).

Limit: without bubblewrap (the weaker fallback), a process the student double-forks away is
re-parented outside the tree and its time is lost; under bubblewrap the sandbox's own pid 1
adopts it, inside the tree.
"""
from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
_TICK = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0


def _stat(pid_dir: Path) -> tuple[int, float] | None:
    """(parent pid, user + system + reaped children's seconds) of one /proc entry, or None."""
    try:
        text = (pid_dir / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()  # after "pid (comm) ": state ppid ...
    try:
        ppid = int(fields[1])
        ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    except (IndexError, ValueError):
        return None
    return ppid, ticks / _TICK


def _children(proc: Path, pid: int) -> list[int] | None:
    """The children of `pid` from /proc/<pid>/task/<tid>/children, or None where the kernel
    has no such file (then the caller scans all of /proc)."""
    found: list[int] = []
    try:
        tasks = list((proc / str(pid) / "task").iterdir())
    except OSError:
        return []
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            continue
    return found


def tree_cpu_seconds(pid: int, proc: Path = PROC) -> float | None:
    """CPU seconds used so far by process `pid` and all its descendants, or None when `pid`
    is gone or /proc cannot be read.

    Walks the children files (a few reads per sandbox); where the kernel lacks them, scans
    every /proc entry's parent pid instead.

    Args:
        pid: the sandbox's outermost process (bubblewrap, or the worker in the fallback).
        proc: the proc file system (tests may pass a fake one).
    """
    root = _stat(proc / str(pid))
    if root is None:
        return None
    if _children(proc, pid) is None:
        return _scan(pid, proc)
    total, todo, seen = 0.0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        stat = _stat(proc / str(current))
        if stat is None:
            continue  # ended between the two reads: its time is in its parent's cutime
        total += stat[1]
        todo.extend(_children(proc, current) or ())
    return total


def _scan(pid: int, proc: Path) -> float | None:
    """`tree_cpu_seconds` by the parent pid of every /proc entry."""
    stats: dict[int, tuple[int, float]] = {}
    try:
        entries = [entry for entry in proc.iterdir() if entry.name.isdigit()]
    except OSError:
        return None
    for entry in entries:
        stat = _stat(entry)
        if stat is not None:
            stats[int(entry.name)] = stat
    if pid not in stats:
        return None
    children: dict[int, list[int]] = {}
    for child, (parent, _seconds) in stats.items():
        children.setdefault(parent, []).append(child)
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += stats[current][1]
        todo.extend(children.get(current, ()))
    return total
