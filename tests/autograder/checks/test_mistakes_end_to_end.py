"""Every mistake name of the contract, end to end through the real sandbox: for each name, a
planted wrong submission loses points, and its results JSON and its feedback page name that
mistake (CURRICULUM.md, "The grading command").

Each student hands in ONE assignment: the correct notebook (`as_submitted` of the real solution)
with exactly one graded function replaced by a hand-written wrong version (a text replacement in
that function's solution cell; the cell's other functions stay right): one student per name in
assignments 2 and 4, where nothing else calls the planted function, plus five more in
assignment 3's MLP. All are graded in one `grade_class` call with the real checks and sandbox.
The plant must be isolated: every other function of the notebook keeps full marks (in a3,
`mlp_loss` calls the student's `mlp_backward`, so it may lose points for the same mistake).

`tests/test_mistakes.py` plants the same kinds of mistakes in-process; this file proves the
whole path (notebook -> sandbox -> checks -> JSON -> feedback HTML).
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tools.demo_class import as_submitted
from autograder.outputs.feedback import MISTAKE_HINTS
from autograder.outputs.html import escape
from autograder.checks.mistakes import MISTAKES
from autograder.pipeline.results import read_grades_csv, read_result
from autograder.pipeline.run import grade_class
from autograder.sandbox.launch import bwrap_skip_reason

REPO = Path(__file__).resolve().parents[3]
SKIP = bwrap_skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]

A2, A3, A4 = "a2_vectorized", "a3_mlp", "a4_momentum"


@dataclass(frozen=True)
class Plant:
    """One student: `assignment`'s correct notebook with `right` replaced by `wrong` in the
    solution cell `cell` (inside `function`). `right` must occur there exactly once, as
    `as_submitted` writes it. `dependents`: graded functions of the notebook that call
    `function` and so may lose points too (always naming the same mistake)."""

    mistake: str
    assignment: str
    cell: str
    function: str
    right: str
    wrong: str
    dependents: tuple[str, ...] = ()


# One plant per contract name, each isolated (no other graded function calls it)...
PLANTS: dict[str, Plant] = {p.mistake: p for p in [
    # dW = x.T @ dout has shape (D, M): the library's shape check (kept, outside the solution
    # region) raises, and the grader reads the shapes from the message
    Plant("missing_transpose", A2, "sol_affine", "affine_backward",
          "    dW = dout.T @ x\n",
          "    dW = x.T @ dout\n"),
    Plant("wrong_sign", A2, "sol_relu", "relu_backward",
          "    dx = dout * (x > 0)\n",
          "    dx = -(dout * (x > 0))\n"),
    # the loss is still a mean; only its gradient forgets the 1/N
    Plant("missing_mean", A2, "sol_softmax_loss", "softmax_loss",
          "    dscores /= N\n",
          "    pass  # dscores is not divided by N\n"),
    # sigma' taken at the cached output s = sigma(x) instead of at x
    Plant("activation_not_preactivation", A2, "sol_sigmoid", "sigmoid_backward",
          "    dx = (1.0 - s) * s * dout\n",
          "    a = 1.0 / (1.0 + np.exp(-s))\n"
          "    dx = (1.0 - a) * a * dout\n"),
    # the local gradient alone
    Plant("ignored_upstream", A2, "sol_relu", "relu_backward",
          "    dx = dout * (x > 0)\n",
          "    dx = (x > 0).astype(np.float64)\n"),
    # steps with the old velocity, then updates it
    Plant("momentum_order", A4, "sol_sgd_momentum", "sgd_momentum",
          '    v = dw + config["momentum"] * v\n'
          '    next_w = -config["learning_rate"] * v + w  # = w - lr * v, the product first so numpy can reuse its temporary\n',
          '    next_w = w - config["learning_rate"] * v\n'
          '    v = dw + config["momentum"] * v\n'),
    # the penalty stays reg * ||W||^2; its gradient forgets the 2
    Plant("wrong_reg_factor", A2, "sol_l2_regularization", "l2_regularization",
          "    dweights = [2.0 * reg * W for W in weights]\n",
          "    dweights = [reg * W for W in weights]\n"),
    # db of shape (N, M): the library's shape check raises
    Plant("bias_not_summed", A2, "sol_affine", "affine_backward",
          "    db = dout.sum(axis=0)\n",
          "    db = dout\n"),
    # db of shape (1, M): neither a transpose nor an unsummed bias
    Plant("wrong_shape", A2, "sol_affine", "affine_backward",
          "    db = dout.sum(axis=0)\n",
          "    db = dout.sum(axis=0, keepdims=True)\n"),
    # issue 13: the gradient from centred differences of the loss (right numbers, wrong cost)
    Plant("not_backprop", A2, "sol_mse_loss", "mse_loss",
          "    dpred = diff / N\n",
          "    dpred = np.zeros_like(pred)\n"
          "    for ix in np.ndindex(pred.shape):\n"
          "        up, down = pred.copy(), pred.copy()\n"
          "        up[ix] += 1e-5\n"
          "        down[ix] -= 1e-5\n"
          "        dpred[ix] = (0.5 * np.sum((up - target) ** 2) / N\n"
          "                     - 0.5 * np.sum((down - target) ** 2) / N) / 2e-5\n"),
    # x fans out to both pieces: its gradient keeps only the first
    Plant("not_accumulated", A2, "sol_maxout", "maxout_backward",
          "    dx = dz1 @ W1 + dz2 @ W2\n",
          "    dx = dz1 @ W1\n"),
    # masked by the upstream gradient instead of the forward's input
    Plant("wrong_mask", A2, "sol_relu", "relu_backward",
          "    dx = dout * (x > 0)\n",
          "    dx = dout * (dout > 0)\n"),
    # a hidden layer's delta without sigma'(Z): the upstream gradient passed on as it is
    Plant("missing_local_gradient", A3, "sol_mlp_backward", "mlp_backward",
          "        delta = backward(upstream, act_cache)\n",
          "        delta = backward(upstream, act_cache) if l == L else upstream\n",
          dependents=("mlp_loss",)),
]}

# ... and the same kinds of mistakes in assignment 3's MLP (student id "a3_<mistake>"), where
# mlp_loss calls the student's own mlp_backward.
A3_PLANTS: dict[str, Plant] = {f"a3_{p.mistake}": p for p in [
    # the shape check of mlp_backward (outside the region, validate.check_grad_shape) raises a
    # GradShapeError for dW3 / db3, whose shapes reach the grader as numbers
    Plant("missing_transpose", A3, "sol_mlp_backward", "mlp_backward",
          '        grads[f"W{l}"] = delta.T @ A_prev\n',
          '        grads[f"W{l}"] = A_prev.T @ delta\n', dependents=("mlp_loss",)),
    Plant("bias_not_summed", A3, "sol_mlp_backward", "mlp_backward",
          '        grads[f"b{l}"] = delta.sum(axis=0)\n',
          '        grads[f"b{l}"] = delta\n', dependents=("mlp_loss",)),
    # sigmoid / tanh: the activation's backward fed sigma(A) (tanh(A)), so sigma' is taken at A
    Plant("activation_not_preactivation", A3, "sol_mlp_backward", "mlp_backward",
          "        delta = backward(upstream, act_cache)\n",
          "        name = output_activation if l == L else activation\n"
          "        if name in (\"sigmoid\", \"tanh\"):\n"
          "            act_cache = ACTIVATIONS[name][0](act_cache[0])[1]\n"
          "        delta = backward(upstream, act_cache)\n", dependents=("mlp_loss",)),
    Plant("wrong_reg_factor", A3, "sol_mlp_loss", "mlp_loss",
          '        grads[f"W{l}"] += dweights[l - 1]\n',
          '        grads[f"W{l}"] += 0.5 * dweights[l - 1]\n'),
    # the data loss stays a mean; the gradient sent back is N times too large
    Plant("missing_mean", A3, "sol_mlp_loss", "mlp_loss",
          "    data_loss, dY = loss_fn(Y, y)\n",
          "    data_loss, dY = loss_fn(Y, y)\n"
          "    dY = dY * len(Y)\n"),
]}
STUDENTS: dict[str, Plant] = {**PLANTS, **A3_PLANTS}


def planted(plant: Plant) -> nbformat.NotebookNode:
    """The correct submission of the plant's assignment with its one wrong function."""
    a = plant.assignment
    nb = as_submitted(nbformat.read(REPO / "solutions" / a / f"{a}.ipynb", as_version=4))
    cells = [c for c in nb.cells if c.get("id") == plant.cell]
    assert len(cells) == 1, f"{a}: no single cell {plant.cell!r}"
    cell = cells[0]
    assert cell.source.count(plant.right) == 1, f"{a}/{plant.cell}: {plant.right!r} is not there exactly once"
    head = cell.source.index(f"def {plant.function}(")
    assert cell.source.index(plant.right) > head, f"{plant.right!r} is not in {plant.function}"
    later = cell.source.find("\ndef ", head + 1)
    assert later == -1 or cell.source.index(plant.right) < later, f"{plant.right!r} is not in {plant.function}"
    cell.source = cell.source.replace(plant.right, plant.wrong)
    return nb


