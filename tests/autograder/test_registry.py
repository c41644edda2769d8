"""The one registry: functions per check module and assignment are derived, never listed twice;
the staged / released library package holds exactly the allowed modules."""
from __future__ import annotations

import importlib
from pathlib import Path

from autograder import checks, registry


def test_module_of_is_derived_from_the_check_modules():
    derived = registry.module_of()
    assert checks.MODULE_OF is derived
    for module in registry.checked_modules():
        listed = importlib.import_module(f"autograder.checks.{module}").FUNCTIONS
        assert [f for f, m in derived.items() if m == module] == list(listed)
    assert registry.checked_modules() == ("gates", "layers", "gradcheck", "mlp", "init", "optim",
                                          "diagnostics")  # graph has no check module of its own
    assert derived["affine_backward"] == "layers" and derived["MaxGate"] == "gates"
    assert registry.assignment_of("affine_backward") == "a2_vectorized"
    assert registry.assignment_of("no_such_function") is None
    assert set(registry.functions("a3_mlp")) == {"init_weights", "init_mlp", "mlp_forward",
                                                 "mlp_backward", "mlp_loss"}


def test_specs_are_keyed_by_the_literal_function_names():
    source = Path(importlib.import_module("autograder.checks.layers").__file__).read_text()
    for function in registry.functions("a2_vectorized"):
        if function not in ("numerical_gradient", "numerical_gradient_array"):
            assert f'"{function}"' in source, function  # `grep affine_backward` finds its check


def test_write_library_package_holds_exactly_the_allowed_modules(tmp_path):
    for assignment in (*registry.ASSIGNMENTS, "a_course_extra"):
        package = registry.write_library_package(assignment, tmp_path / assignment)
        assert package == tmp_path / assignment / "backprop_lib"
        names = {p.stem for p in package.glob("*.py")}
        assert names == {"__init__", *registry.allowed_modules(assignment)}
        assert not names & set(registry.forbidden_modules(assignment))
