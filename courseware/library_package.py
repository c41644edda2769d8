"""The `backprop_lib/` of a student's folder: exactly the modules the assignment may import.

The modules are chosen and copied by `autograder.registry.write_library_package`, the builder
the grader's sandbox stage uses too (``autograder/sandbox/stage.py``), so the code a student
runs is the code the grader stages: the helpers and the graded modules of the assignments
before it (`allowed_modules`), never its own or a later one's.

`write_release_package` then adds what a student's folder needs beyond the code: a first line
on every module saying it is generated and by what command, and the digits CSV that
`backprop_lib.data.load_digits` reads beside the module, so no student installs scikit-learn.
It writes ``solutions/<a>/backprop_lib/`` (the solution notebook runs from its own folder, and
nbgrader's generate_assignment carries the package into ``notebooks/<a>/``).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from autograder.registry import LIBRARY, allowed_modules, write_library_package
from backprop_lib.data import DIGITS_CSV

from .errors import BuildError
from .layout import LIBRARY_PACKAGE

RELEASE_COMMAND = "make notebooks (python -m courseware build)"
STAMP_START = "# Generated for "


class PackageError(BuildError):
    """The package cannot be written: the library lacks a module the assignment may import,
    or the target folder holds a module this builder did not write."""


def stamp_line(assignment: str, source: str, command: str = RELEASE_COMMAND) -> str:
    """The first line of a generated module: what it is, where from, and what regenerates it."""
    return f"{STAMP_START}{assignment} from {source} by `{command}`: do not edit; edit the library and regenerate."


def _clear_generated(package: Path) -> None:
    """Remove a previous generated package; refuse a folder holding a module without our stamp."""
    if package.is_symlink() or (package.exists() and not package.is_dir()):
        raise PackageError(f"{package} is not a folder; move it away first")
    if not package.exists():
        return
    foreign = [p.name for p in package.glob("*.py")
               if not p.read_text(encoding="utf-8", errors="replace").startswith(STAMP_START)]
    if foreign:
        raise PackageError(f"{package} holds modules that were not generated ({', '.join(sorted(foreign))}); "
                           "move them away: every build rewrites this folder")
    shutil.rmtree(package)


def bundled_digits_csv() -> Path:
    """The digits CSV of the kit's own environment (the pinned scikit-learn's bundled copy).

    Raises:
        PackageError: scikit-learn (requirements.txt) is not installed or lacks the file.
    """
    from backprop_lib.data import digits_csv

    path = digits_csv()
    if path is None:
        raise PackageError(f"scikit-learn's datasets/data/{DIGITS_CSV} is missing: install requirements.txt")
    return path


def write_release_package(assignment: str, folder: Path, library: Path = LIBRARY) -> list[Path]:
    """(Re)write ``folder/backprop_lib/`` for a student's copy of `assignment`; return its files.

    The registry's builder copies ``__init__.py`` and the allowed modules; each then gets
    `stamp_line` as its first line. With ``data`` among them, ``digits.csv.gz`` goes in too:
    a byte-for-byte copy of the pinned scikit-learn's file (57 KB), read with numpy alone.

    Raises:
        PackageError: `library` lacks an allowed module (the registry's builder would skip it),
            or ``backprop_lib/`` holds a module without the stamp.
    """
    modules = allowed_modules(assignment)
    missing = [m for m in modules if not (library / f"{m}.py").is_file()]
    if missing:
        raise PackageError(f"{library} has no {', '.join(f'{m}.py' for m in missing)}, which "
                           f"{assignment} may import (autograder/registry.py)")
    _clear_generated(folder / LIBRARY_PACKAGE)
    package = write_library_package(assignment, folder, library)
    written = sorted(package.glob("*.py"))
    for path in written:
        text = path.read_text(encoding="utf-8")
        path.write_text(stamp_line(assignment, f"{LIBRARY_PACKAGE}/{path.name}") + "\n" + text, encoding="utf-8")
    if "data" in modules:
        target = package / DIGITS_CSV
        shutil.copyfile(bundled_digits_csv(), target)
        written.append(target)
    for path in written:
        path.chmod(0o644)
    return written
