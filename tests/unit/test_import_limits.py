"""Hostile import files are refused early, before they cost the server time or memory.

The files are built here: a workbook is a zip, so a sheet of a million empty
rows or a cell of a hundred million characters compresses to a few hundred
kilobytes.  Each must be refused with a clear reason before it is read: the
tests count the cells the reader converted (no clock: a loaded machine must
not make them fail).
"""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from ledger.core.errors import ValidationError
from ledger.org.imports import (
    MAX_CELL,
    MAX_ROWS,
    MAX_XLSX_BYTES,
    UNIT_COLUMNS,
    UNIT_LIMITS,
    UNIT_REQUIRED,
    ImportRejected,
    _cell,
    read_records,
    read_rows,
)

HEADER = ["code", "name", "level", "parent_code"]
SHEET = "xl/worksheets/sheet1.xml"


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_member(name: str, chunks) -> bytes:
    """A real workbook whose member ``name`` is replaced by the streamed ``chunks``."""
    source = zipfile.ZipFile(io.BytesIO(xlsx([HEADER, ["V1", "村", "村", "T1"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info))
        with target.open(name, "w", force_zip64=True) as member:
            for chunk in chunks:
                member.write(chunk.encode())
    return out.getvalue()


def sheet_xml(rows, dimension: str | None = None):
    """A worksheet's XML in pieces; ``dimension`` as the sheet claims it (None: leave it out)."""
    yield ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           + (f'<dimension ref="{dimension}"/>' if dimension else "") + "<sheetData>")
    yield from rows
    yield "</sheetData></worksheet>"


def inline_row(n: int, cells: list[str]) -> str:
    body = "".join(f'<c r="{chr(65 + i)}{n}" t="inlineStr"><is><t>{v}</t></is></c>'
                   for i, v in enumerate(cells))
    return f'<row r="{n}">{body}</row>'


def refused(data: bytes, filename: str = "units.xlsx") -> tuple[ValidationError, int]:
    """The refusal, and how many cells were read before it."""
    read = []

    def counted(value, size):
        read.append(1)
        return _cell(value, size)

    with pytest.raises(ValidationError) as info:
        read_rows(filename, data, UNIT_LIMITS, counted)
    with pytest.raises(ValidationError) as again:  # the same through the records reader
        read_records(filename, data, UNIT_COLUMNS, UNIT_REQUIRED)
    assert again.value.fields == info.value.fields
    return info.value, len(read)


def test_a_sheet_of_a_million_empty_rows_is_refused_before_it_is_parsed():
    def empty_rows():
        yield inline_row(1, HEADER)
        for _ in range(400):
            yield "<row/>" * 10_000

    data = with_member(SHEET, sheet_xml(empty_rows(), "A1:D4000001"))
    assert len(data) < 256 * 1024  # small on the wire, 24 MB of XML inside
    error, cells = refused(data)
    assert error.fields == {"file": "too large"} and error.details["max_bytes"] == MAX_XLSX_BYTES
    assert cells == 0  # refused from the zip's directory, never parsed


def test_a_cell_of_a_hundred_million_characters_is_refused_before_it_is_parsed():
    def huge_cell():
        yield inline_row(1, HEADER) + '<row r="2"><c r="A2" t="inlineStr"><is><t>'
        for _ in range(100):
            yield "x" * 1_000_000
        yield "</t></is></c></row>"

    data = with_member(SHEET, sheet_xml(huge_cell(), "A1:D2"))
    error, cells = refused(data)
    assert error.fields == {"file": "too large"} and cells == 0


def test_reading_stops_at_the_row_cap():
    rows = [inline_row(1, HEADER)] + [inline_row(n, [f"V{n}", "村", "村", "T1"])
                                      for n in range(2, 3 * MAX_ROWS)]
    error, cells = refused(with_member(SHEET, sheet_xml(rows, f"A1:D{3 * MAX_ROWS}")))
    assert error.fields == {"file": "too many rows"}
    # stopped just past the cap (each row padded to the columns read), not at the end
    assert cells <= UNIT_LIMITS.columns * (MAX_ROWS + 2) < UNIT_LIMITS.columns * 3 * MAX_ROWS
    # the same through CSV
    csv = "\n".join(["code,name,level,parent_code"] + [f"V{n},村,村,T1" for n in
                                                      range(MAX_ROWS + 1)])
    error, _ = refused(csv.encode(), "units.csv")
    assert error.fields == {"file": "too many rows"}


def test_a_far_away_row_or_a_huge_dimension_costs_nothing():
    # one real row, then a row at the last line Excel allows, in a sheet claiming 16,384 columns
    rows = [inline_row(1, HEADER), inline_row(2, ["V1", "村", "村", "T1"]),
            inline_row(1_048_576, ["V2", "村", "村", "T1"])]
    error, cells = refused(with_member(SHEET, sheet_xml(rows, "A1:XFD1048576")))
    assert error.fields == {"file": "too many rows"}
    assert cells <= UNIT_LIMITS.columns * (UNIT_LIMITS.lines + 2)  # not 16,384 a row
    # a small sheet with a huge dimension reads as its cells, not 16,384 columns a row
    small = read_rows("units.xlsx", with_member(SHEET, sheet_xml(rows[:2], "A1:XFD2")))
    assert small == [(1, HEADER), (2, ["V1", "村", "村", "T1"])]
    # a sheet whose dimension claims fewer rows than it has loses none of them
    rows = [inline_row(n, [f"V{n}", "村", "村", "T1"]) for n in range(2, 5)]
    claimed = read_rows("units.xlsx", with_member(SHEET, sheet_xml([inline_row(1, HEADER),
                                                                     *rows], "A1:D2")))
    assert [line for line, _ in claimed] == [1, 2, 3, 4]


def test_an_overlong_cell_is_a_row_error_and_its_value_is_echoed_short():
    long_name = "村" * (MAX_CELL + 1)
    data = xlsx([HEADER, ["V1", long_name, "村", "T1"], ["x" * 5000, "村", "村", "T1"]])
    with pytest.raises(ImportRejected) as info:
        read_records("units.xlsx", data, UNIT_COLUMNS, UNIT_REQUIRED)
    rows = info.value.rows
    assert [(r.line, r.column, r.code) for r in rows] == [(2, "name", "too long"),
                                                          (3, "code", "too long")]
    assert all(len(r.value) <= 41 and r.value.endswith("…") for r in rows)


def test_a_csv_field_larger_than_the_csv_module_allows_is_unreadable_not_a_crash():
    data = ("code,name,level,parent_code\n" + "V1," + "x" * 200_000 + ",村,T1\n").encode()
    error, _ = refused(data, "units.csv")
    assert error.fields == {"file": "cell too long"}
