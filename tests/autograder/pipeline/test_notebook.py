"""Reading the trusted source notebook and a student's copy of it."""
from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder.pipeline.notebook import NotebookError, load_source, load_student

from fixtures import toy_notebooks as toy


@pytest.fixture
def source(tmp_path):
    return load_source(toy.write_source(tmp_path / "solutions"))


def test_source_gives_cells_in_order_and_points_per_function(source):
    assert [(c.role, c.name) for c in source.cells] == [
        ("imports", "imports"), ("given", "given_twice"), ("solution", "sol_double"),
        ("solution", "sol_square_backward")]
    assert source.points == {"double": 3.0, "square_backward": 2.0}
    assert source.max_score == 5.0


def test_a_test_cell_splits_its_points_among_its_functions(tmp_path):
    tests = {"test_both": (5, ["double", "square_backward"], "pass\n"),
             "test_again": (1, ["double"], "pass\n")}
    path = tmp_path / "toy.ipynb"
    nbformat.write(toy.notebook(toy.SOLUTIONS, tests=tests), path)
    assert load_source(path).points == {"double": 3.5, "square_backward": 2.5}


def test_source_that_breaks_the_contract_raises(tmp_path):
    nb = toy.notebook(toy.SOLUTIONS, tests={"test_x": (2, [], "pass\n")})
    nbformat.write(nb, tmp_path / "a.ipynb")
    with pytest.raises(ValueError, match="test_x has no kit.functions"):
        load_source(tmp_path / "a.ipynb")
    nb = toy.notebook(toy.SOLUTIONS)
    del nb.cells[1]  # the import cell
    nbformat.write(nb, tmp_path / "b.ipynb")
    with pytest.raises(ValueError, match="no import cell"):
        load_source(tmp_path / "b.ipynb")


def test_student_code_comes_from_solution_cells_only(source, tmp_path):
    forged = new_code_cell("import numpy\nnumpy.allclose = lambda *a, **k: True\n", metadata={
        "nbgrader": {"grade_id": "test_double", "grade": True, "solution": False, "points": 100},
        "kit": {"functions": ["double"]}})
    nb = toy.notebook({**toy.SOLUTIONS, "sol_double": "def double(x):\n    return x\n"}, extra=[forged])
    nb.cells[1].source = "import os  # the student edited the locked import cell"
    path = tmp_path / "s.ipynb"
    nbformat.write(nb, path)
    code = load_student(path, source)
    assert [c.name for c in code.cells] == [
        "imports", "given_twice", "sol_double", "sol_square_backward"]
    assert code.cells[0].source == toy.IMPORTS  # the trusted one
    assert code.cells[2].source == "def double(x):\n    return x\n"
    assert code.missing == ()


def test_cell_id_is_the_fallback_when_grade_id_was_lost(source, tmp_path):
    nb = toy.notebook(toy.SOLUTIONS)
    del nb.cells[3].metadata["nbgrader"]  # sol_double's metadata, id "sol-double" kept
    nb.cells[3].source = "def double(x):\n    return 'by id'\n"
    nb.cells[4].metadata["nbgrader"]["grade_id"] = "renamed"
    nb.cells[4].id = "other-id"
    path = tmp_path / "s.ipynb"
    nbformat.write(nb, path)
    code = load_student(path, source)
    assert "by id" in code.cells[2].source
    assert code.missing == ("sol_square_backward",)


@pytest.mark.parametrize("content, reason", [
    (b"{\"cells\": [", "not valid JSON (line 1"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[1, 2]", "not a Jupyter notebook"),
    (json.dumps({"nbformat": 3, "cells": []}).encode(), "format version 3"),
])
def test_unreadable_notebooks_raise_with_a_sentence(source, tmp_path, content, reason):
    path = tmp_path / "s.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookError, match=reason.replace("(", r"\(")):
        load_student(path, source)


def test_oversized_notebook_is_refused(source, tmp_path, monkeypatch):
    import autograder.pipeline.notebook as notebook

    monkeypatch.setattr(notebook, "MAX_NOTEBOOK_BYTES", 100)
    path = tmp_path / "s.ipynb"
    path.write_text(" " * 200)
    with pytest.raises(NotebookError, match="more than"):
        load_student(path, source)
