"""Deadlines as people type them (``DeadlineSpec.parse``) and the range an item's may take.

One parser serves the forms, the live hint and (for the date spellings) the Excel
import; Hypothesis writes dates and counts in every accepted form.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.calendar.workdays import DeadlineSpec, WorkCalendar, latest_deadline
from ledger.core.errors import ValidationError
from ledger.items.ledger_import import parse_date

D = dt.date
FULL_WIDTH = str.maketrans("0123456789-/", "０１２３４５６７８９－／")
DATE_FORMS = ["{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}/{m:02d}/{d:02d}", "{y}年{m}月{d}日",
              "{y} 年 {m} 月 {d} 日", "{y}.{m}.{d}", "{y}{m:02d}{d:02d}", " {y}-{m}-{d} "]
dates = st.dates(min_value=D(2000, 1, 1), max_value=D(2099, 12, 31))
#: Monday to Friday, no holidays: enough for the range rules
WEEKDAYS = WorkCalendar({}, [])


def refused_code(raw: str, today: dt.date, calendar: WorkCalendar = WEEKDAYS) -> str:
    with pytest.raises(ValidationError) as refused:
        calendar.deadline(DeadlineSpec.parse(raw), today)
    return refused.value.fields["deadline"]


@given(dates, st.sampled_from(DATE_FORMS), st.booleans())
def test_any_date_in_any_accepted_form_reads_back_as_itself(day, form, full_width):
    text = form.format(y=day.year, m=day.month, d=day.day)
    if full_width:
        text = text.translate(FULL_WIDTH)  # as a Chinese input method types it
    assert DeadlineSpec.parse(text) == DeadlineSpec("date", day)


@given(dates, st.sampled_from(DATE_FORMS))
def test_the_import_reads_every_date_spelling_of_the_form_alike(day, form):
    text = form.format(y=day.year, m=day.month, d=day.day)
    assert parse_date(text) == DeadlineSpec.parse(text).value == day


@given(st.integers(min_value=0, max_value=999_999),
       st.sampled_from([("d", "natural"), ("D", "natural"), ("天", "natural"),
                        ("日", "natural"), (" 天", "natural"), ("w", "workdays"),
                        ("W", "workdays"), ("个工作日", "workdays"), ("工作日", "workdays"),
                        (" 个工作日", "workdays")]))
def test_any_count_with_any_unit_reads_as_that_many_days(count, unit_kind):
    unit, kind = unit_kind
    assert DeadlineSpec.parse(f"{count}{unit}") == DeadlineSpec(kind, count)


@given(today=st.dates(min_value=D(2001, 1, 1), max_value=D(2090, 12, 31)),
       day=st.dates(min_value=D(2001, 1, 1), max_value=D(2001, 12, 31)))  # no 29 February
def test_a_month_and_day_is_this_years_or_when_that_has_passed_next_years(today, day):
    spec = DeadlineSpec.parse(f"{day.month}月{day.day}日")
    assert spec == DeadlineSpec("monthday", (day.month, day.day))
    this_year = day.replace(year=today.year)
    expected = this_year if this_year >= today else day.replace(year=today.year + 1)
    assert WEEKDAYS.resolve(spec, today).date == expected


def test_29_february_is_the_next_one_when_it_is_near():
    spec = DeadlineSpec.parse("2月29日")
    assert WEEKDAYS.resolve(spec, D(2027, 3, 1)).date == D(2028, 2, 29)
    assert WEEKDAYS.resolve(spec, D(2028, 2, 1)).date == D(2028, 2, 29)
    assert refused_code("2月29日", D(2028, 3, 1)) == "in the past"  # 2029 has none
    assert refused_code("2月29日", D(2026, 3, 1)) == "invalid deadline"  # nor 2026, 2027


def test_a_month_and_day_this_year_next_year_or_today():
    assert WEEKDAYS.deadline(DeadlineSpec.parse("12月31日"), D(2026, 12, 1)).date == \
        D(2026, 12, 31)
    assert WEEKDAYS.deadline(DeadlineSpec.parse("3月1号"), D(2026, 12, 1)).date == \
        D(2027, 3, 1)
    assert WEEKDAYS.deadline(DeadlineSpec.parse("１２月１日"), D(2026, 12, 1)).date == \
        D(2026, 12, 1)  # today is not past


@pytest.mark.parametrize("raw", ["", None, "abc", "5x", "5 weeks", "10个", "个工作日", "天",
                                 "2026-02-30", "2026-13-01", "13月1日", "2月30日",
                                 "31/12/2026", "明天", "2026年12月", "-5d", "1.5w"])
def test_anything_else_is_refused_as_not_a_deadline(raw):
    with pytest.raises(ValidationError) as refused:
        DeadlineSpec.parse(raw)
    assert refused.value.fields == {"deadline": "invalid deadline"}


@pytest.mark.parametrize("today", [D(2026, 12, 1), D(2028, 2, 29), D(2027, 1, 1)])
def test_a_deadline_lies_between_today_and_two_years_ahead(today):
    last = latest_deadline(today)
    assert last == (D(2030, 2, 28) if today == D(2028, 2, 29) else
                    today.replace(year=today.year + 2))
    for day in (today, last):
        assert WEEKDAYS.deadline(DeadlineSpec("date", day), today).date == day
    assert refused_code((today - dt.timedelta(days=1)).isoformat(), today) == "in the past"
    assert refused_code((last + dt.timedelta(days=1)).isoformat(), today) == "too far ahead"
    for raw in ("732d", "800天", "600个工作日", "9999999w", "9999-12-31"):
        assert refused_code(raw, today) == "too far ahead", raw
    assert refused_code("0001-01-01", today) == "in the past"


@given(st.integers(min_value=0, max_value=400))
def test_the_chinese_units_count_like_d_and_w(count):
    today = D(2026, 12, 1)
    for chinese, latin in ((f"{count}天", f"{count}d"), (f"{count}日", f"{count}d"),
                           (f"{count}个工作日", f"{count}w"), (f"{count}工作日", f"{count}w")):
        assert WEEKDAYS.deadline(DeadlineSpec.parse(chinese), today) == \
            WEEKDAYS.deadline(DeadlineSpec.parse(latin), today)


def test_working_days_use_the_official_calendar(sanhu):
    """10个工作日 from 28 September 2026 skips the National Day holidays."""
    with sanhu.uow() as uow:
        cal = uow.calendar
    today = D(2026, 9, 28)
    got = cal.deadline(DeadlineSpec.parse("10个工作日"), today)
    naive = WEEKDAYS.deadline(DeadlineSpec.parse("10个工作日"), today)
    assert got == cal.deadline(DeadlineSpec.parse("10w"), today)
    assert got.date > naive.date and not got.provisional
    assert cal.deadline(DeadlineSpec.parse("10天"), today).date >= today + dt.timedelta(10)
