"""Close the grader's own folders to every other uid while student code runs.

On Gradescope the grader runs as root in a Docker container. The sandbox starts student code as
an unprivileged uid (`sandbox/uid.py`); where the container lets bubblewrap create namespaces,
that code sees only the stage and the staged runtime. Where it does not (Docker's defaults
forbid user namespaces), the curriculum's fallback keeps the uid and the rlimits and makes the
grader's folders unreadable to it: `locked(paths)` sets each folder to mode 0700 and each file
to 0600, owned by the grader's uid, for the time of the `with` block, and restores the modes
and owners it found afterwards (also when grading raised). `/autograder` itself is one of the
paths, so nothing below it (the kit's source and answer key, results, the metadata with the
other group members' e-mails and earlier results) can even be reached.

Links are never followed (`lchown`, and a link is left as it is): the paths are Gradescope's,
but `/autograder/submission` is the student's.
"""
from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


@dataclass(frozen=True)
class Saved:
    """A path's mode and owner before it was locked."""

    path: Path
    mode: int
    uid: int
    gid: int


def _lock_one(path: Path) -> Saved | None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return None
    saved = Saved(path, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid)
    if (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
        os.chown(path, os.geteuid(), os.getegid(), follow_symlinks=False)
    os.chmod(path, 0o700 if stat.S_ISDIR(info.st_mode) else 0o600)
    return saved


def _restore(saved: Saved) -> None:
    if (saved.uid, saved.gid) != (os.geteuid(), os.getegid()):
        os.chown(saved.path, saved.uid, saved.gid, follow_symlinks=False)
    os.chmod(saved.path, saved.mode)


@contextmanager
def locked(paths: list[Path]) -> Iterator[list[Saved]]:
    """While inside, `paths` (those that exist and are not links) are 0700 / 0600 and ours.

    Yields what was changed, in order; on leaving, the modes and owners are restored in
    reverse order.
    """
    changed: list[Saved] = []
    try:
        for path in paths:
            saved = _lock_one(Path(path))
            if saved is not None:
                changed.append(saved)
        yield changed
    finally:
        for saved in reversed(changed):
            _restore(saved)
