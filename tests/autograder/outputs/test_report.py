"""The class report: status counts, score histograms, pass rate per check, common mistakes,
time per notebook, on one self-contained page."""
from __future__ import annotations

import base64
import io
import re

import matplotlib.image
import pytest

from autograder.outputs import report
from fixtures.outputs import ASSIGNMENT, class_results, full_checks, result


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("out")
    path = report.write_report(class_results(), out)
    assert path == out / "report" / "index.html"
    return path.read_text()


def test_every_figure_is_an_embedded_png(page):
    images = re.findall(r'<img[^>]*src="([^"]*)"', page)
    # status, score histograms, pass rate of the one assignment, mistakes, time
    assert len(images) == 5
    for src in images:
        assert src.startswith("data:image/png;base64,")
        h, w = matplotlib.image.imread(io.BytesIO(base64.b64decode(src.split(",", 1)[1])), format="png").shape[:2]
        assert h > 50 and w > 200
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_status_table_counts(page):
    row = re.search(rf"<tr><td>{ASSIGNMENT}</td>(.*?)</tr>", page).group(1)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    # ok, error, timeout, missing, mean score (6+5+5+0+0+0+0)/7, max
    assert cells == ["4", "1", "1", "1", "2.286", "6"]


def test_pass_rates_count_graded_notebooks():
    rates = {(f, c): (p, n) for f, c, p, n in report.pass_rates(class_results(), ASSIGNMENT)}
    assert rates[("affine_backward", "dW_vs_numerical")] == (2, 4)  # s02 transposed, s04 unfinished
    assert rates[("affine_forward", "shape")] == (3, 4)
    assert len(rates) == 6


def test_mistakes_counted_once_per_notebook():
    results = class_results() + [result("s08", full_checks({"dx_vs_numerical", "dW_vs_numerical"},
                                                           "missing_transpose"))]
    counts = report.mistake_counts(results)
    assert counts[(ASSIGNMENT, "affine_backward", "missing_transpose")] == 2
    assert counts[(ASSIGNMENT, "mse_loss", "missing_mean")] == 1
    assert sum(counts.values()) == 3


def test_time_and_problem_tables(page):
    row = re.search(rf"<h2>Time per notebook</h2>.*?<tr><td>{ASSIGNMENT}</td>(.*?)</tr>", page, re.S).group(1)
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert [cells[0], cells[1], cells[3], cells[4]] == ["7", "0.35", "60.10", "61.8"]  # n, median, max, total
    assert "SyntaxError: invalid syntax (cell sol_affine, line 3)" in page
    assert "the notebook&#x27;s code ran past 60 s" in page


def test_several_assignments_in_course_order(tmp_path):
    results = class_results() + [result("s01", full_checks(), assignment="a1_gates")]
    html = report.render_report(results)
    assert html.index("<td>a1_gates</td>") < html.index(f"<td>{ASSIGNMENT}</td>")
    assert len(re.findall(r"<img ", html)) == 6  # one more pass-rate figure


def test_empty_and_bad_input(tmp_path):
    html = report.write_report([], tmp_path).read_text()
    assert "No results to report" in html and "<img" not in html
    with pytest.raises(ValueError):
        report.write_report([1, 2], tmp_path)  # type: ignore[list-item]


def test_pass_rates_leave_out_notebooks_whose_code_did_not_load():
    broken = result("s09", [dict(c, passed=False, points=0.0) for c in full_checks()],
                    status="error", reason="SyntaxError in cell sol_affine")
    before = report.pass_rates(class_results(), ASSIGNMENT)
    assert report.pass_rates(class_results() + [broken], ASSIGNMENT) == before
