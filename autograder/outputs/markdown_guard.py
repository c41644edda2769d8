"""Student markdown that could run a script in the TA's browser, shown as plain text instead.

nbgrader's formgrader renders a submission's markdown with its raw HTML and `javascript:` links,
inside the TA's Jupyter server (the TA's credentials). `defuse_markdown` turns any student
markdown cell holding a tag or a script link into a fenced code block with a one-line note;
everything else renders as the student wrote it. Used by `autograder/outputs/formgrader.py`.
"""
from __future__ import annotations

import html
import re

import nbformat

_TAG = re.compile(r"<[A-Za-z/!?]")
_SCHEMES = ("javascript:", "vbscript:")  # browsers no longer open data: links
_INERT_NOTE = ("*[autograder: this text contains HTML or a script link, so formgrader shows it as "
               "the student wrote it, as plain text]*")


def _risky_markdown(text: str) -> bool:
    """Could formgrader's markdown rendering of `text` run a script in the TA's browser?

    formgrader (nbconvert's markdown2html in its `formgrade` template) passes raw HTML through
    (`<img onerror=...>`, `<svg onload=...>`) and `javascript:` link targets, at the Jupyter
    server's origin with the TA's credentials. Active content needs a tag (`<` and a letter,
    `/`, `!` or `?`; autolinks too) or a link target with a script scheme, possibly spelled
    with entities, backslash escapes or whitespace; code spans and math are escaped already.
    """
    if _TAG.search(text):
        return True
    plain = text
    for _ in range(3):
        plain = html.unescape(plain)
    plain = re.sub(r"[\s\x00-\x1f\\]", "", plain).lower()
    return any(scheme in plain for scheme in _SCHEMES)


def _inert(text: str) -> str:
    """`text` as a fenced code block: shown verbatim, nothing rendered."""
    longest = max((len(run) for run in re.findall(r"`+|~+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{_INERT_NOTE}\n\n{fence}text\n{text}\n{fence}"


def defuse_markdown(nb: nbformat.NotebookNode, trusted_texts: set[str]) -> int:
    """Show the student's markdown that could run a script in formgrader as plain text.

    A markdown cell whose text is one of the source notebook's own (`trusted_texts`, e.g.
    instructions the student did not edit) is left alone. Returns the number of cells changed.
    """
    changed = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "markdown":
            continue
        text = cell.get("source", "")
        if not isinstance(text, str):
            text = "".join(text)
        if text in trusted_texts or not _risky_markdown(text):
            continue
        cell["source"] = _inert(text)
        cell.pop("attachments", None)
        changed += 1
    return changed
