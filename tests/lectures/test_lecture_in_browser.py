"""A lecture notebook in a real JupyterLab in headless Chromium: Run All draws the figures,
moving a slider changes the figure on the page, and the console stays free of errors.

JupyterLab runs on a free loopback port with a token, from temporary config, data, runtime,
settings and workspace folders that turn off its news feed, update check and extension
manager (no network here), serving a temporary copy of the notebook (autosave must not write
outputs into the repository). The server, its kernels and Chromium are stopped at the end,
whatever happened. Skipped, with the reason, where Chromium or Playwright is missing.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fixtures.browser import chromium, console_errors, jupyterlab, needs_chromium, open_notebook_and_run_all

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "chain_rule.ipynb"  # three figures, the quickest of the three to run

pytestmark = [pytest.mark.slow, needs_chromium]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``(base_url, token)`` of a JupyterLab serving a copy of lectures/; stopped afterwards."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    served = tmp / "lectures"
    served.mkdir()
    shutil.copy(ROOT / "lectures" / NOTEBOOK, served / NOTEBOOK)
    with jupyterlab(tmp, served, pythonpath=str(ROOT)) as server:  # lectures/ imports the library
        yield server


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile"), {"width": 1600, "height": 1000}) as context:
        yield context


def test_run_all_then_a_slider_redraws_the_figure_without_console_errors(lab, browser, tmp_path):
    base, token = lab
    page = browser.new_page()
    errors = console_errors(page)
    images = page.locator(".jp-OutputArea-output img.widget-image")
    try:
        open_notebook_and_run_all(page, f"{base}/lab/tree/{NOTEBOOK}?token={token}")
        images.nth(2).wait_for(state="visible", timeout=60_000)  # all three figures at the defaults
    except Exception:
        page.screenshot(path=str(tmp_path / "run-all.png"), full_page=True)
        print("screenshot:", tmp_path / "run-all.png", "console errors:", errors)
        raise
    assert images.count() == 3
    for k in range(3):
        page.wait_for_function("img => img.complete && img.naturalWidth > 600", arg=images.nth(k).element_handle(),
                               timeout=30_000)
    figure = images.nth(0)  # (x + y) z
    before_src, before_png = figure.get_attribute("src"), figure.screenshot()

    handle = page.locator(".widget-slider .noUi-handle").first  # the x slider of the first graph
    handle.focus()
    for _ in range(4):
        handle.press("ArrowRight")  # x: -2 -> 0
    page.wait_for_function("([img, src]) => img.src !== src && img.complete && img.naturalWidth > 600",
                           arg=[figure.element_handle(), before_src], timeout=30_000)
    after_png = figure.screenshot(path=str(tmp_path / "after.png"))
    assert after_png != before_png  # the pixels on the page changed, not only the URL
    readout = page.locator(".widget-slider .widget-readout").first.inner_text()
    assert readout.strip() == "0"
    page.close()
    assert errors == [], errors
