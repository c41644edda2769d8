"""`collect`: nbgrader's exchange ``inbound/`` -> ``submitted/``, copying regular files only.

nbgrader's own ``collect`` copies each submission with ``shutil.copytree``, which follows links,
as the instructor. ``inbound/`` is writable by every student, so a student who plants
``inbound/mallory+a1_gates+<time>/a1_gates.ipynb`` as a link to ``solutions/a1_gates/a1_gates.ipynb``
(or to another student's submission) gets, at collect, a copy of that file's content as their
own. This step reads the same exchange layout (nbgrader's entry names
``<student>+<assignment>+<timestamp>[+<random>]``, its timestamp parser, the newest entry per
student, its ignore list) but:

- opens every folder with ``O_NOFOLLOW`` beneath an already open parent and reads every file
  with `autograder.pipeline.safe_files.read_beneath` (no component may be a link; regular files
  only, size-capped, FIFO-safe): a link, pipe, socket or device is skipped and reported;
- refuses an entry that is itself a link, whose student id is not a plain name (``..`` would
  write outside ``submitted/``), or, with the owner check on (the default, nbgrader's
  ``check_owner`` made binding), whose folder is not owned by the Unix user the name claims;
- writes each submission into a fresh folder beside its destination and renames it into
  place, with ``timestamp.txt`` taken from the entry's name.

Everything is returned as data (`CollectReport`); nothing a student planted raises.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatch
from pathlib import Path

from autograder.pipeline.safe_files import UnsafeFile, read_beneath

from .errors import ExchangeError

IGNORED = (".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback")  # nbgrader's CourseDirectory.ignore
STUDENT_ID = re.compile(r"^[A-Za-z0-9_@-][A-Za-z0-9._@+-]{0,127}$")


@dataclass(frozen=True)
class Limits:
    """What one submission may hold (nbgrader's defaults are 100 MB per file and per folder)."""

    max_file_bytes: int = 16 * 1024 * 1024
    max_total_bytes: int = 100 * 1024 * 1024
    max_files: int = 2000
    max_depth: int = 8


@dataclass(frozen=True)
class Skipped:
    """A path inside a collected submission that was not copied, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Refused:
    """An inbound entry that was not collected at all, and why."""

    entry: str
    reason: str


@dataclass(frozen=True)
class Collected:
    """The newest acceptable entry of one student, and what happened to it.

    `status`: ``collected`` (new), ``updated`` (replaced an older one, with ``update``),
    ``kept`` (the destination already holds this or a newer submission, or ``update`` is off).
    """

    student_id: str
    entry: str
    timestamp: datetime
    status: str
    files: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()


@dataclass(frozen=True)
class CollectReport:
    """Everything `collect` did for one assignment."""

    assignment: str
    collected: tuple[Collected, ...] = ()
    refused: tuple[Refused, ...] = field(default_factory=tuple)

    @property
    def clean(self) -> bool:
        """True when nothing was refused and no file was skipped."""
        return not self.refused and not any(c.skipped for c in self.collected)


@dataclass(frozen=True)
class _Entry:
    name: str
    student_id: str
    timestamp: datetime
    stamp_text: str


def parse_entry(name: str, assignment: str) -> tuple[str, str] | None:
    """``(student_id, timestamp text)`` of an inbound entry of `assignment`, or None if it is
    another assignment's. Names are nbgrader's ``<student>+<assignment>+<timestamp>[+<random>]``."""
    for pieces in (name.rsplit("+", 3), name.rsplit("+", 2)):
        if len(pieces) >= 3 and pieces[1] == assignment:
            return pieces[0], pieces[2]
    return None


def unix_owner(uid: int) -> str | None:
    """The Unix user name of `uid`, or None."""
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def _parse_time(text: str) -> datetime | None:
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(text)
    except (ValueError, OverflowError, TypeError):
        return None


def _describe(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link: only regular files are collected"
    if stat.S_ISFIFO(mode):
        return "a named pipe: only regular files are collected"
    if stat.S_ISSOCK(mode):
        return "a socket: only regular files are collected"
    return "a device or other special file: only regular files are collected"


def _read_submission(inbound: Path, entry_fd: int, entry: str, limits: Limits
                     ) -> tuple[dict[tuple[str, ...], bytes], list[Skipped]]:
    """The regular files beneath the open folder `entry_fd`, by relative parts, and what was skipped."""
    files: dict[tuple[str, ...], bytes] = {}
    skipped: list[Skipped] = []
    budget = [limits.max_total_bytes]

    def visit(dir_fd: int, rel: tuple[str, ...]) -> None:
        with os.scandir(dir_fd) as listing:
            names = sorted(item.name for item in listing)
        for name in names:
            parts, shown = (*rel, name), "/".join((*rel, name))
            if any(fnmatch(name, pattern) for pattern in IGNORED):
                continue
            if len(files) + len(skipped) >= limits.max_files:
                skipped.append(Skipped(shown, f"more than {limits.max_files} files: the rest is not collected"))
                return
            try:
                mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
            except OSError as exc:
                skipped.append(Skipped(shown, f"could not be read ({os.strerror(exc.errno)})"))
                continue
            if stat.S_ISDIR(mode):
                if len(parts) > limits.max_depth:
                    skipped.append(Skipped(shown, f"folders nested deeper than {limits.max_depth} are not collected"))
                    continue
                try:
                    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
                except OSError as exc:  # swapped for a link since the stat: refused the same way
                    skipped.append(Skipped(shown, "a symbolic link: only regular files are collected"
                                           if exc.errno in (errno.ELOOP, errno.ENOTDIR) else os.strerror(exc.errno)))
                    continue
                try:
                    visit(fd, parts)
                finally:
                    os.close(fd)
            elif not stat.S_ISREG(mode):
                skipped.append(Skipped(shown, _describe(mode)))
            elif budget[0] <= 0:
                skipped.append(Skipped(shown, f"the submission is over {limits.max_total_bytes // 2**20} MiB"))
            else:
                try:
                    data = read_beneath(inbound, (entry, *parts), min(limits.max_file_bytes, budget[0]))
                except UnsafeFile as exc:
                    skipped.append(Skipped(shown, exc.reason))
                    continue
                budget[0] -= len(data)
                files[parts] = data

    visit(entry_fd, ())
    return files, skipped


def _existing_time(dest: Path) -> datetime | None:
    stamp = dest / "timestamp.txt"
    return _parse_time(stamp.read_text(encoding="utf-8").strip()) if stamp.is_file() else None


def _write_submission(dest: Path, files: dict[tuple[str, ...], bytes], stamp_text: str) -> None:
    """Write `files` into a fresh folder beside `dest`, then rename it into place."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{dest.name}.collect-", dir=dest.parent))
    try:
        for parts, data in files.items():
            target = fresh.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(0o644)
        (fresh / "timestamp.txt").write_text(stamp_text, encoding="utf-8")
        (fresh / "timestamp.txt").chmod(0o644)
        for folder in [fresh, *(p for p in fresh.rglob("*") if p.is_dir())]:
            folder.chmod(0o755)
        old = None
        if dest.exists():
            old = dest.with_name(fresh.name + ".old")
            dest.rename(old)
        fresh.rename(dest)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if fresh.exists():
            shutil.rmtree(fresh)


