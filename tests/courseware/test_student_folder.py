"""What a student receives: ``notebooks/<a>/`` copied alone into an empty folder runs on its own
and holds no answer key (CURRICULUM.md, "What a student receives").

Each folder is run with a real kernel (nbclient) of a student's Python: a fresh venv holding
only requirements-student.txt (built once with uv, at the kit venv's versions, from uv's cache
when it has them), with no PYTHONPATH and the folder as the working directory. Neither the kit
nor scikit-learn nor nbgrader is importable there: the only `backprop_lib` is the folder's own.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder.registry import ASSIGNMENTS, GRADED_MODULES, allowed_modules, forbidden_modules
from courseware import notebooks
from courseware.layout import Layout
from courseware.library_package import DIGITS_CSV, stamp_line
from courseware.student_folder import answer_lines, completed_notebook, leaked_answer_lines

LAYOUT = Layout()
ALL_GRADED = tuple(m for a in ASSIGNMENTS for m in GRADED_MODULES[a])
ENV_PROBE = """\
import importlib.util, json, os, sys, backprop_lib
from backprop_lib.data import digits_csv
print(json.dumps({"package": backprop_lib.__file__, "digits": str(digits_csv()), "cwd": os.getcwd(),
                  "python": sys.prefix, "kit": [m for m in ("autograder", "courseware", "tools", "sklearn", "nbgrader")
                                                if importlib.util.find_spec(m)]}))
"""


@pytest.fixture(scope="session")
def student_python(tmp_path_factory) -> tuple[Path, Path]:
    """(jupyter data folder with the kernel spec ``student``, that venv's prefix)."""
    import importlib.metadata

    base = tmp_path_factory.mktemp("student-python")
    venv = base / "venv"
    constraints = base / "constraints.txt"
    names = sorted({d.metadata["Name"].lower() for d in importlib.metadata.distributions()})  # may list a name twice
    constraints.write_text("".join(f"{name}=={importlib.metadata.version(name)}\n" for name in names))
    uv = [sys.executable, "-m", "uv"]
    subprocess.run([*uv, "venv", "-q", "-p", sys.executable, str(venv)], check=True, timeout=120)
    install = [*uv, "pip", "install", "-q", "--compile-bytecode", "-p", str(venv / "bin" / "python"),
               "-r", str(LAYOUT.root / "requirements-student.txt"), "-c", str(constraints)]
    if subprocess.run([*install, "--offline"], capture_output=True, timeout=300).returncode != 0:
        subprocess.run(install, check=True, timeout=600)  # not all in uv's cache: PyPI
    spec = base / "jupyter" / "kernels" / "student"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "a student's Python", "language": "python"}))
    return base / "jupyter", venv


def student_env() -> dict[str, str]:
    """The environment of a student's Jupyter: no PYTHONPATH, nothing pointing at the kit."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}


def alone(a: str, into: Path) -> Path:
    """``notebooks/<a>/`` copied alone into the empty folder `into`; returns the copy."""
    assert not any(into.iterdir())
    return Path(shutil.copytree(LAYOUT.release_dir(a), into / a))


def test_the_kit_venv_cannot_import_the_kit_outside_the_project(tmp_path):
    probe = "import importlib.util; print([m for m in ('backprop_lib', 'autograder', 'courseware') if importlib.util.find_spec(m)])"
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=student_env(),
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", "the kit is installed into the venv: a student's kernel would see every answer"


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_folder_holds_exactly_the_allowed_modules_stamped(a):
    package = LAYOUT.release_dir(a) / "backprop_lib"
    modules = {p.stem for p in package.glob("*.py")} - {"__init__"}
    assert modules == set(allowed_modules(a))
    for path in package.glob("*.py"):
        source = f"backprop_lib/{path.name}"
        assert path.read_text(encoding="utf-8").split("\n", 1)[0] == stamp_line(a, source), path
    assert sorted(p.name for p in package.iterdir()) == sorted([*(f"{m}.py" for m in modules), "__init__.py", DIGITS_CSV])
    # nbgrader's generate_assignment carries the package from the solution folder
    assert sorted(p.name for p in (LAYOUT.solutions / a / "backprop_lib").iterdir()
                  if p.name != "__pycache__") == sorted(p.name for p in package.iterdir())


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_no_graded_module_of_this_or_a_later_assignment_is_importable_from_the_folder(a, tmp_path):
    folder = alone(a, tmp_path)
    probe = ("import importlib.util, json\n"
             f"print(json.dumps({{m: getattr(importlib.util.find_spec('backprop_lib.' + m), 'origin', None) for m in {ALL_GRADED!r}}}))")
    found = json.loads(subprocess.run([sys.executable, "-c", probe], cwd=folder, env=student_env(),
                                      capture_output=True, text=True, check=True).stdout)
    assert {m for m, origin in found.items() if origin} == set(allowed_modules(a)) & set(ALL_GRADED)
    assert all(origin is None for m, origin in found.items() if m in forbidden_modules(a))
    assert all(Path(origin).is_relative_to(folder) for origin in found.values() if origin)


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_no_file_of_the_folder_holds_an_answer_line(a):
    answers = answer_lines(LAYOUT.library, forbidden_modules(a))
    assert len(answers) >= 5, f"only {len(answers)} answer lines: the scan would mean nothing"
    assert leaked_answer_lines(LAYOUT.release_dir(a), answers) == []


def test_answer_scan_can_fail(tmp_path):
    a = ASSIGNMENTS[1]  # a2: its package must not hold layers.py; plant it
    folder = alone(a, tmp_path)
    shutil.copy(LAYOUT.library / "layers.py", folder / "backprop_lib" / "layers.py")
    leaks = leaked_answer_lines(folder, answer_lines(LAYOUT.library, forbidden_modules(a)))
    assert leaks and {leak.file for leak in leaks} == {"backprop_lib/layers.py"}


@pytest.mark.slow
@pytest.mark.timeout(900)  # the first one builds the student venv
@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_folder_alone_with_the_work_done_runs_top_to_bottom(a, tmp_path, monkeypatch, student_python):
    from nbclient import NotebookClient

    kernels, venv = student_python
    folder = alone(a, tmp_path)
    nb = completed_notebook(notebooks.read(folder / f"{a}.ipynb"), notebooks.read(LAYOUT.solution_notebook(a)))
    nb.cells.append(nbformat.v4.new_code_cell(ENV_PROBE))
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_PATH", str(kernels))
    start = time.perf_counter()
    NotebookClient(nb, timeout=120, kernel_name="student", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    print(f"{a}: the student's folder, work done, ran in {time.perf_counter() - start:.1f} s")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    errors = [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert errors == [] and stderr == []
    seen = json.loads(nb.cells[-1].outputs[-1].text)
    assert seen["kit"] == [] and Path(seen["cwd"]) == folder and Path(seen["python"]) == venv
    assert Path(seen["package"]).is_relative_to(folder) and Path(seen["digits"]).is_relative_to(folder)
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure"
    text = "".join(o.get("text", "") for o in outputs)
    assert "PASS" in text and "FAIL" not in text
