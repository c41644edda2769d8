"""The `backprop_lib` package of one assignment: exactly the modules it may import, one builder.

A student's release folder (``notebooks/<a>/backprop_lib/``), the solution folder nbgrader
generates it from (``solutions/<a>/backprop_lib/``) and the grader's sandbox stage
(``autograder/sandbox/stage.py``) all get their package from `write_library_package`, so the
modules a student runs are the modules the grader runs. The set is
`autograder.registry.allowed_modules(assignment)`: the helpers and the graded modules of the
assignments before it, never its own or a later one's.

`write_release_package` adds what a student's folder needs beyond the code: the digits CSV
that `backprop_lib.data.load_digits` reads beside the module, so no student installs
scikit-learn, and a first line on every file saying it is generated and by what command.
"""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

from autograder.registry import allowed_modules

from .layout import LIBRARY_PACKAGE, ROOT

LIBRARY = ROOT / LIBRARY_PACKAGE
RELEASE_COMMAND = "make notebooks (python -m courseware build)"
DIGITS_CSV = "digits.csv.gz"  # backprop_lib.data.DIGITS_CSV (not imported: data imports numpy)


class PackageError(RuntimeError):
    """The package cannot be written: a module of the allowed set is missing from the library,
    or the target folder holds files this builder did not write."""


def stamp_line(assignment: str, source: str, command: str = RELEASE_COMMAND) -> str:
    """The first line of a generated module: what it is, where from, and what regenerates it."""
    return (f"# Generated for {assignment} from {source} by `{command}`: "
            "do not edit; edit the library and regenerate.")


def _version(library: Path) -> str:
    """``__version__`` of the library's ``__init__.py`` (read, not imported)."""
    init = library / "__init__.py"
    if init.is_file():
        for node in ast.parse(init.read_text(encoding="utf-8")).body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and getattr(node.targets[0], "id", None) == "__version__"
                    and isinstance(node.value, ast.Constant)):
                return str(node.value.value)
    return "0"


def init_source(assignment: str, modules: tuple[str, ...], version: str) -> str:
    """The package's ``__init__.py``: a docstring naming the modules of this copy, no imports."""
    listed = ", ".join(sorted(modules))
    return (f'"""backprop_lib for {assignment}: the modules this assignment may import.\n\n'
            f"Modules here: {listed}. Import them directly, e.g. ``from backprop_lib.checks import\n"
            "rel_error``. The modules this assignment asks you to write are not here: that is the\n"
            'work.\n"""\n\n'
            f'__version__ = "{version}"\n')


def _clear_generated(into: Path, stamp: bool) -> None:
    """Remove a previous package at `into`; refuse one holding a module without our stamp."""
    if into.is_symlink() or (into.exists() and not into.is_dir()):
        raise PackageError(f"{into} is not a folder; move it away first")
    if not into.exists():
        return
    if stamp:
        foreign = [p.name for p in into.glob("*.py")
                   if not p.read_text(encoding="utf-8", errors="replace").startswith("# Generated for ")]
        if foreign:
            raise PackageError(f"{into} holds modules that were not generated ({', '.join(sorted(foreign))}); "
                               "move them away: this folder is rewritten by every build")
    shutil.rmtree(into)


def write_library_package(assignment: str, into: Path, library: Path = LIBRARY,
                          stamp: str | None = None, modules: tuple[str, ...] | None = None) -> list[Path]:
    """Write ``into/`` as a `backprop_lib` package holding only what `assignment` may import.

    Args:
        assignment: an assignment name (unknown names get the helpers only).
        into: the package folder to (re)create, e.g. ``notebooks/<a>/backprop_lib``.
        library: the reference library's package folder.
        stamp: the command named on each file's first line (``None``: files copied unstamped;
            a previous folder is then replaced whole).
        modules: the modules to copy (default `allowed_modules(assignment)`; a test registry
            passes its own).

    Returns:
        The files written: ``__init__.py`` first, then the modules in `allowed_modules` order.

    Raises:
        PackageError: an allowed module is missing from `library`, or `into` holds a module
            without the stamp (when stamping).
    """
    modules = allowed_modules(assignment) if modules is None else tuple(modules)
    missing = [m for m in modules if not (library / f"{m}.py").is_file()]
    if missing:
        raise PackageError(f"{library} has no {', '.join(f'{m}.py' for m in missing)} "
                           f"(allowed for {assignment} by autograder/registry.py)")
    _clear_generated(into, stamp is not None)
    into.mkdir(parents=True)
    head = (lambda source: stamp_line(assignment, source, stamp) + "\n") if stamp else (lambda source: "")
    written = [into / "__init__.py"]
    written[0].write_text(head(f"{LIBRARY_PACKAGE}/__init__.py")
                          + init_source(assignment, modules, _version(library)), encoding="utf-8")
    for module in modules:
        target = into / f"{module}.py"
        text = (library / f"{module}.py").read_text(encoding="utf-8")
        target.write_text(head(f"{LIBRARY_PACKAGE}/{module}.py") + text, encoding="utf-8")
        written.append(target)
    for path in written:
        path.chmod(0o644)
    return written


def bundled_digits_csv() -> Path:
    """scikit-learn's bundled digits CSV, the pinned release's copy (the kit's own env has it).

    Raises:
        PackageError: scikit-learn (requirements.txt) is not installed or lacks the file.
    """
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.origin).parent / "datasets" / "data" / DIGITS_CSV if spec and spec.origin else None
    if path is None or not path.is_file():
        raise PackageError("scikit-learn's datasets/data/digits.csv.gz is missing: install requirements.txt")
    return path


def write_release_package(assignment: str, into: Path, library: Path = LIBRARY) -> list[Path]:
    """The package of a student's folder: `write_library_package` stamped, plus the digits CSV.

    The CSV goes in only when ``data`` is among the modules (``load_digits`` reads it beside
    ``data.py``): a byte-for-byte copy of scikit-learn's file, 57 KB, read with numpy alone.
    """
    written = write_library_package(assignment, into, library, stamp=RELEASE_COMMAND)
    if (into / "data.py").is_file():
        target = into / DIGITS_CSV
        shutil.copyfile(bundled_digits_csv(), target)
        target.chmod(0o644)
        written.append(target)
    return written
