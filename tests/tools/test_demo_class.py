"""The synthetic class: nbgrader's submitted layout, every kind of submission, mutations that
really change what the code computes."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pytest

from tools import demo_class
from fixtures.outputs import ASSIGNMENT, solution_notebook, write_solutions

ROOT = Path(__file__).resolve().parents[2]
KINDS = {"correct", "unfinished", "partial", "broken_json", "syntax_error", "missing", "cheat"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    solutions = write_solutions(root)
    applied: dict = {}
    plan = demo_class.build_class(root / "submitted", n=12, seed=3, solutions_dir=solutions,
                                  notebooks_dir=root / "notebooks", applied=applied)
    return root / "submitted", plan, applied


def _namespace(nb) -> dict:
    """Run the notebook's import and solution cells (what the grader runs) and return the names."""
    ns: dict = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and (meta.get("solution") or meta.get("grade_id") == "imports"):
            exec(compile(cell.source, meta.get("grade_id", "cell"), "exec"), ns)
    return ns


def _outputs(ns: dict) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)
    out, cache = ns["affine_forward"](x, W, b)
    loss, dpred = ns["mse_loss"](out, rng.normal(size=(5, 4)))
    return [out, *ns["affine_backward"](dpred, cache), np.array(loss), dpred]


def test_plan_has_every_kind_and_is_seeded():
    plan = demo_class.class_plan(30, seed=0)
    assert len(plan) == 30 and list(plan)[:2] == ["s001", "s002"]
    kinds = set(plan.values())
    assert KINDS <= kinds and any(k.startswith("mistake:") for k in kinds)
    assert demo_class.class_plan(30, seed=0) == plan
    assert demo_class.class_plan(30, seed=1) != plan
    assert sum(k == "correct" for k in plan.values()) >= 5
    assert set(demo_class.class_plan(3).values()) == {"correct", "mistake:missing_transpose", "unfinished"}
    with pytest.raises(ValueError, match="n must be"):
        demo_class.class_plan(0)


def test_layout_and_kinds(built):
    submitted, plan, applied = built
    assert sorted(p.name for p in submitted.iterdir()) == sorted(plan)
    for sid, kind in plan.items():
        path = submitted / sid / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert path.exists() == (kind != "missing"), (sid, kind)
        if kind == "broken_json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(path.read_text())
        elif kind != "missing":
            nb = nbformat.read(path, as_version=4)
            text = path.read_text()
            assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
            if kind == "syntax_error":
                with pytest.raises(SyntaxError):
                    _namespace(nb)


def test_correct_submission_computes_the_solution(built):
    submitted, plan, _ = built
    sid = next(s for s, k in plan.items() if k == "correct")
    nb = nbformat.read(submitted / sid / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    out, dx, dW, db, loss, dpred = _outputs(_namespace(nb))
    assert dW.shape == (4, 3) and db.shape == (4,) and np.allclose(db, dpred.sum(axis=0))


def test_unfinished_and_cheat(built):
    submitted, plan, _ = built
    sid = next(s for s, k in plan.items() if k == "unfinished")
    ns = _namespace(nbformat.read(submitted / sid / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4))
    with pytest.raises(NotImplementedError, match=ASSIGNMENT):
        ns["affine_forward"](np.ones((1, 2)), np.ones((3, 2)), np.zeros(3))
    sid = next(s for s, k in plan.items() if k == "cheat")
    nb = nbformat.read(submitted / sid / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    points = [c.metadata["nbgrader"]["points"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert points and set(points) == {100}
    assert "np.allclose = lambda" in nbformat.writes(nb)
    assert all("assert" not in c.source for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code")
    # its functions run, but compute wrong gradients (every mutation that applies); run them
    # without the patches, which would otherwise disarm numpy in this test process
    assert sum(demo_class.CHEAT_CODE in c.source for c in nb.cells) == 1
    for c in nb.cells:
        c.source = c.source.replace(demo_class.CHEAT_CODE, "")
    ns = _namespace(nb)
    good = _outputs(_namespace(demo_class.as_submitted(solution_notebook())))
    try:
        bad = _outputs(ns)
    except ValueError:
        return
    assert not all(g.shape == b.shape and np.allclose(g, b) for g, b in zip(good, bad))


@pytest.mark.parametrize("name", ["missing_transpose", "wrong_sign", "missing_mean",
                                  "bias_not_summed"])
def test_each_mutation_changes_what_the_code_computes(tmp_path, name):
    solution = nbformat.read(write_solutions(tmp_path) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    good = _outputs(_namespace(demo_class.as_submitted(solution)))
    mutated = demo_class.mutate(solution, name, np.random.default_rng(0))
    assert mutated is not None
    try:
        bad = _outputs(_namespace(mutated))
    except ValueError:  # e.g. a missing transpose: shapes no longer match
        return
    assert any(g.shape != b.shape or not np.allclose(g, b) for g, b in zip(good, bad))


def test_mutation_that_does_not_apply(tmp_path):
    solution = nbformat.read(write_solutions(tmp_path) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    assert demo_class.mutate(solution, "momentum_order", np.random.default_rng(0)) is None
    with pytest.raises(ValueError, match="unknown mutation"):
        demo_class.mutate(solution, "typo", np.random.default_rng(0))


def test_partial_keeps_some_regions(built):
    submitted, plan, _ = built
    for sid in (s for s, k in plan.items() if k == "partial"):
        text = (submitted / sid / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
        assert text.count("NotImplementedError") == 2  # 3 regions, floor(3 / 2) kept


def test_project_solutions_build(tmp_path):
    solutions = sorted((ROOT / "solutions").glob("*/*.ipynb"))
    if not solutions:
        pytest.skip("no solution notebooks in solutions/ yet")
    applied: dict = {}
    plan = demo_class.build_class(tmp_path, n=8, seed=0, applied=applied)
    for sid, kind in plan.items():
        for path in solutions:
            a = path.parent.name
            target = tmp_path / sid / a / f"{a}.ipynb"
            assert target.exists() == (kind != "missing")
            if kind not in ("missing", "broken_json"):
                nbformat.read(target, as_version=4)
            assert applied[sid][a] == kind or kind.startswith("mistake:")
