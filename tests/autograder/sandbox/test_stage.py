"""The stage: exactly what a sandbox may see of the grader."""
from __future__ import annotations

from autograder.sandbox.stage import build_stage, warm_bytecode

from fixtures.toy_class import FIXTURES, LIBRARY


def test_stage_holds_only_the_inside_modules_and_allowed_library_modules(tmp_path):
    a2_stage = build_stage("a2_vectorized", FIXTURES / "probe_drivers.py", tmp_path / "stage",
                           LIBRARY)
    names = {p.name for p in (a2_stage / "backprop_lib").iterdir()} - {"__pycache__"}
    assert {"__init__.py", "checks.py"} <= names
    assert "layers.py" not in names and "gradcheck.py" not in names  # a2's own graded modules
    assert "gates.py" in names  # a1's reference is released by then
    assert {p.name for p in a2_stage.iterdir()} == {"worker.py", "wire.py", "calls.py", "drivers.py",
                                                    "backprop_lib", "__pycache__"}
    assert (a2_stage / "backprop_lib" / "__pycache__").is_dir()  # bytecode, compiled once



def test_warm_bytecode_compiles_a_package_once(tmp_path, monkeypatch):
    package = tmp_path / "warmpkg"
    package.mkdir()
    (package / "__init__.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    warm_bytecode(("warmpkg", "no_such_package_here"))
    assert [p.name.split(".")[0] for p in (package / "__pycache__").iterdir()] == ["__init__"]
