"""The student's feedback page: per function checks, relative errors, named mistakes with hints,
plots of analytic against numerical values, status pages, and nothing unsafe or hidden."""
from __future__ import annotations

import base64
import io
import re

import matplotlib.image
import pytest

from autograder.outputs import feedback
from fixtures.outputs import check, class_results, full_checks, result

CURRICULUM_MISTAKES = {"missing_transpose", "wrong_sign", "missing_mean", "activation_not_preactivation",
                       "ignored_upstream", "momentum_order", "wrong_reg_factor", "bias_not_summed",
                       "wrong_shape", "not_backprop", "not_accumulated", "missing_local_gradient",
                       "wrong_mask"}  # the four of issue 13


def _pngs(page: str) -> list[tuple[int, int]]:
    """(height, width) of every embedded PNG."""
    shapes = []
    for b64 in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page):
        shapes.append(matplotlib.image.imread(io.BytesIO(base64.b64decode(b64)), format="png").shape[:2])
    return shapes


def _write(tmp_path, r):
    path = tmp_path / "feedback" / r["student_id"] / f"{r['assignment']}.html"
    feedback.write_feedback(r, path)
    return path.read_text()


def test_every_named_mistake_has_a_hint():
    assert set(feedback.MISTAKE_HINTS) == CURRICULUM_MISTAKES
    assert "dW^l = Delta^l.T @ A^{l-1}" in feedback.MISTAKE_HINTS["missing_transpose"][1]
    assert "2 * reg * W^l" in feedback.MISTAKE_HINTS["wrong_reg_factor"][1]


def test_correct_submission_page(tmp_path):
    page = _write(tmp_path, class_results()[0])
    assert "6 / 6" in page and "6 of 6 checks passed" in page
    for function in ("affine_forward", "affine_backward", "mse_loss"):
        assert f"<code>{function}</code>" in page
    assert page.count('<span class="pass">pass</span>') == 6
    assert _pngs(page) == []  # nothing failed: no plots
    assert page.count("3.20e-10") == 6  # relative error read from the rows' rel_error field


def test_named_mistake_gets_hint_and_plot(tmp_path):
    page = _write(tmp_path, class_results()[1])
    assert "5 / 6" in page and "Missing transpose" in page
    assert "dW^l = Delta^l.T @ A^{l-1}" in page
    shapes = _pngs(page)
    assert len(shapes) == 1 and shapes[0][0] > 100 and shapes[0][1] > 100
    # the sample is analytic = -numerical: the norm-wise relative error is exactly 1
    assert "1.00e+00" in page


def test_plots_are_capped_and_go_to_failed_checks(tmp_path):
    checks = [check("f", f"c{i}", 1.0, i % 2 == 0, sample={"analytic": [1.0, 2.0], "numerical": [1.0, 2.5]})
              for i in range(20)]
    page = _write(tmp_path, result("s09", checks))
    assert len(_pngs(page)) == feedback.MAX_PLOTS


def test_sample_as_pairs_from_the_checks(tmp_path):
    # autograder.checks records a sample as (student's value, numerical value) pairs
    pairs = [[-1.0, 1.0], [-2.0, 2.0], [0.5, -0.5]]
    c = check("affine_backward", "dx", 1.0, False, message="dx: wrong", mistake="wrong_sign", sample=pairs)
    assert feedback.relative_error(c) == 1.0
    page = _write(tmp_path, result("s09", [c]))
    assert len(_pngs(page)) == 1 and "Wrong sign" in page


def test_unusable_sample_is_skipped(tmp_path):
    checks = [check("f", "a", 1.0, False, sample={"analytic": [1, 2, 3], "numerical": [1, 2]}),
              check("f", "b", 1.0, False, sample={"analytic": "junk", "numerical": None}),
              check("f", "c", 1.0, False, sample={"analytic": [float("nan")], "numerical": [1.0]}),
              check("f", "d", 1.0, False, sample=[[1.0, 2.0, 3.0]]), check("f", "e", 1.0, False, sample=[])]
    page = _write(tmp_path, result("s09", checks))
    assert _pngs(page) == []
    assert "0 / 5" in page


def test_student_text_is_escaped_and_page_runs_no_script(tmp_path):
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    r = result("s<b>", [check("f", "c", 1.0, False, message=evil)], status="ok")
    page = _write(tmp_path, r)
    assert "<script" not in page and "onerror=alert(2)>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


@pytest.mark.parametrize("status, words", [
    ("error", "Restart Kernel and Run All Cells"),
    ("timeout", "time limit"),
    ("missing", "No notebook was found"),
])
def test_status_pages_say_what_happened_and_what_to_do(tmp_path, status, words):
    r = next(r for r in class_results() if r["status"] == status)
    page = _write(tmp_path, r)
    assert words in page
    assert feedback.escape(r["reason"]) in page
    assert "0 / 6" in page


def test_unfinished_function_is_pointed_out(tmp_path):
    page = _write(tmp_path, class_results()[3])
    assert "still raises <code>NotImplementedError</code>" in page


def test_relative_error_sources():
    assert feedback.relative_error({"rel_error": 0.25, "message": "relative error 0.5"}) == 0.25
    # our own message text is never read back: a row without the field has no number
    assert feedback.relative_error({"message": "rel_error = 3e-07 (tol 1e-6)"}) is None
    assert feedback.relative_error({"sample": {"analytic": [3.0, 4.0], "numerical": [0.0, 0.0]}}) == 1.0
    assert feedback.relative_error({"message": "shape (3, 2), expected (2, 3)"}) is None


def test_bad_input_raises_and_write_is_atomic(tmp_path):
    with pytest.raises(ValueError, match="student_id"):
        feedback.write_feedback({"assignment": "a", "status": "ok"}, tmp_path / "x.html")
    with pytest.raises(ValueError, match="dict"):
        feedback.write_feedback(["not", "a", "dict"], tmp_path / "x.html")  # type: ignore[arg-type]
    r = class_results()[0]
    path = tmp_path / "out.html"
    feedback.write_feedback(r, path)
    feedback.write_feedback(r, path)
    assert [p.name for p in tmp_path.iterdir()] == ["out.html"]  # no temp files left behind
