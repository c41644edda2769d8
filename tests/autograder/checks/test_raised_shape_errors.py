"""A wrong answer that crashes is named (issue 13): numpy's matmul / dot / broadcast shape
errors become shape fields inside the sandbox (`wire.numpy_shape_of`, read once from numpy's
own message) and the grader names them from those numbers; end to end, a matmul whose shapes
do not match is `missing_transpose` in the JSON and in the feedback."""
from __future__ import annotations

import io
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.checks.mistakes import diagnose_shape_error
from autograder.sandbox.inside import wire

REPO = Path(__file__).resolve().parents[3]


def _fields(thunk):
    try:
        thunk()
    except ValueError as exc:
        return wire.grad_shape_of(exc)
    raise AssertionError("no error")


def test_numpy_errors_become_fields_and_names():
    matmul = _fields(lambda: np.ones((5, 3)) @ np.ones((4, 3)))
    assert matmul == {"name": "matmul", "got": [4], "expected": [3]}
    assert diagnose_shape_error(matmul)[0] == "missing_transpose"
    dot = _fields(lambda: np.dot(np.ones((5, 3)), np.ones((4, 3))))
    assert dot == {"name": "dot", "got": [5, 3], "expected": [4, 3]}
    assert diagnose_shape_error(dot)[0] == "missing_transpose"
    transposed = _fields(lambda: np.ones((5, 3)) * np.ones((3, 5)))
    assert diagnose_shape_error(transposed)[0] == "missing_transpose"
    other = _fields(lambda: np.ones((5, 3)) + np.ones((5, 4)))
    assert other == {"name": "broadcast", "got": [5, 3], "expected": [5, 4]}
    assert diagnose_shape_error(other)[0] == "wrong_shape"


def test_other_errors_and_forgeries_give_no_fields():
    assert wire.grad_shape_of(ValueError("x must be positive")) is None
    assert wire.grad_shape_of(ValueError(12)) is None
    assert wire.grad_shape_of(TypeError("matmul: Input operand 1 has a mismatch")) is None
    huge = ValueError("operands could not be broadcast together with shapes (" + "9," * 500 + ") (1,)")
    assert wire.grad_shape_of(huge) is None  # bounded: at most 8 dims, short text


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_crashing_missing_transpose_is_named_end_to_end(tmp_path):
    from autograder.pipeline.results import read_result
    from autograder.pipeline.run import grade_class
    from autograder.sandbox.launch import bwrap_skip_reason
    from tools.demo_class import as_submitted

    skip = bwrap_skip_reason()
    if skip:
        pytest.skip(skip)
    a = "a2_vectorized"
    nb = as_submitted(nbformat.read(REPO / "solutions" / a / f"{a}.ipynb", as_version=4))
    (cell,) = [c for c in nb.cells if c.get("id") == "sol_affine"]
    assert cell.source.count("    dW = dout.T @ x\n") == 1
    cell.source = cell.source.replace("    dW = dout.T @ x\n", "    dW = dout @ x\n")  # (N, M) @ (N, D)
    folder = tmp_path / "submitted" / "s1" / a
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{a}.ipynb")
    out = tmp_path / "out"
    grade_class(tmp_path / "submitted", out, solutions=REPO / "solutions", jobs=1, seed=4,
                progress=False, outputs=True, stream=io.StringIO())
    result = read_result(out / "results" / "s1" / f"{a}.json")
    rows = [c for c in result["checks"] if c["function"] == "affine_backward"]
    assert rows and all(c["points"] == 0 and c["mistake"] == "missing_transpose" for c in rows), rows
    assert "matrix product" in rows[0]["message"]
    html = (out / "feedback" / "s1" / f"{a}.html").read_text(encoding="utf-8")
    assert "(missing_transpose)" in html
