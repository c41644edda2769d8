"""The three lecture notebooks: stored without outputs, run top to bottom in a real kernel
(nbclient) with no error and no stderr, and draw every figure at the default settings with no
interaction (the handout); and they stay outside the assignments: courseware, the grader's
discovery and nbgrader's course directory never see them."""
from __future__ import annotations

import base64
import time
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder.pipeline.discover import find_assignments
from courseware.layout import Layout

ROOT = Path(__file__).resolve().parents[2]
LECTURES = ROOT / "lectures"
FIGURES = {"vanishing_exploding": 1, "momentum": 1, "chain_rule": 3}  # live figures per notebook
BUDGET_SECONDS = 30.0  # a kernel start and a few renders; fail only past twice this


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(LECTURES / f"{name}.ipynb", as_version=4)


def test_the_three_lecture_notebooks_are_there():
    assert sorted(p.stem for p in LECTURES.glob("*.ipynb")) == sorted(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_stored_without_outputs(name):
    nb = _read(name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    assert "widgets" not in nb.metadata  # no saved widget state (it holds PNGs)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_runs_top_to_bottom_and_draws_every_figure_at_its_defaults(name):
    from nbclient import NotebookClient

    nb = _read(name)
    start = time.perf_counter()
    NotebookClient(nb, timeout=int(2 * BUDGET_SECONDS), kernel_name="python3",
                   resources={"metadata": {"path": str(LECTURES)}}).execute()
    seconds = time.perf_counter() - start
    print(f"{name}: ran in {seconds:.1f} s")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    images = [m for m in state.values() if m["model_name"] == "ImageModel"]
    assert len(images) == FIGURES[name]
    for model in images:  # the figure's PNG travelled to the front end's widget state
        png = base64.b64decode(next(b["data"] for b in model["buffers"] if b["path"] == ["value"]))
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert seconds < 2 * BUDGET_SECONDS


def test_lectures_are_not_assignments():
    layout = Layout()
    found = set(layout.assignments())
    assert found == set(find_assignments(layout.solutions))  # courseware and grader agree
    assert found and not found & set(FIGURES) and "lectures" not in found
    for tree in (layout.solutions, layout.notebooks):  # sync/build/check read and write only these
        assert LECTURES not in tree.parents and tree != LECTURES
        assert not [p for p in tree.rglob("*") if p.name in {f"{n}.ipynb" for n in FIGURES} or p.name == "lectures"]


def test_nbgraders_course_directory_is_solutions_and_notebooks_not_lectures():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    directory = config.CourseDirectory
    assert directory.source_directory == "solutions" and directory.release_directory == "notebooks"
    assert Path(directory.root) == ROOT
    for name in FIGURES:  # not even a cell nbgrader would treat as graded or locked
        assert not [c for c in _read(name).cells if "nbgrader" in c.metadata]
