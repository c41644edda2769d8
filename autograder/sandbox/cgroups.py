"""Limits that bind root: a pids and a memory cgroup (v1) per sandbox, under one per grading run.

`RLIMIT_NPROC` binds neither root (CI grades as root) nor processes inside a user namespace,
and `RLIMIT_AS` bounds each process, not a sandbox of many. So, when the grader may create
cgroups (root, cgroup v1 mounted and writable), every sandbox gets its own pids cgroup
(`pids.max`) and its own memory cgroup (`memory.limit_in_bytes`, which also counts its tmpfs).
The pids cgroup is also how every process of a sandbox is found and killed afterwards, daemons
included. Everything degrades to "unavailable" elsewhere (a TA's laptop), where the worker's
rlimits are all there is.

Layout: `/sys/fs/cgroup/pids/autograder-<grader pid>-<token>/<sandbox>/` and the same name under
the grader's own memory cgroup. A run removes its folders when it closes; folders of a grader
that died (SIGKILL) are swept by the next run.
"""
from __future__ import annotations

import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PIDS_CGROUP_ROOT = CGROUP_ROOT / "pids"


def memory_root() -> Path | None:
    """The grader's own memory cgroup (v1), under which sandboxes' memory cgroups go."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            root = CGROUP_ROOT / "memory" / path.lstrip("/")
            return root if (root / "cgroup.procs").exists() else None
    return None


def _kill_all(procs_file: Path) -> None:
    """SIGKILL every process listed in `procs_file` until none is left."""
    for _ in range(200):
        try:
            pids = [int(p) for p in procs_file.read_text().split()]
        except OSError:
            return
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.005)


def _remove(folder: Path) -> None:
    """Kill what is left in `folder` (a cgroup) and its children, then remove them."""
    try:
        children = [p for p in folder.iterdir() if p.is_dir()]
    except OSError:
        return
    for child in children:
        _remove(child)
    _kill_all(folder / "cgroup.procs")
    for _ in range(100):
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)


@dataclass
class CgroupSet:
    """The cgroups of one sandbox (a pids one, maybe a memory one)."""

    folders: list[Path]

    @property
    def procs_files(self) -> list[Path]:
        """Where a process writes its pid to join every cgroup of the set."""
        return [folder / "cgroup.procs" for folder in self.folders]

    def join(self, pid: int) -> None:
        """Move process `pid` into every cgroup of the set (the grader does it as root, so the
        sandbox, started under an unprivileged uid, need not write to cgroup files).

        Raises:
            OSError: a cgroup refused it.
        """
        for procs in self.procs_files:
            procs.write_text(str(pid))

    def kill(self) -> None:
        """SIGKILL every process of the sandbox, then remove its cgroups."""
        for folder in self.folders:
            _remove(folder)
        self.folders = []


class SandboxCgroups:
    """The grading run's cgroups; `create` gives each sandbox its own, `close` removes them all."""

    def __init__(self, pids_root: Path = PIDS_CGROUP_ROOT, memory: Path | None = None):
        self.parents: dict[str, Path] = {}
        if os.geteuid() != 0:
            return
        roots = {"pids": pids_root, "memory": memory or memory_root()}
        name = f"autograder-{os.getpid()}-{secrets.token_hex(4)}"
        for controller, root in roots.items():
            if root is None or not (root / "cgroup.procs").exists():
                continue
            self._sweep_stale(root)
            try:
                (root / name).mkdir()
                self.parents[controller] = root / name
            except OSError:
                pass

    @staticmethod
    def supported(root: Path = PIDS_CGROUP_ROOT) -> bool:
        """Whether this process could create pids cgroups (without creating one)."""
        return (os.geteuid() == 0 and (root / "cgroup.procs").exists()
                and os.access(root, os.W_OK))

    @property
    def available(self) -> bool:
        """True when sandboxes get a pids cgroup (the process count is bounded)."""
        return "pids" in self.parents

    @property
    def parent(self) -> Path | None:
        """The run's pids cgroup folder."""
        return self.parents.get("pids")

    @staticmethod
    def _sweep_stale(root: Path) -> None:
        """Remove the cgroups of earlier runs whose grader died (e.g. SIGKILL)."""
        try:
            stale = [p for p in root.glob("autograder-*-*") if p.is_dir()]
        except OSError:
            return
        for parent in stale:
            try:
                os.kill(int(parent.name.split("-")[1]), 0)
                continue  # that grader is still running
            except ProcessLookupError:
                _remove(parent)
            except (ValueError, PermissionError):
                continue

    def create(self, processes: int, memory_bytes: int) -> CgroupSet | None:
        """Fresh cgroups for one sandbox: at most `processes` tasks and `memory_bytes` of RAM.

        None when no pids cgroup can be made (the memory one alone could not kill everything).
        """
        if "pids" not in self.parents:
            return None
        name = secrets.token_hex(6)
        made = CgroupSet([])
        try:
            pids = self.parents["pids"] / name
            pids.mkdir()
            made.folders.append(pids)
            (pids / "pids.max").write_text(str(processes))
        except OSError:
            made.kill()
            return None
        if "memory" in self.parents:
            memory = self.parents["memory"] / name
            try:
                memory.mkdir()
                made.folders.append(memory)
                (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
                swap = memory / "memory.memsw.limit_in_bytes"
                if swap.exists():  # no swapping around the limit
                    swap.write_text(str(memory_bytes))
            except OSError:
                if memory in made.folders:
                    _remove(memory)
                    made.folders.remove(memory)
        return made

    def close(self) -> None:
        """Kill whatever is left in every sandbox's cgroups and remove the run's folders."""
        for parent in self.parents.values():
            _remove(parent)
        self.parents = {}
