"""Cell constructors with the metadata docs/notebook-format.md asks for (for authoring scripts).

Authors may edit solution notebooks in JupyterLab (then set the metadata by hand, see
docs/authoring.md) or build them from a short script with these helpers::

    from courseware import cells, notebooks
    nb = cells.notebook([
        cells.markdown("# Assignment 2 ..."),
        cells.imports("import numpy as np\\nfrom backprop_lib.checks import check_close"),
        cells.solution("affine", ["backprop_lib.layers:affine_forward"]),
        cells.test("affine", ["affine_forward"], points=2, source="check_close(...)"),
        cells.markdown("**Question.** Why is ...?"),   # the prompt is its own markdown cell
        cells.written("jacobian", points=2, answer="Because ..."),
    ])
    notebooks.write(notebooks.normalize(nb), path)

then run `make notebooks` (which fills the generated cells from the library).
"""
from __future__ import annotations

import nbformat
from nbformat import NotebookNode

from .notebooks import KERNELSPEC, LANGUAGE_INFO


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


def markdown(text: str) -> NotebookNode:
    """An explanation cell (not graded, editable)."""
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(source: str) -> NotebookNode:
    """A plain code cell (demos, plots): runs in the notebook, never in the grader."""
    return nbformat.v4.new_code_cell(source.strip("\n"))


def imports(source: str) -> NotebookNode:
    """The import cell: exactly one, the first code cell; only imports and seeding."""
    cell = code(source)
    cell.metadata["nbgrader"] = _nbgrader("imports", grade=False, solution=False, locked=True)
    cell.metadata["kit"] = {"role": "imports"}
    return cell


def solution(name: str, specs: list[str]) -> NotebookNode:
    """A generated solution cell: `make notebooks` fills it from `specs` (``module:qualname``)."""
    cell = code("# filled in by make notebooks")
    cell.metadata["nbgrader"] = _nbgrader(f"sol_{name}", grade=False, solution=True, locked=False)
    cell.metadata["kit"] = {"source": list(specs)}
    return cell


def given(name: str, specs: list[str]) -> NotebookNode:
    """A generated read-only cell of non-graded library code the notebook may not import."""
    cell = code("# filled in by make notebooks")
    cell.metadata["nbgrader"] = _nbgrader(f"given_{name}", grade=False, solution=False, locked=True)
    cell.metadata["kit"] = {"source": list(specs)}
    return cell


def test(name: str, functions: list[str], points: float, source: str) -> NotebookNode:
    """An autograded test cell: public checks first, then the hidden-tests region."""
    cell = code(source)
    cell.metadata["nbgrader"] = _nbgrader(f"test_{name}", grade=True, solution=False, locked=True, points=points)
    cell.metadata["kit"] = {"functions": list(functions)}
    return cell


def written(name: str, points: float, answer: str) -> NotebookNode:
    """A manually graded written answer (markdown); `answer` goes in the solution region."""
    text = f"### BEGIN SOLUTION\n{answer.strip()}\n### END SOLUTION"
    cell = markdown(text)
    cell.metadata["nbgrader"] = _nbgrader(f"written_{name}", grade=True, solution=True, locked=False, points=points)
    cell.metadata["kit"] = {"role": "written"}
    return cell


def notebook(cell_list: list[NotebookNode]) -> NotebookNode:
    """A v4.5 notebook with the kit's kernelspec holding `cell_list`."""
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cell_list)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = dict(LANGUAGE_INFO)
    return nb
