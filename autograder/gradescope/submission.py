"""What Gradescope hands `run_autograder`: the student's files and `submission_metadata.json`.

Both are the student's (the upload) or Gradescope's (the metadata), and both are read as
hostile: no link is followed (`pipeline.safe_files.read_beneath`), the walk of the upload is
bounded, sizes are capped.

- `student_id(metadata)`: the first user's `sid` (the roster's student id), else `email`, else
  `id` (CURRICULUM.md, "Where courses grade"); "unknown" when the metadata has none. Each
  student's inputs derive from it and the seed, as in the class grader.
- `find_notebook(submission, assignment)`: `<assignment>.ipynb` at the top of the upload (or
  in an `<assignment>/` folder), else the only `.ipynb` of the upload; several candidates
  and no `<assignment>.ipynb` is a `Found` with no notebook and a reason naming them.
- `folder_name(student_id)`: the id as one safe folder name (the class grader's layout), or,
  when the id cannot be one (a `/`, a leading dot, a control character), a digest of it.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..pipeline.safe_files import MAX_NOTEBOOK_BYTES, UnsafeFile, read_beneath

MAX_METADATA_BYTES = 64 << 20
"""submission_metadata.json holds every previous submission's results: generous, but bounded."""
MAX_WALK_ENTRIES = 5000
MAX_WALK_DEPTH = 4
SKIPPED_FOLDERS = (".ipynb_checkpoints", "__MACOSX", ".git")


def read_metadata(root: Path) -> dict[str, Any]:
    """`root/submission_metadata.json` as a dict ({} when missing, unreadable or not JSON)."""
    try:
        data = json.loads(read_beneath(Path(root), ["submission_metadata.json"], MAX_METADATA_BYTES))
    except (UnsafeFile, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def student_id(metadata: dict[str, Any]) -> str:
    """The first user's `sid`, else `email`, else `id`, as text; "unknown" when none is set."""
    users = metadata.get("users")
    user = users[0] if isinstance(users, list) and users and isinstance(users[0], dict) else {}
    for key in ("sid", "email", "id"):
        value = user.get(key)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (str, int)) and str(value).strip():
            return str(value).strip()
    return "unknown"


def folder_name(student: str) -> str:
    """`student` when it is a safe single folder name, else `student-<sha256 prefix>`."""
    safe = (0 < len(student.encode()) <= 200 and not student.startswith(".")
            and "/" not in student and all(ch.isprintable() for ch in student))
    return student if safe else "student-" + hashlib.sha256(student.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Found:
    """The notebook chosen from an upload: its path below the upload and bytes, or why none.

    Attributes:
        parts: path components below the submission folder (empty when nothing was chosen).
        data: the notebook's bytes (None when nothing was chosen or it could not be read).
        reason: a sentence for the student when `data` is None.
        seen: names of the files the upload holds (for that sentence), at most a few.
    """

    parts: tuple[str, ...] = ()
    data: bytes | None = None
    reason: str = ""
    seen: tuple[str, ...] = field(default_factory=tuple)


def _walk(root: Path) -> tuple[list[tuple[str, ...]], list[str]]:
    """(.ipynb files as path parts, every regular file's shown path), no link followed."""
    notebooks: list[tuple[str, ...]] = []
    files: list[str] = []
    pending: list[tuple[str, ...]] = [()]
    entries = 0
    while pending:
        parts = pending.pop()
        try:
            with os.scandir(os.path.join(root, *parts)) as it:
                children = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in children:
            entries += 1
            if entries > MAX_WALK_ENTRIES:
                return notebooks, files
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            path = (*parts, entry.name)
            if stat.S_ISDIR(mode):
                if entry.name not in SKIPPED_FOLDERS and len(path) < MAX_WALK_DEPTH:
                    pending.append(path)
            elif stat.S_ISREG(mode):
                files.append("/".join(path))
                if entry.name.endswith(".ipynb"):
                    notebooks.append(path)
    return sorted(notebooks), sorted(files)


def find_notebook(submission: Path, assignment: str) -> Found:
    """The notebook to grade in Gradescope's `submission` folder (see the module docstring)."""
    wanted = f"{assignment}.ipynb"
    notebooks, files = _walk(Path(submission))
    seen = tuple(files[:5])
    preferred = [p for p in notebooks if p == (wanted,) or p == (assignment, wanted)]
    if not preferred:
        preferred = [p for p in notebooks if p[-1] == wanted]
    chosen = preferred[:1] or (notebooks if len(notebooks) == 1 else [])
    if not chosen:
        if notebooks:
            names = ", ".join("/".join(p) for p in notebooks[:5])
            return Found(reason=f"The upload holds several notebooks ({names}) and none is named "
                                f"{wanted}: upload yours as {wanted}.", seen=seen)
        holds = f" (it holds {', '.join(seen)})" if seen else " (it is empty)"
        return Found(reason=f"No notebook was found in the upload{holds}: upload {wanted}.",
                     seen=seen)
    parts = chosen[0]
    try:
        data = read_beneath(Path(submission), list(parts), MAX_NOTEBOOK_BYTES)
    except UnsafeFile as exc:
        return Found(parts=parts, reason=exc.reason, seen=seen)
    return Found(parts=parts, data=data, seen=seen)