def collect(assignment: str, exchange: Path, course: str, to: Path, *, update: bool = False,
            check_owner: bool = True, owner_of: Callable[[int], str | None] = unix_owner,
            limits: Limits = Limits()) -> CollectReport:
    """Collect the newest acceptable submission of `assignment` per student into `to/<student>/<assignment>/`.

    Args:
        assignment: the assignment id (``a1_gates``).
        exchange: nbgrader's ``Exchange.root`` (holds ``<course>/inbound/``).
        course: nbgrader's course id.
        to: the submitted folder to write (``submitted/``), as `python -m autograder grade` reads it.
        update: replace a destination that holds an older submission (nbgrader's ``--update``).
        check_owner: refuse an entry whose folder's owner is not the user its name claims.
        owner_of: uid -> user name (tests pass their own).
        limits: caps per submission.

    Raises:
        ExchangeError: no ``<exchange>/<course>/inbound`` folder (or a course id that is not a name).
    """
    if not STUDENT_ID.match(course) or not STUDENT_ID.match(assignment):
        raise ExchangeError(f"course {course!r} and assignment {assignment!r} must be plain names")
    inbound = Path(exchange) / course / "inbound"
    try:
        inbound_fd = os.open(inbound, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise ExchangeError(f"no inbound folder {inbound} ({os.strerror(exc.errno)}): "
                            "check --exchange and --course") from None
    refused: list[Refused] = []
    newest: dict[str, tuple[_Entry, int]] = {}
    try:
        with os.scandir(inbound_fd) as listing:
            names = sorted(item.name for item in listing)
        for name in names:
            parsed = parse_entry(name, assignment)
            if parsed is None:
                continue
            student_id, stamp_text = parsed
            when = _parse_time(stamp_text)
            if not STUDENT_ID.match(student_id):
                refused.append(Refused(name, f"the student id {student_id!r} is not a plain name"))
                continue
            if when is None:
                refused.append(Refused(name, f"the timestamp {stamp_text!r} is not one nbgrader writes"))
                continue
            try:
                fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=inbound_fd)
            except OSError as exc:
                reason = ("is a symbolic link, not a submitted folder" if exc.errno in (errno.ELOOP, errno.ENOTDIR)
                          else f"cannot be opened ({os.strerror(exc.errno)})")
                refused.append(Refused(name, f"the entry {reason}"))
                continue
            owner = owner_of(os.fstat(fd).st_uid)
            if check_owner and owner != student_id:
                os.close(fd)
                refused.append(Refused(name, f"claims to be {student_id}'s but is owned by {owner or 'an unknown user'}"))
                continue
            entry = _Entry(name, student_id, when, stamp_text)
            previous = newest.get(student_id)
            if previous is None or (when, name) > (previous[0].timestamp, previous[0].name):
                if previous is not None:
                    os.close(previous[1])
                newest[student_id] = (entry, fd)
            else:
                os.close(fd)
        collected = []
        for student_id in sorted(newest):
            entry, fd = newest[student_id]
            dest = Path(to) / student_id / assignment
            existing = _existing_time(dest) if dest.is_dir() else None
            if dest.exists() and not (update and (existing is None or entry.timestamp > existing)):
                collected.append(Collected(student_id, entry.name, entry.timestamp, "kept"))
                continue
            files, skipped = _read_submission(inbound, fd, entry.name, limits)
            status = "updated" if dest.exists() else "collected"
            _write_submission(dest, files, entry.stamp_text)
            collected.append(Collected(student_id, entry.name, entry.timestamp, status,
                                       tuple("/".join(p) for p in files), tuple(skipped)))
    finally:
        for _, fd in newest.values():
            try:
                os.close(fd)
            except OSError:
                pass
        os.close(inbound_fd)
    return CollectReport(assignment, tuple(collected), tuple(refused))
