"""The ledger import's parsers: status words and dates as people type them (Hypothesis)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.items.ledger_columns import HEADERS, STATUS_NAMES
from ledger.items.ledger_import import (
    STATUS_WORDS,
    parse_date,
    parse_moment,
    parse_status,
    read_sheet,
)
from ledger.items.workflow import CREATIONS_BY_EVENT, STATES, workflow_mermaid

dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))


@given(dates, st.sampled_from(["{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}年{m}月{d}日",
                               "{y}.{m:02d}.{d:02d}", " {y} 年 {m} 月 {d} 日 ",
                               "{y}-{m}-{d} 00:00:00"]))
def test_every_way_of_typing_a_date_reads_as_that_date(day, pattern):
    assert parse_date(pattern.format(y=day.year, m=day.month, d=day.day)) == day


@given(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)))
def test_a_moment_keeps_its_minutes(moment):
    moment = moment.replace(second=0, microsecond=0)
    assert parse_moment(moment.strftime("%Y-%m-%d %H:%M")) == moment
    assert parse_moment(moment.strftime("%Y/%m/%d %H：%M")) == moment


@given(st.text(max_size=12))
def test_anything_else_is_blank_a_date_or_unreadable_never_a_crash(text):
    try:
        result = parse_date(text)
    except ValueError:
        return
    assert result is None or isinstance(result, dt.date)


def test_impossible_and_ambiguous_dates_are_unreadable():
    for text in ("2026-02-30", "2026-13-01", "31/12/2026", "明年", "12月31日"):
        with pytest.raises(ValueError):
            parse_date(text)
    assert parse_date("") is None and parse_date("   ") is None


def test_an_excel_day_number_is_a_date():
    assert parse_date("46387") == dt.date(2026, 12, 31)


@given(st.sampled_from(sorted(STATUS_WORDS)), st.sampled_from(["", " ", "\u3000"]))
def test_status_words_read_the_same_with_stray_spaces(word, space):
    assert parse_status(f"{space}{word}{space}") == STATUS_WORDS[word]


@given(st.text(max_size=8))
def test_an_unknown_word_is_none_and_a_known_one_a_real_state(text):
    result = parse_status(text)
    assert result is None or (result[0] in STATES and isinstance(result[1], bool))


def test_the_export_status_words_read_back_as_what_they_say():
    for status, word in STATUS_NAMES.items():
        state, submitted = parse_status(word)
        assert ("submitted" if submitted else state) == status
    for word in ("已整改", "整改完成", "已完成"):
        assert parse_status(word) == ("rectifying", True)  # done, not yet verified


def test_the_import_event_is_declared_and_drawn():
    creation = CREATIONS_BY_EVENT["import"]
    assert set(creation.states) == set(STATES)
    assert creation.roles == {"county_staff", "admin"}
    diagram = workflow_mermaid()
    for state in STATES:
        assert f"[*] --> {state}: import (admin/county_staff)" in diagram


def test_the_sample_sheet_reads_with_its_columns():
    from pathlib import Path

    sample = Path(__file__).parents[2] / "docs" / "ledger-import-sample.xlsx"
    book = openpyxl.load_workbook(sample)
    assert [c.value for c in book.worksheets[0][1]] == list(HEADERS)
    read = read_sheet(sample.name, sample.read_bytes())
    assert len(read.records) == 3 and not read.extra_columns


def test_the_sample_sheet_is_what_the_script_writes():
    from ledger.items.ledger_import import sample_xlsx

    book = openpyxl.load_workbook(io.BytesIO(sample_xlsx()))
    assert [c.value for c in book.worksheets[0][1]] == list(HEADERS)
