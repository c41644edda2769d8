"""The kit's fingerprint: what a worker must share with the command to give the same grades.

A grade depends on the checks (`autograder/checks/`), the rest of the grader, the sandbox's code,
the reference library the stage copies (`backprop_lib/`), the pinned packages
(`requirements.txt`) and the numpy and Python that actually run. `kit_fingerprint()` hashes all
of them, file by file (relative path and bytes), so a worker started from another version of
the kit, or with another numpy, has another fingerprint and refuses the command's tasks
(`task.grade_task`). The solution notebooks are not part of it: the command sends its parsed
source notebook with every task.
"""
from __future__ import annotations

import functools
import hashlib
import sys
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parents[2]
"""The folder holding `autograder/` and `backprop_lib/` (a clone or copy of the kit)."""

PACKAGES = ("autograder", "backprop_lib")
PINS = "requirements.txt"


def fingerprint_files(root: Path = KIT_ROOT) -> list[Path]:
    """The files the fingerprint covers, sorted: every `*.py` of the grader and the library
    (no `__pycache__`), and the pins."""
    root = Path(root)
    files = [p for package in PACKAGES for p in (root / package).rglob("*.py")
             if "__pycache__" not in p.parts]
    if (root / PINS).is_file():
        files.append(root / PINS)
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def compute_fingerprint(root: Path = KIT_ROOT) -> str:
    """sha256 (hex, 16 characters) of the kit's files below `root` and the versions of numpy
    and Python."""
    import numpy

    digest = hashlib.sha256()
    for path in fingerprint_files(root):
        name = path.relative_to(root).as_posix().encode()
        data = path.read_bytes()
        digest.update(len(name).to_bytes(4, "little") + name)
        digest.update(len(data).to_bytes(8, "little") + data)
    runtime = f"python {sys.version_info.major}.{sys.version_info.minor}; numpy {numpy.__version__}"
    digest.update(runtime.encode())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def kit_fingerprint() -> str:
    """This process's fingerprint, computed once (at a worker's start, before any task), so an
    edit of the files afterwards does not change what the running code claims to be."""
    return compute_fingerprint(KIT_ROOT)
