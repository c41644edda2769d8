"""The one registry: which assignment grades which `backprop_lib` module, which functions each
module's checks grade, and which modules a student's copy (and so the sandbox) may import.

Written once, here and in the check modules:

- `ASSIGNMENTS` (course order) and `GRADED_MODULES` (assignment -> library modules it grades);
- each graded library module ``m`` with checks has ``autograder/checks/m.py`` (the same name as
  ``backprop_lib/m.py``), whose ``FUNCTIONS`` lists the functions it checks by their literal
  library names. `module_of()` (function -> module) and `functions(assignment)` are derived
  from those; nothing else lists them. (`graph` is graded through the gates' checks: it has no
  check module of its own.)
- `allowed_modules(assignment)`: the modules a student's copy of the assignment may import.
  It is the one answer to "what is staged": the sandbox's stage (`sandbox/stage.py`) and the
  student release both build their `backprop_lib/` with `write_library_package`.

A student's copy of assignment k may import the helpers and the reference modules of the
assignments before k (a course releases those solutions after their deadline), and nothing of
assignment k or later.

This module imports only the standard library (the check modules are imported lazily, on the
first call that needs them), so the release tooling can use it without numpy.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import shutil
from pathlib import Path

ASSIGNMENTS: tuple[str, ...] = (
    "a1_gates",
    "a2_vectorized",
    "a3_mlp",
    "a4_momentum",
    "a5_vanishing",
)

GRADED_MODULES: dict[str, tuple[str, ...]] = {
    "a1_gates": ("gates", "graph"),
    "a2_vectorized": ("layers", "gradcheck"),
    "a3_mlp": ("mlp", "init"),
    "a4_momentum": ("optim",),
    "a5_vanishing": ("diagnostics",),
}

HELPER_MODULES: tuple[str, ...] = ("data", "plots", "drawing", "checks", "validate")

LIBRARY = Path(__file__).resolve().parents[1] / "backprop_lib"
"""The reference library's package folder (beside `autograder/`, also when pip-installed)."""

_CHECKS_PACKAGE = "autograder.checks"


def allowed_modules(assignment: str) -> tuple[str, ...]:
    """The `backprop_lib` modules a student's copy of `assignment` may import (and the sandbox
    stages): the helpers, then the graded modules of every earlier assignment.

    Unknown assignments (a course's own addition) get the helpers only.
    """
    allowed = list(HELPER_MODULES)
    if assignment in ASSIGNMENTS:
        for earlier in ASSIGNMENTS[: ASSIGNMENTS.index(assignment)]:
            allowed.extend(GRADED_MODULES[earlier])
    return tuple(allowed)


def forbidden_modules(assignment: str) -> tuple[str, ...]:
    """The graded modules of `assignment` and of every later assignment."""
    if assignment not in ASSIGNMENTS:
        return tuple(m for mods in GRADED_MODULES.values() for m in mods)
    later = ASSIGNMENTS[ASSIGNMENTS.index(assignment):]
    return tuple(m for a in later for m in GRADED_MODULES[a])


def checked_modules() -> tuple[str, ...]:
    """The graded library modules that have a check module ``autograder/checks/<module>.py``,
    in course order."""
    return tuple(m for a in ASSIGNMENTS for m in GRADED_MODULES[a]
                 if importlib.util.find_spec(f"{_CHECKS_PACKAGE}.{m}") is not None)


@functools.lru_cache(maxsize=None)
def module_of() -> dict[str, str]:
    """Graded function (or gate class) -> its library module, which is also the name of its
    check module; in course order. Derived from the check modules' ``FUNCTIONS``."""
    found: dict[str, str] = {}
    for module in checked_modules():
        for function in importlib.import_module(f"{_CHECKS_PACKAGE}.{module}").FUNCTIONS:
            if function in found:
                raise RuntimeError(f"{function} is checked by both {found[function]} and {module}")
            found[function] = module
    return found


def functions(assignment: str) -> tuple[str, ...]:
    """The functions the grader can check for `assignment` (those of its graded modules)."""
    modules = GRADED_MODULES.get(assignment, ())
    return tuple(f for f, m in module_of().items() if m in modules)


def assignment_of(function: str) -> str | None:
    """The assignment that grades `function`, or None for a function the grader does not know."""
    module = module_of().get(function)
    return next((a for a in ASSIGNMENTS if module in GRADED_MODULES[a]), None)


def copy_library_modules(modules: tuple[str, ...], into: Path, library: Path = LIBRARY) -> Path:
    """Write the package ``into/backprop_lib/`` holding `library`'s ``__init__.py`` and exactly
    `modules` (``<module>.py`` each; a module `library` lacks is skipped). Returns the package
    folder. Prefer `write_library_package`, which takes the set from the assignment."""
    package = Path(into) / "backprop_lib"
    package.mkdir(parents=True, exist_ok=True)
    init = Path(library) / "__init__.py"
    if init.exists():
        shutil.copyfile(init, package / "__init__.py")
    else:
        (package / "__init__.py").write_text("")
    for module in modules:
        source = Path(library) / f"{module}.py"
        if source.exists():
            shutil.copyfile(source, package / f"{module}.py")
    return package


def write_library_package(assignment: str, into: Path, library: Path = LIBRARY) -> Path:
    """Write ``into/backprop_lib/`` with exactly the modules `allowed_modules(assignment)`
    names: what the sandbox stages for the assignment and what its student release ships.
    Returns the package folder."""
    return copy_library_modules(allowed_modules(assignment), into, library)
