"""requirements-student.txt is all a student's Jupyter needs: every module any release folder
imports (its notebook's cells and its backprop_lib/) is the standard library, the folder's own
backprop_lib, or a package that requirements-student.txt installs (directly or as a dependency),
at requirements.txt's pins; and pyproject.toml asks for the Python those pins need."""
from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from courseware import notebooks
from courseware.layout import Layout

LAYOUT = Layout()
ROOT = LAYOUT.root
# Imported only on a path a release never takes: data.py reads its digits from scikit-learn only
# when no digits.csv.gz lies beside it, and every release ships one (asserted below).
NEVER_REACHED = {"sklearn"}


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+)==(\S+)", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def installed_by(names: list[str]) -> set[str]:
    """The distributions `names` install: themselves and their dependencies (no extras), lower-case."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for spec in metadata.requires(name) or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


def imported_modules(folder: Path) -> set[str]:
    """Top-level names of every module imported by the folder's notebooks and .py files."""
    from IPython.core.inputtransformer2 import TransformerManager

    transform = TransformerManager().transform_cell
    sources = [path.read_text(encoding="utf-8") for path in folder.rglob("*.py")]
    for path in folder.glob("*.ipynb"):
        sources += [transform(c.source) for c in notebooks.read(path).cells if c.cell_type == "code"]
    names: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module.split(".")[0])
    return names


def test_student_pins_are_the_kits():
    student, kit = pins(ROOT / "requirements-student.txt"), pins(ROOT / "requirements.txt")
    assert set(student) == {"numpy", "matplotlib", "ipykernel"}
    assert student == {name: kit[name] for name in student}


def test_pyproject_asks_for_the_python_the_pins_need():
    assert 'requires-python = ">=3.11"' in (ROOT / "pyproject.toml").read_text()
    assert "3.10" not in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("a", LAYOUT.assignments())
def test_every_import_of_the_folder_is_installed_by_the_student_requirements(a):
    provided = installed_by(list(pins(ROOT / "requirements-student.txt")))
    providers = metadata.packages_distributions()
    assert (LAYOUT.release_dir(a) / "backprop_lib" / "digits.csv.gz").is_file()
    outside = {}
    third_party = imported_modules(LAYOUT.release_dir(a)) - set(sys.stdlib_module_names) - {"backprop_lib"}
    for module in sorted(third_party - NEVER_REACHED):
        dists = {d.lower() for d in providers.get(module, [])}
        if not dists & provided:
            outside[module] = sorted(dists) or "not installed anywhere"
    assert outside == {}, f"{a} imports modules requirements-student.txt does not install: {outside}"


def test_the_import_scan_sees_the_third_party_imports():
    assert {"numpy", "matplotlib"} <= imported_modules(LAYOUT.release_dir("a4_momentum"))
    assert "sklearn" not in installed_by(list(pins(ROOT / "requirements-student.txt")))
