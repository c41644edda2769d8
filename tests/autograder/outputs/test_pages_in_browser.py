"""The class report and a feedback page in headless Chromium: every image loads, no console
errors, a screenshot renders. Skipped, with the reason, where Chromium or Playwright is missing."""
from __future__ import annotations

from pathlib import Path

import pytest

from autograder.outputs import feedback, report
from fixtures.browser import chromium, console_errors, needs_chromium
from fixtures.outputs import class_results

pytestmark = [needs_chromium]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


def _open(context, path: Path, screenshot: Path) -> tuple[list, list[str]]:
    """(images as [complete, naturalWidth, alt], console errors) after loading `path`."""
    page = context.new_page()
    errors = console_errors(page)
    page.goto(path.resolve().as_uri(), wait_until="load", timeout=60_000)
    images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    assert screenshot.stat().st_size > 10_000
    return images, errors


def test_report_renders_with_every_image(browser, tmp_path):
    path = report.write_report(class_results(), tmp_path)
    images, errors = _open(browser, path, tmp_path / "report.png")
    assert len(images) == 5
    assert all(complete and width > 0 for complete, width, _ in images), images
    assert errors == []


def test_feedback_page_renders_with_its_plot(browser, tmp_path):
    path = tmp_path / "feedback.html"
    feedback.write_feedback(class_results()[1], path)  # a missing transpose: one plot
    images, errors = _open(browser, path, tmp_path / "feedback.png")
    assert len(images) == 1 and images[0][0] and images[0][1] > 100
    assert errors == []


def test_a_broken_image_would_be_caught(browser, tmp_path):
    # the check above can fail: a page with an undecodable image shows naturalWidth 0
    path = tmp_path / "broken.html"
    path.write_text('<!DOCTYPE html><html><body><img src="data:image/png;base64,AAAA" alt="x">'
                    "<p>" + "text " * 2000 + "</p></body></html>")
    images, _ = _open(browser, path, tmp_path / "broken.png")
    assert images == [[True, 0, "x"]]
