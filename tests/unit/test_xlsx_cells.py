"""User text in an .xlsx export is never a formula: one helper neutralises every string cell.

A cell that starts with ``= + - @`` (or their full-width forms, a tab or a
carriage return) becomes a formula as soon as someone edits and re-saves it in
Excel or WPS, or pastes it into a CSV.  ``ledger.core.xlsx`` prefixes such text
with an apostrophe; numbers stay numbers.  Every writer of the ledger goes
through it (checked below by reading the sources).
"""

from __future__ import annotations

import ast
import io
from pathlib import Path

import openpyxl
import pytest

from ledger.core import xlsx

ROOT = Path(__file__).parents[2]
HOSTILE = ["=1+1", "+1", "-1+2", "@SUM(A1)", "＝1+1", "＋1", "－1", "＠SUM(A1)", "\t=1+1",
           "\r=1+1", '=HYPERLINK("http://evil.example","点我")', "=cmd|' /C calc'!A0"]
HARMLESS = ["村111", "", "1-2", "a=b", " =1", "'=1", "2026-K1-0001", "已退回 2 次"]


@pytest.mark.parametrize("value", HOSTILE)
def test_text_that_would_start_a_formula_gets_an_apostrophe_and_keeps_its_content(value):
    assert xlsx.neutral(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_other_text_is_left_as_it_is(value):
    assert xlsx.neutral(value) == value


def read_back(data: bytes) -> list[list[openpyxl.cell.Cell]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [list(row) for row in book.worksheets[0].iter_rows()]


@pytest.mark.parametrize("constant_memory", [False, True])
def test_every_way_of_writing_a_string_is_neutralised_and_numbers_stay_numbers(constant_memory):
    out = io.BytesIO()
    book = xlsx.workbook(out, in_memory=not constant_memory, constant_memory=constant_memory)
    sheet = book.add_worksheet("s")
    sheet.write_string(0, 0, "=1+1")
    sheet.write(0, 1, "＋1")
    sheet.write_row(0, 2, ["@x", -5, 2.5, "-3"])
    sheet.merge_range(0, 6, 0, 7, "\t=2", book.add_format({"text_wrap": True}))
    sheet.write_string("I1", "-1")  # A1 notation too
    sheet.write_number(1, 0, -7)
    sheet.write(1, 1, "普通文字")
    book.close()
    rows = read_back(out.getvalue())
    first = [(c.value, c.data_type) for c in rows[0]]
    assert first == [("'=1+1", "s"), ("'＋1", "s"), ("'@x", "s"), (-5, "n"), (2.5, "n"),
                     ("'-3", "s"), ("'\t=2", "s"), (None, "n"), ("'-1", "s")]
    assert [(c.value, c.data_type) for c in rows[1][:2]] == [(-7, "n"), ("普通文字", "s")]


def test_the_workbook_never_turns_strings_into_formulas_links_or_numbers():
    out = io.BytesIO()
    book = xlsx.workbook(out, in_memory=True)
    book.add_worksheet().write_row(0, 0, ["http://example.org", "12", "'=1"])
    book.close()
    assert [(c.value, c.data_type) for c in read_back(out.getvalue())[0]] == [
        ("http://example.org", "s"), ("12", "s"), ("'=1", "s")]


def workbook_calls(path: Path) -> list[int]:
    """Lines of ``path`` that build an XlsxWriter or openpyxl workbook for writing."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "Workbook":
                lines.append(node.lineno)
    return lines


def test_no_module_but_the_helper_builds_a_workbook_of_its_own():
    helper = ROOT / "ledger" / "core" / "xlsx.py"
    offenders = {str(path.relative_to(ROOT)): lines
                 for folder in ("ledger", "web", "schedules")
                 for path in sorted((ROOT / folder).rglob("*.py"))
                 if path != helper and (lines := workbook_calls(path))}
    assert offenders == {}, f"build workbooks with ledger.core.xlsx.workbook: {offenders}"
