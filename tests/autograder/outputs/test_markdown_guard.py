"""Student markdown that could run a script in formgrader is shown as plain text; the rest is not."""
from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook

from autograder.outputs.markdown_guard import defuse_markdown

RISKY = [
    '<img src=x onerror="fetch(\'/api/contents\')">',
    "<svg onload=alert(1)>",
    "[my answer](javascript:alert(document.cookie))",
    "[x](jav&#x61;script:alert(1))",
    "[x](java\tscript:alert(1))",
    "<https://example.org>",
]
HARMLESS = [
    "The gradient of $f = q z$ is $z$ for $q$: multiply by the upstream gradient.",
    "Because `x.T @ dout` has the shape of W, not of x.",
    "We need $0.25^n$ to shrink, so n > 10 layers vanish.",
]


def notebook(texts: list[str]) -> nbformat.NotebookNode:
    return new_notebook(cells=[new_markdown_cell(t) for t in texts])


@pytest.mark.parametrize("text", RISKY)
def test_script_carrying_markdown_becomes_a_code_block(text):
    nb = notebook([text])
    assert defuse_markdown(nb, trusted_texts=set()) == 1
    shown = nb.cells[0].source
    assert shown.startswith("*[autograder:") and "```text\n" + text + "\n```" in shown


@pytest.mark.parametrize("text", HARMLESS)
def test_plain_answers_render_as_written(text):
    nb = notebook([text])
    assert defuse_markdown(nb, trusted_texts=set()) == 0
    assert nb.cells[0].source == text


def test_the_sources_own_text_is_trusted_and_fences_cannot_be_escaped():
    instructions = "Run <b>every</b> cell."
    sneaky = "```\n</pre><img src=x onerror=alert(1)>\n```"
    nb = notebook([instructions, sneaky])
    assert defuse_markdown(nb, trusted_texts={instructions}) == 1
    assert nb.cells[0].source == instructions
    assert "````text" in nb.cells[1].source  # a longer fence than any run of backticks inside
