"""The trust boundary is a folder: `autograder/sandbox/inside/` imports only the standard
library, numpy and its own modules, and the stage copies every one of its modules."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

from autograder.sandbox import inside
from autograder.sandbox.stage import build_stage

from fixtures.toy_class import FIXTURES, LIBRARY

INSIDE = Path(inside.__file__).parent
SIBLINGS = {p.stem for p in INSIDE.glob("*.py")} - {"__init__"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # `from . import wire`: a sibling, never a parent package
                assert node.level == 1 and (node.module is None or node.module in SIBLINGS), \
                    f"{path.name} reaches outside inside/: level {node.level} {node.module}"
                found |= {alias.name for alias in node.names} if node.module is None else {node.module}
            else:
                found.add(node.module.split(".")[0])
    return found


def test_inside_imports_nothing_of_the_trusted_side():
    allowed = set(sys.stdlib_module_names) | {"numpy"} | SIBLINGS
    assert {"worker", "wire", "drivers"} <= SIBLINGS
    for path in INSIDE.glob("*.py"):
        reached = _imports(path)
        assert reached <= allowed, f"{path.name} imports {sorted(reached - allowed)}"
        assert not reached & {"autograder", "backprop_lib", "courseware"}, path.name


def test_the_stage_copies_every_inside_module(tmp_path):
    stage = build_stage("a1_gates", FIXTURES / "probe_drivers.py", tmp_path / "stage", LIBRARY)
    assert {p.stem for p in stage.glob("*.py")} == SIBLINGS
    for name in SIBLINGS - {"drivers"}:  # drivers.py is the registry's (here the probes')
        assert (stage / f"{name}.py").read_bytes() == (INSIDE / f"{name}.py").read_bytes()
