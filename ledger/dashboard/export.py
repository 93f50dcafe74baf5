"""A dashboard's tables as one .xlsx workbook: one sheet per table, as the page shows them.

The web layer gives the tables already labelled in the user's language (a list of
``Sheet``); this writes them with XlsxWriter into memory (a dashboard has a few
hundred cells at most, unlike the ledger export, which streams).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.core import xlsx

#: characters Excel refuses in a sheet name, and its length limit
_BAD_NAME = re.compile(r"[\[\]:*?/\\]")
NAME_LIMIT = 31


@dataclass(frozen=True)
class Sheet:
    """One table: its title (the sheet's name), the column headers and the rows."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    #: lines written above the table (the unit, the date, how the figures are defined)
    notes: Sequence[str] = ()


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name for ``title`` (at most 31 characters)."""
    base = _BAD_NAME.sub(" ", title).strip()[:NAME_LIMIT] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[:NAME_LIMIT - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The workbook of ``sheets``, in order, as bytes."""
    out = io.BytesIO()
    book = xlsx.workbook(out, in_memory=True)
    bold = book.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1})
    cell = book.add_format({"border": 1})
    taken: set[str] = set()
    for sheet in sheets:
        ws = book.add_worksheet(sheet_name(sheet.title, taken))
        for r, note in enumerate(sheet.notes):
            ws.write_string(r, 0, note)
        top = len(sheet.notes) + (1 if sheet.notes else 0)
        for c, header in enumerate(sheet.headers):
            ws.write_string(top, c, str(header), bold)
            ws.set_column(c, c, max(10, min(40, 2 * len(str(header)) + 2)))
        for r, row in enumerate(sheet.rows, start=top + 1):
            for c, value in enumerate(row):
                if value is None:
                    ws.write_blank(r, c, None, cell)
                elif isinstance(value, bool):
                    ws.write_string(r, c, str(value), cell)
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value, cell)
                else:
                    ws.write_string(r, c, str(value), cell)
        ws.freeze_panes(top + 1, 0)
    book.close()
    return out.getvalue()
