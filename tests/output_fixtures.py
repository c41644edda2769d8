"""Hand-made inputs for the grader's output steps (feedback, report, gradebook, LMS, demo class).

Result dicts follow the curriculum's JSON ("The grading command") plus `"seconds"` and optional
per-check `"sample"`. The source notebook follows docs/notebook-format.md: an import cell,
generated solution cells with nbgrader's solution markers, autograded test cells whose
`kit.functions` share their points, and one written answer.
"""
from __future__ import annotations

import zlib
from pathlib import Path

import nbformat
import numpy as np

ASSIGNMENT = "a2_vectorized"

AFFINE_SOURCE = '''# Generated from backprop_lib.layers by `make notebooks`: edit the library, not this cell.
def affine_forward(x, W, b):
    """Z = x @ W.T + b for x of shape (N, D), W of shape (M, D), b of shape (M,)."""
    # TASK: Z = x @ W.T + b
    ### BEGIN SOLUTION
    out = x @ W.T + b
    ### END SOLUTION
    return out, (x, W)


def affine_backward(dout, cache):
    """dx of shape (N, D), dW of shape (M, D), db of shape (M,) from dout of shape (N, M)."""
    x, W = cache
    # TASK: dx = dout @ W, dW = dout.T @ x, db = dout summed over the batch
    ### BEGIN SOLUTION
    dx = dout @ W
    dW = dout.T @ x
    db = dout.sum(axis=0)
    ### END SOLUTION
    return dx, dW, db
'''

LOSS_SOURCE = '''# Generated from backprop_lib.layers by `make notebooks`: edit the library, not this cell.
def mse_loss(pred, target):
    """0.5 * sum((pred - target)**2) / N and its gradient, both for pred of shape (N, M)."""
    N = pred.shape[0]
    # TASK: loss = 0.5 * sum((pred - target)**2) / N, dpred = (pred - target) / N
    ### BEGIN SOLUTION
    diff = pred - target
    loss = 0.5 * np.sum(diff ** 2) / N
    dpred = diff / N
    ### END SOLUTION
    return loss, dpred
'''

TEST_AFFINE = '''x = np.arange(6.0).reshape(2, 3); W = np.ones((4, 3)); b = np.zeros(4)
out, cache = affine_forward(x, W, b)
assert out.shape == (2, 4)
### BEGIN HIDDEN TESTS
dx, dW, db = affine_backward(np.ones((2, 4)), cache)
assert np.allclose(dW, np.ones((4, 2)) @ x)
assert np.allclose(db, [2, 2, 2, 2])
### END HIDDEN TESTS
'''

TEST_LOSS = '''loss, dpred = mse_loss(np.ones((2, 3)), np.zeros((2, 3)))
assert np.isclose(loss, 1.5)
### BEGIN HIDDEN TESTS
assert np.allclose(dpred, 0.5)
### END HIDDEN TESTS
'''


def _cell(kind: str, source: str, nbgrader: dict | None = None, kit: dict | None = None):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    cell.id = (nbgrader or {}).get("grade_id", f"cell-{zlib.crc32(source.encode()):08x}").replace("_", "-")
    if nbgrader is not None:
        cell.metadata["nbgrader"] = {"schema_version": 3, "locked": False, "solution": False,
                                     "grade": False, **nbgrader}
    if kit is not None:
        cell.metadata["kit"] = kit
    return cell


