"""The probes of issue 13, each planted in a real assignment and graded through the sandbox:
each loses points, and the in-place ones say what was modified (in-process versions of the
same properties: tests/courseware/test_public_checks_are_graded.py)."""
from __future__ import annotations

import io
from pathlib import Path

import nbformat
import pytest

from autograder.pipeline.results import read_result
from autograder.sandbox.launch import bwrap_skip_reason

REPO = Path(__file__).resolve().parents[3]
SKIP = bwrap_skip_reason()
pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.skipif(SKIP is not None, reason=SKIP or "")]

# student -> (assignment, cell, function, right text, wrong text, check that must fail, words)
PROBES = {
    "sgd_in_place": ("a4_momentum", "sol_sgd", "sgd",
                     '    next_w = -config["learning_rate"] * dw + w  # = w - lr * dw, the product first so numpy can reuse its temporary\n',
                     '    w -= config["learning_rate"] * dw\n    next_w = w\n',
                     "inputs_untouched", "w changed"),
    "velocity_in_place": ("a4_momentum", "sol_sgd_momentum", "sgd_momentum",
                          '    v = dw + config["momentum"] * v\n',
                          '    v *= config["momentum"]\n    v += dw\n',
                          "inputs_untouched", "config['velocity'] changed"),
    "clip_in_place": ("a5_vanishing", "sol_clip_gradients", "clip_gradients",
                      "    clipped = {name: g * scale for name, g in grads.items()}\n",
                      "    for g in grads.values():\n        g *= scale\n    clipped = grads\n",
                      "input_untouched", "changed in place"),
    "output_activation_ignored": ("a3_mlp", "sol_mlp_backward", "mlp_backward",
                                  "        _, backward = ACTIVATIONS[output_activation if l == L else activation]\n",
                                  '        _, backward = ACTIVATIONS["identity" if l == L else activation]\n',
                                  "tanh_sigmoid_output", "mlp_backward"),
    "no_restore_on_error": ("a2_vectorized", "sol_gradcheck", "numerical_gradient",
                            "        try:\n            x[ix] = old + h\n            f_plus = float(f(x))\n"
                            "            x[ix] = old - h\n            f_minus = float(f(x))\n"
                            "        finally:\n            x[ix] = old\n",
                            "        x[ix] = old + h\n        f_plus = float(f(x))\n"
                            "        x[ix] = old - h\n        f_minus = float(f(x))\n        x[ix] = old\n",
                            "restores_x_on_error", "f raised"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from autograder.pipeline.run import grade_class
    from tools.demo_class import as_submitted

    root = tmp_path_factory.mktemp("probes")
    for sid, (a, cell_id, _f, right, wrong, _check, _words) in PROBES.items():
        nb = as_submitted(nbformat.read(REPO / "solutions" / a / f"{a}.ipynb", as_version=4))
        (cell,) = [c for c in nb.cells if c.get("id") == cell_id]
        assert cell.source.count(right) == 1, (sid, right)
        cell.source = cell.source.replace(right, wrong)
        folder = root / "submitted" / sid / a
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{a}.ipynb")
    grade_class(root / "submitted", root / "out", solutions=REPO / "solutions", jobs=2, seed=3,
                progress=False, outputs=False, stream=io.StringIO())
    return root / "out"


@pytest.mark.parametrize("sid", list(PROBES))
def test_probe_loses_points_and_says_why(graded, sid):
    a, _cell, function, _right, _wrong, check, words = PROBES[sid]
    result = read_result(graded / "results" / sid / f"{a}.json")
    assert result["status"] == "ok", result["reason"]
    assert result["auto_score"] < result["auto_max_score"]
    (row,) = [c for c in result["checks"] if c["function"] == function and c["check"] == check]
    assert not row["passed"] and row["points"] == 0, row
    assert words in row["message"], row["message"]
