"""Read a file a student controls without following a link out of their folder.

`SUBMITTED` is written by nbgrader's exchange, and so by students: a notebook may be a symbolic
link to `solutions/<a>/<a>.ipynb`, a student folder a link to another student's, a "notebook" a
FIFO that blocks whoever opens it, or 30 GiB. `read_beneath(root, parts, max_bytes)` opens
`root/parts[0]/.../parts[-1]` one component at a time with `openat(2)` and `O_NOFOLLOW`, so no
component may be a link (a link swapped in between a check and the open is refused too: there
is no check, only the open); the last must be a regular file of at most `max_bytes`. `root`
itself is the TA's (trusted). Anything else raises `UnsafeFile` with a sentence for the row's
`reason`.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Sequence

MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024
"""A submitted notebook larger than this is refused (a full a5 with its figures is ~0.5 MiB)."""


class UnsafeFile(Exception):
    """A path component is a link, not a folder / regular file, missing, or the file is too large.

    Attributes:
        reason: one sentence for the result's `reason` field.
        missing: True when the file simply does not exist (a `missing` row, not `error`).
    """

    def __init__(self, reason: str, missing: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


def _describe(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _open_component(name: str, dir_fd: int, flags: int, shown: str) -> int:
    if name in ("", ".", "..") or "/" in name or "\x00" in name:
        raise UnsafeFile(f"{shown} is not a plain name.")
    try:
        return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise UnsafeFile(f"{shown} not found.", missing=True) from None
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise UnsafeFile(f"{shown} is a symbolic link; only a regular file counts.") from None
        if exc.errno == errno.ENOTDIR:
            if os.path.islink(os.path.join(f"/proc/self/fd/{dir_fd}", name)):
                raise UnsafeFile(f"{shown} is a symbolic link; only a real folder counts.") from None
            raise UnsafeFile(f"{shown} is not a folder.") from None
        raise UnsafeFile(f"{shown} could not be opened ({os.strerror(exc.errno)}).") from None


def read_beneath(root: Path, parts: Sequence[str], max_bytes: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The bytes of the regular file `root/parts...`, reached without following any link.

    Args:
        root: a trusted folder (the TA's `SUBMITTED`).
        parts: the path below it, one name per component, e.g. `(student_id, a, f"{a}.ipynb")`.
        max_bytes: the largest file accepted.

    Raises:
        UnsafeFile: a component is a link or not a folder, the file is missing, special
            (FIFO, device, socket, folder) or larger than `max_bytes`.
    """
    shown = "/".join(parts)
    fds: list[int] = []
    try:
        fds.append(os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        for i, name in enumerate(parts[:-1]):
            fds.append(_open_component(name, fds[-1], os.O_RDONLY | os.O_DIRECTORY,
                                       "/".join(parts[: i + 1])))
        fd = _open_component(parts[-1], fds[-1], os.O_RDONLY | os.O_NONBLOCK, shown)
        fds.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{shown} is {_describe(info.st_mode)}, not a regular file.")
        if info.st_size > max_bytes:
            raise UnsafeFile(f"{shown} is {info.st_size / 2**20:.1f} MiB, more than the "
                             f"{max_bytes / 2**20:.0f} MiB a notebook may have.")
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > max_bytes:
            raise UnsafeFile(f"{shown} grew past the {max_bytes / 2**20:.0f} MiB a notebook may have.")
        return b"".join(chunks)
    finally:
        for fd in reversed(fds):
            os.close(fd)


def is_real_folder(path: Path) -> bool:
    """True when `path` is a folder and not a symbolic link to one."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
