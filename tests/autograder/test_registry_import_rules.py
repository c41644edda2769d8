"""Import rules: helpers never pull in a graded module, and each assignment's allowed set
contains no graded module of its own or a later assignment (walked as an import closure)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from autograder import registry as policy

LIB = Path(__file__).resolve().parents[2] / "backprop_lib"


def imported_lib_modules(module: str) -> set[str]:
    """`backprop_lib` modules that `module` imports directly (absolute or relative)."""
    tree = ast.parse((LIB / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(a.name for a in node.names)
            elif node.module and node.module.startswith("backprop_lib."):
                found.add(node.module.split(".")[1])
            elif node.module == "backprop_lib":
                found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("backprop_lib."):
                    found.add(a.name.split(".")[1])
    return found


def closure(modules) -> set[str]:
    seen: set[str] = set()
    todo = list(modules)
    while todo:
        m = todo.pop()
        if m in seen or not (LIB / f"{m}.py").exists():
            continue
        seen.add(m)
        todo.extend(imported_lib_modules(m))
    return seen


def test_allowed_modules_follow_the_assignment_order():
    assert policy.allowed_modules("a1_gates") == policy.HELPER_MODULES
    assert set(policy.allowed_modules("a3_mlp")) >= {"gates", "graph", "layers", "gradcheck"}
    assert "mlp" not in policy.allowed_modules("a3_mlp")
    assert "optim" in policy.allowed_modules("a5_vanishing")
    assert "diagnostics" not in policy.allowed_modules("a5_vanishing")


@pytest.mark.parametrize("assignment", policy.ASSIGNMENTS)
def test_import_closure_of_allowed_modules_has_no_forbidden_module(assignment):
    reach = closure(policy.allowed_modules(assignment))
    leaked = reach & set(policy.forbidden_modules(assignment))
    assert not leaked, f"{assignment}: allowed modules pull in graded {sorted(leaked)}"


def test_every_library_module_is_classified():
    known = set(policy.HELPER_MODULES) | {m for ms in policy.GRADED_MODULES.values() for m in ms}
    present = {p.stem for p in LIB.glob("*.py")} - {"__init__", "demo"}
    assert present <= known, f"unclassified modules: {sorted(present - known)}"