def section(html: str, function: str) -> str:
    """The part of a feedback page about `function` (from its heading to the next one)."""
    head = f"<h3><code>{escape(function)}</code>"
    assert html.count(head) == 1, f"no single section for {function} in the feedback"
    return html.split(head, 1)[1].split("<h3>", 1)[0]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("mistakes")
    submitted = root / "submitted"
    for sid, plant in STUDENTS.items():
        folder = submitted / sid / plant.assignment
        folder.mkdir(parents=True)
        nbformat.write(planted(plant), folder / f"{plant.assignment}.ipynb")
    out = root / "out"
    grade_class(submitted, out, solutions=REPO / "solutions", jobs=2, seed=11, progress=False,
                outputs=True, stream=io.StringIO())
    return out


def test_every_contract_name_has_a_plant():
    assert sorted(PLANTS) == sorted(MISTAKES)
    assert sorted(MISTAKE_HINTS) == sorted(MISTAKES)
    assert all(p.mistake in MISTAKES for p in A3_PLANTS.values())


def _brief(checks: list[dict]) -> list[tuple]:
    return [(c["function"], c["check"], c["mistake"], c["message"]) for c in checks]


@pytest.mark.parametrize("sid", list(STUDENTS))
def test_planted_mistake_loses_points_and_is_named(graded, sid):
    plant = STUDENTS[sid]
    name, function, a = plant.mistake, plant.function, plant.assignment
    path = graded / "results" / sid / f"{a}.json"
    result = read_result(path)
    assert result["status"] == "ok", result["reason"]
    assert result["auto_score"] < result["auto_max_score"], "the wrong submission got full marks"

    # the planted function loses points, and its failed checks name the mistake (or nothing)
    mine = [c for c in result["checks"] if c["function"] == function]
    lost = [c for c in mine if c["points"] < c["max_points"]]
    assert lost, f"{function} lost no points: {_brief(mine)}"
    assert all(not c["passed"] for c in lost)
    assert name in {c["mistake"] for c in lost}, _brief(lost)
    assert {c["mistake"] for c in lost} <= {name, None}, _brief(lost)
    assert all(c["mistake"] is None for c in mine if c["passed"])

    # isolated: every other function keeps full marks and names nothing, except the functions
    # that call the planted one, which may lose points for the same mistake only
    involved = {function, *plant.dependents}
    deps = [c for c in result["checks"] if c["function"] in plant.dependents]
    assert {c["mistake"] for c in deps} <= {name, None}, _brief(deps)
    others = [c for c in result["checks"] if c["function"] not in involved]
    assert others
    hurt = [c for c in others if not c["passed"] or c["points"] != c["max_points"] or c["mistake"]]
    assert hurt == [], _brief(hurt)
    # check rows carry 6 decimals and auto_score 4, so their sums agree to 1e-4
    assert result["auto_max_score"] - result["auto_score"] == pytest.approx(
        sum(c["max_points"] - c["points"] for c in result["checks"] if c["function"] in involved), abs=1e-4)

    # the JSON on disk is the curriculum's: the name as a plain string
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert any(c["mistake"] == name for c in raw["checks"] if c["function"] == function)

    # the feedback names it (code name and human title) under the planted function, and
    # names no mistake under the functions the plant does not touch
    html = (graded / "feedback" / sid / f"{a}.html").read_text(encoding="utf-8")
    title, _hint = MISTAKE_HINTS[name]
    mine_html = section(html, function)
    assert f"<code>({escape(name)})</code>" in mine_html
    assert f"Looks like: {escape(title)}" in mine_html
    for other in {c["function"] for c in others}:
        assert "Looks like:" not in section(html, other), other