def solution_notebook() -> nbformat.NotebookNode:
    """A small source notebook: affine_forward/backward (4 points), mse_loss (2), a written answer (2)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _cell("markdown", "# Vectorized backprop\nThe gradient has the shape of what it differentiates."),
        _cell("code", "import numpy as np\nrng = np.random.default_rng(0)",
              {"grade_id": "imports", "locked": True}, {"role": "imports"}),
        _cell("code", AFFINE_SOURCE, {"grade_id": "sol_affine", "solution": True},
              {"source": ["backprop_lib.layers:affine_forward", "backprop_lib.layers:affine_backward"]}),
        _cell("code", TEST_AFFINE, {"grade_id": "test_affine", "grade": True, "locked": True, "points": 4},
              {"functions": ["affine_forward", "affine_backward"]}),
        _cell("code", LOSS_SOURCE, {"grade_id": "sol_mse_loss", "solution": True},
              {"source": ["backprop_lib.layers:mse_loss"]}),
        _cell("code", TEST_LOSS, {"grade_id": "test_mse_loss", "grade": True, "locked": True, "points": 2},
              {"functions": ["mse_loss"]}),
        _cell("markdown", "Why is the Jacobian of an elementwise layer diagonal?\n\nYOUR ANSWER HERE",
              {"grade_id": "written_jacobian", "solution": True, "grade": True, "points": 2},
              {"role": "written"}),
        _cell("code", "import matplotlib\nprint('training curves here')"),
    ]
    return nb


def write_solutions(root: Path) -> Path:
    """`root/solutions/a2_vectorized/a2_vectorized.ipynb`; returns `root/solutions`."""
    path = root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(solution_notebook(), path)
    return root / "solutions"


def check(function: str, name: str, max_points: float, passed: bool, *, mistake: str | None = None,
          message: str = "", sample: dict | None = None) -> dict:
    """One check of a result."""
    c = {"function": function, "check": name, "points": max_points if passed else 0.0,
         "max_points": max_points, "passed": passed, "message": message, "mistake": mistake}
    if sample is not None:
        c["sample"] = sample
    return c


def result(student: str, checks: list[dict] | None = None, *, status: str = "ok", reason: str = "",
           seconds: float = 0.4, assignment: str = ASSIGNMENT) -> dict:
    """A result dict whose scores are the sums of its checks."""
    checks = checks or []
    return {"student_id": student, "assignment": assignment,
            "auto_score": sum(c["points"] for c in checks),
            "auto_max_score": 6.0 if assignment == ASSIGNMENT else sum(c["max_points"] for c in checks),
            "status": status, "reason": reason, "checks": checks, "seconds": seconds}


def full_checks(wrong: set[str] = frozenset(), mistake: str | None = None) -> list[dict]:
    """The six checks of the fixture notebook (1 point each); checks named in `wrong` fail."""
    rng = np.random.default_rng(1)
    numerical = rng.normal(size=12)
    out = []
    for function, name in [("affine_forward", "forward_value"), ("affine_forward", "shape"),
                           ("affine_backward", "dx_vs_numerical"), ("affine_backward", "dW_vs_numerical"),
                           ("mse_loss", "loss_value"), ("mse_loss", "dpred_vs_numerical")]:
        failed = name in wrong
        sample = None
        if name.endswith("numerical"):
            analytic = -numerical if failed else numerical + 1e-9
            sample = {"analytic": analytic.tolist(), "numerical": numerical.tolist()}
        out.append(check(function, name, 1.0, not failed, mistake=mistake if failed else None,
                         message=(f"relative error 1.0e+00 > 1e-6" if failed else "relative error 3.2e-10"),
                         sample=sample))
    return out


def class_results() -> list[dict]:
    """A small class: correct, two named mistakes, an unfinished one, error, timeout, missing."""
    return [
        result("s01", full_checks(), seconds=0.31),
        result("s02", full_checks({"dW_vs_numerical"}, "missing_transpose"), seconds=0.42),
        result("s03", full_checks({"dpred_vs_numerical"}, "missing_mean"), seconds=0.38),
        result("s04", [dict(c, points=0.0, passed=False, message="NotImplementedError: a2_vectorized "
                            "affine_forward: Z = x @ W.T + b") for c in full_checks()], seconds=0.35),
        result("s05", status="error", reason="SyntaxError: invalid syntax (cell sol_affine, line 3)", seconds=0.2),
        result("s06", status="timeout", reason="the notebook's code ran past 60 s", seconds=60.1),
        result("s07", status="missing", reason="no notebook at s07/a2_vectorized/a2_vectorized.ipynb", seconds=0.0),
    ]
