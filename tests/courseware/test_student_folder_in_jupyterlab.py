"""A student's fetched folders in a real JupyterLab, in headless Chromium: Run All Cells, then no
error output and the figures on the page.

JupyterLab serves the student's home (the folders `nbgrader fetch_assignment` wrote, with the
work done), not the project root, from a process with no PYTHONPATH and its own Jupyter config,
data, runtime and settings folders (news and update checks off, every cell rendered), on a free
loopback port. Every assignment: a1_gates's graph drawings, a2_vectorized's and a3_mlp's plots,
a4_momentum's digits from the folder's own package and momentum plots, a5_vanishing's gradient
plots. Jupyter and Chromium are always stopped.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from courseware import notebooks
from courseware.layout import Layout
from courseware.student_folder import completed_notebook
from fixtures.browser import chromium, jupyterlab, needs_chromium, open_notebook_and_run_all

LAYOUT = Layout()
SHOWN = tuple(LAYOUT.assignments())

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900), needs_chromium]


@pytest.fixture(scope="module")
def lab(exchange, tmp_path_factory):
    """(base URL, token, the student's home) of a JupyterLab serving bob's fetched folders."""
    for a in SHOWN:
        folder = exchange.fetch("bob", a)
        path = folder / f"{a}.ipynb"
        notebooks.write(completed_notebook(notebooks.read(path), notebooks.read(LAYOUT.solution_notebook(a))), path)
    home = exchange.student_home("bob")
    with jupyterlab(tmp_path_factory.mktemp("jupyter"), home) as (base, token):  # no PYTHONPATH
        yield base, token, home


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile"), {"width": 1400, "height": 1000}) as context:
        yield context


def run_all(page, url: str, path: Path, n_code: int) -> None:
    """Open `url`, Run All Cells, wait until every code cell ran, save."""
    assert open_notebook_and_run_all(page, url) == n_code
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        saved = notebooks.read(path)
        if all(c.get("execution_count") for c in saved.cells if c.cell_type == "code"):
            return
        time.sleep(0.5)
    pytest.fail(f"{path.name} was not saved with every cell run")


@pytest.mark.parametrize("a", SHOWN)
def test_fetched_folder_runs_all_in_jupyterlab_with_its_figures(a, lab, browser):
    base, token, home = lab
    path = home / a / f"{a}.ipynb"
    n_code = sum(c.cell_type == "code" for c in notebooks.read(path).cells)
    page = browser.new_page()
    start = time.perf_counter()
    try:
        run_all(page, f"{base}/lab/tree/{a}/{a}.ipynb?reset&token={token}", path, n_code)
        images = page.evaluate("[...window.jupyterapp.shell.currentWidget.node.querySelectorAll('.jp-OutputArea-output img')]"
                               ".map(i => [i.complete, i.naturalWidth])")
        errors_shown = page.evaluate("window.jupyterapp.shell.currentWidget.node.querySelectorAll("
                                     "\"[data-mime-type='application/vnd.jupyter.stderr']\").length")
        page.screenshot(path=str(home / f"{a}.png"))
    finally:
        page.close()
    print(f"{a}: Run All in JupyterLab, {n_code} code cells, {time.perf_counter() - start:.1f} s, {len(images)} figures")
    saved = notebooks.read(path)
    outputs = [o for c in saved.cells if c.cell_type == "code" for o in c.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    assert errors_shown == 0
    assert sum("image/png" in o.get("data", {}) for o in outputs) == len(images) > 0
    assert all(complete and width > 100 for complete, width in images), images
    text = "".join(o.get("text", "") for o in outputs)
    assert "PASS" in text and "FAIL" not in text
