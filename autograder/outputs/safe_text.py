"""Text a student controls, made safe for the two places it reaches a TA: spreadsheets and terminals.

A student id is a folder name; an error message quotes the student's exception. Either can be
made to look like a spreadsheet formula (`=HYPERLINK(...)`, `+1+1`, `@SUM(1)`, `-x`) or to carry
terminal control sequences (ESC / OSC, bidi overrides). The curriculum ("What grading promises")
fixes the two escapes:

- `csv_cell(value)`: a string that begins with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`;
  one that already begins with `'` gets one more, so `=x` -> `'=x` and `'=x` -> `''=x` stay
  distinct (the escape is injective). Numbers stay numbers. Every CSV the kit writes passes
  each cell through it, except identity columns copied verbatim from a Canvas export.
- `terminal_text(text)`: every character Python does not call printable (`str.isprintable`:
  control (Cc), format (Cf, which holds the bidi overrides and zero-width characters),
  separators other than the plain space (a no-break space looks like one), surrogates,
  private-use and unassigned code points) is shown as a visible escape (`\\x1b`, `\\u202e`,
  `\\U000e0001`); a backslash is doubled, so two distinct texts never print the same.
"""
from __future__ import annotations

from numbers import Real
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_QUOTE = "'"


def csv_cell(value: Any) -> Any:
    """`value` as a CSV cell that no spreadsheet reads as a formula.

    Args:
        value: a cell; `None` becomes "", real numbers (not bools) are returned unchanged so the
            csv module writes them as numbers, anything else is turned into `str` first.

    Returns:
        The value itself for numbers, else the (possibly quoted) string.
    """
    if value is None:
        return ""
    if isinstance(value, Real) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) or text.startswith(_QUOTE):
        return _QUOTE + text
    return text


def csv_row(values: list[Any]) -> list[Any]:
    """`csv_cell` applied to every cell of a row."""
    return [csv_cell(v) for v in values]


def _escape_char(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def terminal_text(text: Any) -> str:
    """`text` with every invisible or terminal-controlling character shown as an escape.

    Printable text (letters, digits, punctuation, spaces, emoji) is kept as it is.
    """
    out = []
    for char in str(text):
        if char == "\\":
            out.append("\\\\")
        elif not char.isprintable():
            out.append(_escape_char(char))
        else:
            out.append(char)
    return "".join(out)
