"""CSV cells never start a formula; terminal text never carries a control sequence."""
import csv
import io

from hypothesis import given, strategies as st

from autograder.outputs.safe_text import csv_cell, csv_row, terminal_text


def test_formula_starts_get_a_quote_and_numbers_stay_numbers():
    assert csv_cell("=HYPERLINK(\"http://x\",\"y\")") == "'=HYPERLINK(\"http://x\",\"y\")"
    assert csv_cell("+1+1") == "'+1+1"
    assert csv_cell("@SUM(1)") == "'@SUM(1)"
    assert csv_cell("-x") == "'-x"
    assert csv_cell("\tcmd") == "'\tcmd"
    assert csv_cell("\rcmd") == "'\rcmd"
    assert csv_cell("s001") == "s001"
    assert csv_cell(-3.5) == -3.5 and csv_cell(12) == 12
    assert csv_cell(True) == "True" and csv_cell(None) == ""


def test_a_quoted_id_gets_one_more_quote_so_two_ids_stay_distinct():
    assert csv_cell("'=x") == "''=x"
    assert csv_cell("=x") != csv_cell("'=x")


@given(st.text(max_size=12), st.text(max_size=12))
def test_the_escape_is_injective_and_no_cell_starts_a_formula(a, b):
    ea, eb = csv_cell(a), csv_cell(b)
    assert (ea == eb) == (a == b)
    assert not ea.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_a_row_round_trips_through_the_csv_module():
    buffer = io.StringIO()
    csv.writer(buffer).writerow(csv_row(["=1+1", 3.0, "ok"]))
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ["'=1+1", "3.0", "ok"]


def test_terminal_text_shows_escape_sequences_and_bidi_overrides():
    assert terminal_text("s\x1b]0;pwned\x07") == "s\\x1b]0;pwned\\x07"
    assert terminal_text("abc\u202egpj.exe") == "abc\\u202egpj.exe"
    assert terminal_text("zero\u200bwidth") == "zero\\u200bwidth"
    assert terminal_text("tag\U000e0041") == "tag\\U000e0041"
    assert terminal_text("Zoë 😀 s-1") == "Zoë 😀 s-1"
    assert terminal_text("a\xa0b") == "a\\xa0b"  # a no-break space looks like a space


@given(st.text(max_size=12), st.text(max_size=12))
def test_terminal_text_is_injective_and_printable(a, b):
    ta, tb = terminal_text(a), terminal_text(b)
    assert (ta == tb) == (a == b)
    assert all(c.isprintable() for c in ta)
