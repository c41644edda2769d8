"""Who student code runs as: never the host's root.

bubblewrap started by root maps the sandbox to host uid 0 even with `--unshare-user`, and uid 0
without capabilities may still write every root-owned file that is checked by owner bits only
(`/proc/sys/kernel/core_pattern`, for instance). So a grader running as root (CI, a Docker
image, Gradescope, `sudo`) starts the sandbox as the numeric uid/gid `SANDBOX_UID` (65534,
"nobody": no passwd entry is needed) with no supplementary groups, before bubblewrap; bubblewrap
then gives it its own user namespace where the system allows one. An ordinary user's grader
starts the sandbox under its own uid (it cannot change uid), inside bubblewrap's user namespace.

Whatever the sandbox must read (the staged runtime, the stage) must therefore be reachable by
that uid: every ancestor folder searchable by "others". Those folders are private temp folders
named by the pid of the process that made them (`own_temp_folder`), so the next grader removes
the ones a killed grader or Dask worker left.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from ..errors import SandboxUnavailable

SANDBOX_UID = 65534
SANDBOX_GID = 65534


def dropped_ids() -> tuple[int, int] | None:
    """(uid, gid) the sandbox is started as when the grader is root, else None (keep ours)."""
    return (SANDBOX_UID, SANDBOX_GID) if os.geteuid() == 0 else None


def as_sandbox_uid(cmd: list[str]) -> tuple[list[str], dict[str, object]]:
    """`cmd` and `subprocess.Popen` keyword arguments that start it as the sandbox's uid.

    When the grader is root this prefixes util-linux's `setpriv` (uid, gid, no groups, then
    exec): `Popen(user=...)` would make Python fork() the whole grader instead of vfork(),
    about 40 ms per sandbox with a grader of a few hundred MiB. Without `setpriv`, Popen's
    `user`/`group`/`extra_groups` do the same. Otherwise `cmd` is unchanged.
    """
    ids = dropped_ids()
    if ids is None:
        return cmd, {}
    setpriv = _setpriv()
    if setpriv is None:
        return cmd, popen_ids()
    return [setpriv, f"--reuid={ids[0]}", f"--regid={ids[1]}", "--clear-groups", "--", *cmd], {}


def _setpriv() -> str | None:
    for folder in ("/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        path = os.path.join(folder, "setpriv")
        if os.access(path, os.X_OK):
            return path
    return None


def popen_ids() -> dict[str, object]:
    """Keyword arguments for `subprocess.Popen` that drop root before the child executes.

    Python applies them in the forked child before `exec` (setgroups, setgid, setuid), with no
    `preexec_fn`, so they are safe from a threaded grader.
    """
    ids = dropped_ids()
    if ids is None:
        return {}
    return {"user": ids[0], "group": ids[1], "extra_groups": []}


def reachable(path: Path) -> bool:
    """Whether a process of another uid (and group) can reach `path`: every folder from / to
    `path` searchable by others (what the sandbox's uid needs to bind-mount it)."""
    path = Path(os.path.realpath(path))
    for folder in [*reversed(path.parents), path]:
        try:
            mode = folder.stat().st_mode
        except OSError:
            return False
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return False
    return True


def reachable_tmp() -> str:
    """A temp folder the sandbox's uid can reach: the usual one, else /tmp.

    Raises:
        SandboxUnavailable: neither is reachable.
    """
    for candidate in (tempfile.gettempdir(), "/tmp"):
        if reachable(Path(candidate)):
            return candidate
    raise SandboxUnavailable(f"no temp folder the sandbox's uid {SANDBOX_UID} can reach "
                             f"(TMPDIR={tempfile.gettempdir()}): set TMPDIR to one")


def open_to_sandbox(folder: Path) -> None:
    """Let the sandbox's uid traverse `folder`, a private temp folder of ours (mode 0700 from
    `mkdtemp`): 0711, so it may enter but not list it."""
    info = folder.stat()
    if info.st_uid == os.geteuid() and not info.st_mode & stat.S_IXOTH:
        folder.chmod(stat.S_IMODE(info.st_mode) | 0o011)


def own_temp_folder(prefix: str, tmp: str | None = None) -> Path:
    """A fresh private folder ``<prefix>-<pid>-*`` in `tmp` (default: the temp folder), after
    removing the ones earlier processes of ours left when they died without cleaning up
    (SIGKILL): the pid in the name says whose a folder is."""
    tmp = Path(tmp or tempfile.gettempdir())
    sweep_dead(tmp, prefix)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-{os.getpid()}-", dir=tmp))


def sweep_dead(tmp: Path, prefix: str) -> None:
    """Remove the ``<prefix>-<pid>-*`` folders in `tmp` that are ours (same owner) and whose
    process no longer runs."""
    for folder in tmp.glob(f"{prefix}-*-*"):
        try:
            pid = int(folder.name[len(prefix) + 1:].split("-")[0])
            if folder.stat().st_uid != os.geteuid() or pid == os.getpid():
                continue
            os.kill(pid, 0)  # that process is still running
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, OSError):
            continue
