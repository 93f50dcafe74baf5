"""The one way the ledger writes .xlsx: user text can never become a formula.

Text that starts with ``= + - @`` (or the full-width ``＝ ＋ － ＠`` a Chinese
input method types, or a tab or carriage return) is a formula to Excel and WPS
as soon as someone edits and re-saves the cell, or copies the sheet into a
CSV.  Every string written through a workbook from ``workbook()`` gets an
apostrophe in front of such text, so the content stays readable and is never
evaluated; numbers, dates and booleans are written as they are.  The options
also keep XlsxWriter from turning strings into formulas, links or numbers.
"""

from __future__ import annotations

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

#: first characters that make a spreadsheet read a cell as a formula (or DDE call)
FORMULA_STARTS = frozenset("=+-@＝＋－＠\t\r")
#: what goes in front of such text: Excel's own "this is text" mark
NEUTRAL_PREFIX = "'"
OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def neutral(value: str) -> str:
    """``value`` with an apostrophe in front when it would start a formula."""
    return NEUTRAL_PREFIX + value if value[:1] in FORMULA_STARTS else value


class SafeWorksheet(Worksheet):
    """A worksheet whose every string cell passes through ``neutral``.

    ``write``, ``write_row``, ``write_string`` and ``merge_range`` all end in
    ``_write_string``; overriding that one method covers them all (the tests
    of ``ledger.core.xlsx`` write through each, so an XlsxWriter upgrade that
    moved it would fail there).
    """

    def _write_string(self, row, col, string, cell_format=None):
        return super()._write_string(row, col, neutral(string), cell_format)


class SafeWorkbook(xlsxwriter.Workbook):
    """An XlsxWriter workbook whose sheets are ``SafeWorksheet``s."""

    worksheet_class = SafeWorksheet


def workbook(target, **options) -> SafeWorkbook:
    """A workbook writing to ``target`` (a path or a binary stream) with the safe options;
    ``options`` adds XlsxWriter's others (``constant_memory``, ``tmpdir``, ``in_memory``)."""
    return SafeWorkbook(str(target) if not hasattr(target, "write") else target,
                        {**OPTIONS, **options})
