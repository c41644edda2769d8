"""The stage: the only part of the grader a sandbox sees, copied into a folder of its own.

For each assignment: every module of `autograder/sandbox/inside/` (the worker, the wire format,
the drivers; a test registry may swap in its own `drivers.py`), and a `backprop_lib` package
holding only the modules `registry.allowed_modules(assignment)` allows, written by
`registry.write_library_package` (the student release's builder too): never the assignment's
own graded modules, never solutions/ or the repository. The sandbox mounts it read-only at /grader.
Its parent folder is opened to the sandbox's uid (searchable, not listable: `uid.open_to_sandbox`).
Bytecode is compiled here, once, because the sandbox never writes any.
"""
from __future__ import annotations

import compileall
import shutil
from pathlib import Path

from ..registry import LIBRARY, write_library_package
from . import inside, uid


def build_stage(assignment: str, drivers: Path, into: Path, library: Path = LIBRARY) -> Path:
    """Copy the modules of `inside/`, then `drivers` (over the real one), and the `backprop_lib`
    package `assignment` may import into `into`.

    `library` is the `backprop_lib` package folder; modules it lacks are skipped. Returns `into`.
    """
    into.mkdir(parents=True, exist_ok=True)
    uid.open_to_sandbox(into.parent)  # the sandbox's uid must reach it (mkdtemp makes 0700)
    for module in Path(inside.__file__).parent.glob("*.py"):
        if module.name != "__init__.py":  # the stage is a folder of scripts, not a package
            shutil.copyfile(module, into / module.name)
    shutil.copyfile(drivers, into / "drivers.py")
    write_library_package(assignment, into, library)
    compileall.compile_dir(into, quiet=2)  # the sandbox reads bytecode, never writes it
    for path in [into, *into.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return into


def warm_bytecode(packages: tuple[str, ...] = ("numpy",)) -> None:
    """Compile the bytecode of the packages every sandbox imports, once, if it is missing.

    The sandbox runs `python -B` on the staged runtime (`runtime.py`), which hard-links numpy's
    files, bytecode included, so without .pyc files here every notebook would compile numpy from
    source (about a second each; the runtime compiles what is still missing into its own copy).
    A venv that cannot be written is left alone.
    """
    import importlib.util

    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for folder in spec.submodule_search_locations:
            try:
                compileall.compile_dir(folder, quiet=2)
            except OSError:
                pass