def test_grades_csv_agrees(graded):
    rows = {(r["student_id"], r["assignment"]): r for r in read_grades_csv(graded / "grades.csv")}
    for sid, plant in STUDENTS.items():
        row = rows[(sid, plant.assignment)]
        result = read_result(graded / "results" / sid / f"{plant.assignment}.json")
        assert row["status"] == "ok", row
        assert float(row["auto_score"]) == pytest.approx(result["auto_score"])
        assert float(row["auto_score"]) < float(row["auto_max_score"])
        others = [r for (s, a), r in rows.items() if s == sid and a != plant.assignment]
        assert others and all(r["status"] == "missing" for r in others)


def test_check_rows_carry_their_numbers(graded):
    """Every compared output's row carries rel_error and tol as numbers; a failed one's error
    is past its bound, a passed one's under it; a wrong shape carries both shapes."""
    rows = [c for sid, plant in STUDENTS.items()
            for c in read_result(graded / "results" / sid / f"{plant.assignment}.json")["checks"]]
    measured = [c for c in rows if "rel_error" in c]
    assert len(measured) > len(rows) // 2
    for c in measured:
        assert isinstance(c["rel_error"], float) and isinstance(c["tol"], float)
        if c["passed"]:
            assert c["rel_error"] < c["tol"], c
    assert any(not c["passed"] and c["rel_error"] >= c["tol"] for c in measured)
    shaped = [c for c in rows if c.get("mistake") == "missing_transpose" and "expected_shape" in c]
    for c in shaped:
        assert all(isinstance(n, int) for n in c["shape"] + c["expected_shape"])
