"""The working-day calendar (SPEC §8) on the real, seeded database.

Facts about the official schedule are checked against ``chinese_calendar``
before they are asserted, and the concrete dates are written out as well, so a
wrong seed and a wrong assumption both show up.
"""

from __future__ import annotations

import datetime as dt
import functools

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, cast, func, select

from ledger.calendar.workdays import (
    Deadline,
    DeadlineSpec,
    WorkCalendar,
    import_schedule,
    years_covered,
)
from ledger.core.errors import ValidationError
from ledger.core.models import CalendarDay, CalendarYear

D = dt.date
SAT, SUN = 5, 6


@pytest.fixture
def cal(sanhu) -> WorkCalendar:
    with sanhu.uow() as uow:
        return uow.calendar


def official_workday(day: dt.date) -> bool:
    return chinese_calendar.is_workday(day)


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(n) for n in range((end - start).days + 1)]


# --- the seeded data -------------------------------------------------------------------


def test_2004_to_2026_are_official_and_agree_with_chinese_calendar_day_by_day(sanhu):
    with sanhu.uow() as uow:
        rows = uow.session.execute(
            select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.official)
            .where(CalendarDay.day <= D(2026, 12, 31)).order_by(CalendarDay.day)).all()
        years = dict(uow.session.execute(select(CalendarYear.year, CalendarYear.source)).all())
        cal = uow.calendar
    assert rows[0].day == D(2004, 1, 1) and len(rows) == (D(2027, 1, 1) - D(2004, 1, 1)).days
    wrong = [r.day for r in rows if bool(r.is_workday) != official_workday(r.day)]
    assert wrong == []
    assert all(r.official for r in rows)
    assert {y: s for y, s in years.items() if y <= 2026} == dict.fromkeys(
        range(2004, 2027), "chinesecalendar")
    assert [r.day for r in rows if cal.is_workday(r.day) != official_workday(r.day)] == []
    assert all(cal.is_official(y) for y in range(2004, 2027))


def test_years_after_2026_are_in_the_table_as_monday_to_friday_and_not_official(sanhu):
    with pytest.raises(NotImplementedError):  # the package stops at 2026
        chinese_calendar.is_workday(D(2027, 1, 1))
    with sanhu.uow() as uow:
        covered = dict(years_covered(uow.session))
        rows = uow.session.execute(select(CalendarDay.day, CalendarDay.is_workday,
                                          CalendarDay.official)
                                   .where(CalendarDay.day >= D(2027, 1, 1))).all()
        cal = uow.calendar
    assert covered[2026] is True and covered[2027] is False
    assert rows and all(not r.official for r in rows)
    assert all(bool(r.is_workday) == (r.day.weekday() < 5) for r in rows)
    assert not cal.is_official(2027)
    assert cal.is_workday(D(2027, 1, 1))  # a Friday, and nothing official says otherwise yet


# --- Spring Festival and National Day ---------------------------------------------------


def test_spring_festival_2026_holidays_and_make_up_saturdays(cal):
    holidays = days(D(2026, 2, 15), D(2026, 2, 23))
    make_up = [D(2026, 2, 14), D(2026, 2, 28)]
    # the facts, from the official data
    assert all(not official_workday(d) for d in holidays)
    assert all(chinese_calendar.get_holiday_detail(d)[1] == "Spring Festival" for d in holidays)
    assert all(official_workday(d) and d.weekday() == SAT for d in make_up)
    assert official_workday(D(2026, 2, 13)) and official_workday(D(2026, 2, 24))
    # the calendar
    assert [d for d in holidays if cal.is_workday(d)] == []
    assert all(cal.is_workday(d) for d in make_up)
    assert cal.is_workday(D(2026, 2, 13)) and cal.is_workday(D(2026, 2, 24))
    assert not cal.is_workday(D(2026, 2, 21))  # a Saturday inside the holiday


def test_national_day_2025_with_make_up_sunday_and_saturday(cal):
    holidays = days(D(2025, 10, 1), D(2025, 10, 8))  # with Mid-Autumn on 6 October
    make_up = [D(2025, 9, 28), D(2025, 10, 11)]
    assert all(not official_workday(d) for d in holidays)
    assert [d.weekday() for d in make_up] == [SUN, SAT]
    assert all(official_workday(d) for d in make_up)
    assert not official_workday(D(2025, 9, 27)) and not official_workday(D(2025, 10, 12))

    assert [d for d in holidays if cal.is_workday(d)] == []
    assert all(cal.is_workday(d) for d in make_up)
    assert not cal.is_workday(D(2025, 9, 27)) and not cal.is_workday(D(2025, 10, 12))
    assert cal.is_workday(D(2025, 10, 9))


def test_national_day_2026_with_make_up_sunday_and_saturday(cal):
    holidays = days(D(2026, 10, 1), D(2026, 10, 7))
    make_up = [D(2026, 9, 20), D(2026, 10, 10)]
    assert all(not official_workday(d) for d in holidays)
    assert [d.weekday() for d in make_up] == [SUN, SAT]
    assert all(official_workday(d) for d in make_up)
    assert not official_workday(D(2026, 9, 25))  # Mid-Autumn Festival, a Friday
    assert not official_workday(D(2026, 10, 11))

    assert [d for d in holidays if cal.is_workday(d)] == []
    assert all(cal.is_workday(d) for d in make_up)
    assert not cal.is_workday(D(2026, 9, 25)) and not cal.is_workday(D(2026, 10, 11))


# --- counting working days ----------------------------------------------------------------


@pytest.mark.parametrize(("start", "n", "expected"), [
    (D(2026, 2, 13), 1, D(2026, 2, 14)),   # Friday -> the make-up Saturday
    (D(2026, 2, 13), 2, D(2026, 2, 24)),   # then over the whole Spring Festival
    (D(2026, 2, 12), 5, D(2026, 2, 26)),   # 13, 14 (Sat), 24, 25, 26
    (D(2026, 2, 27), 1, D(2026, 2, 28)),   # the second make-up Saturday
    (D(2026, 2, 27), 2, D(2026, 3, 2)),
    (D(2025, 9, 26), 1, D(2025, 9, 28)),   # Friday -> the make-up Sunday
    (D(2025, 9, 30), 1, D(2025, 10, 9)),   # over National Day 2025
    (D(2025, 10, 10), 1, D(2025, 10, 11)),
    (D(2026, 9, 24), 1, D(2026, 9, 28)),   # over Mid-Autumn 2026
    (D(2026, 9, 30), 2, D(2026, 10, 9)),   # over National Day 2026
    (D(2026, 10, 9), 1, D(2026, 10, 10)),
    (D(2026, 3, 6), 5, D(2026, 3, 13)),    # an ordinary week
])
def test_add_workdays_skips_holidays_and_counts_make_up_days(cal, start, n, expected):
    assert all(official_workday(d) for d in [expected])
    assert cal.add_workdays(start, n) == Deadline(expected, provisional=False)
    assert cal.workdays_between(start, expected) == n


@pytest.mark.parametrize(("start", "why"), [
    (D(2026, 2, 15), "a holiday (Sunday)"),
    (D(2026, 2, 16), "a holiday (Monday)"),
    (D(2026, 2, 14), "a make-up Saturday"),
    (D(2026, 2, 13), "a working Friday"),
])
def test_the_start_day_never_counts_even_a_holiday_or_a_make_up_day(cal, start, why):
    first_after = D(2026, 2, 24) if start >= D(2026, 2, 14) else D(2026, 2, 14)
    assert cal.add_workdays(start, 1).date == first_after, why
    assert cal.add_workdays(start, 0) == Deadline(start), why


@pytest.mark.parametrize(("start", "expected"), [
    (D(2026, 3, 7), D(2026, 3, 9)),    # ordinary Saturday -> Monday
    (D(2026, 3, 8), D(2026, 3, 9)),    # ordinary Sunday -> Monday
    (D(2026, 3, 6), D(2026, 3, 9)),    # Friday -> Monday
    (D(2026, 1, 1), D(2026, 1, 4)),    # New Year's Day -> the make-up Sunday
])
def test_the_start_day_never_counts_on_weekends(cal, start, expected):
    assert official_workday(expected)
    assert cal.add_workdays(start, 1).date == expected


@functools.cache
def official_only() -> WorkCalendar:
    """A calendar built straight from ``chinese_calendar``, independent of the database."""
    exceptions = {d: False for d in chinese_calendar.holidays if d.weekday() < 5}
    exceptions.update({d: True for d in chinese_calendar.workdays if d.weekday() >= 5})
    return WorkCalendar(exceptions, range(2004, 2027))


@given(start=st.dates(D(2004, 1, 1), D(2026, 11, 30)), n=st.integers(1, 20))
@settings(max_examples=300, deadline=None)
def test_add_workdays_agrees_with_chinese_calendar_find_workday(start, n):
    """``find_workday(k, d)`` counts d itself when it is a working day; ours never does."""
    expected = chinese_calendar.find_workday(n if official_workday(start) else n - 1, start)
    assert official_only().add_workdays(start, n) == Deadline(expected)


def test_the_database_calendar_equals_one_built_from_chinese_calendar(cal):
    for day in days(D(2004, 1, 1), D(2026, 12, 31)):
        assert cal.is_workday(day) == official_only().is_workday(day), day


# --- natural days ---------------------------------------------------------------------


@pytest.mark.parametrize(("start", "n", "expected"), [
    (D(2026, 2, 10), 5, D(2026, 2, 24)),   # lands on 15 Feb (holiday) -> next working day
    (D(2026, 2, 10), 9, D(2026, 2, 24)),   # lands on 19 Feb (a holiday Thursday)
    (D(2026, 2, 4), 10, D(2026, 2, 14)),   # lands on the make-up Saturday: stays
    (D(2026, 2, 18), 10, D(2026, 2, 28)),  # the other make-up Saturday: stays
    (D(2025, 9, 18), 10, D(2025, 9, 28)),  # the make-up Sunday: stays
    (D(2026, 3, 2), 5, D(2026, 3, 9)),     # an ordinary Saturday -> Monday
    (D(2026, 3, 2), 3, D(2026, 3, 5)),     # a working Thursday: stays
    (D(2026, 9, 21), 10, D(2026, 10, 8)),  # 1 October -> after National Day
    (D(2026, 2, 15), 0, D(2026, 2, 24)),   # zero days from a holiday
])
def test_add_natural_days_moves_off_holidays_and_keeps_make_up_days(cal, start, n, expected):
    target = start + dt.timedelta(days=n)
    assert official_workday(expected)
    assert official_workday(target) == (target == expected)
    assert cal.add_natural_days(start, n) == Deadline(expected, provisional=False)


# --- the end of the official data ------------------------------------------------------


def test_2026_12_28_plus_5_workdays_runs_into_2027_on_the_fallback_and_is_provisional(cal):
    # what the official data says about the days before the end of the package
    assert all(official_workday(d) for d in days(D(2026, 12, 28), D(2026, 12, 31)))
    assert [d.weekday() for d in (D(2026, 12, 31), D(2027, 1, 1))] == [3, 4]  # Thu, Fri
    with pytest.raises(NotImplementedError):
        chinese_calendar.find_workday(5, D(2026, 12, 28))
    # 29, 30, 31 December, Friday 1 January (a weekday under the fallback), Monday 4 January
    assert cal.add_workdays(D(2026, 12, 28), 5) == Deadline(D(2027, 1, 4), provisional=True)
    assert cal.add_workdays(D(2026, 12, 28), 4) == Deadline(D(2027, 1, 1), provisional=True)


def test_a_count_inside_2026_is_not_provisional(cal):
    assert cal.add_workdays(D(2026, 12, 28), 3) == Deadline(D(2026, 12, 31), provisional=False)
    assert cal.add_workdays(D(2026, 12, 1), 10) == Deadline(D(2026, 12, 15), provisional=False)
    assert not cal.add_natural_days(D(2026, 12, 1), 30).provisional


def test_a_count_starting_in_2027_is_provisional(cal):
    assert cal.add_workdays(D(2027, 1, 4), 1) == Deadline(D(2027, 1, 5), provisional=True)
    assert cal.add_natural_days(D(2026, 12, 30), 3) == Deadline(D(2027, 1, 4), provisional=True)


def test_dates_far_ahead_work_on_the_fallback_and_are_provisional(cal):
    assert D(2035, 3, 1).weekday() == 3  # a Thursday; 2035 is not even in the table
    assert cal.add_workdays(D(2035, 3, 1), 5) == Deadline(D(2035, 3, 8), provisional=True)
    assert cal.add_workdays(D(2035, 12, 28), 5) == Deadline(D(2036, 1, 4), provisional=True)
    assert cal.add_natural_days(D(2035, 3, 1), 2) == Deadline(D(2035, 3, 5), provisional=True)
    assert cal.workdays_between(D(2035, 3, 1), D(2035, 3, 8)) == 5
    assert not cal.is_official(2035)


def test_a_natural_day_deadline_kept_by_the_fallback_in_2027_is_provisional(cal):
    # 10 natural days from 22 December 2026 is Friday 1 January 2027
    result = cal.add_natural_days(D(2026, 12, 22), 10)
    assert result.date == D(2027, 1, 1)
    assert result.provisional


# --- deadline specs --------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "kind", "value"), [
    ("2026-12-31", "date", D(2026, 12, 31)),
    ("10d", "natural", 10),
    ("5w", "workdays", 5),
    (" 5W ", "workdays", 5),
    ("0d", "natural", 0),
])
def test_deadline_spec_parse(raw, kind, value):
    assert DeadlineSpec.parse(raw) == DeadlineSpec(kind, value)


@pytest.mark.parametrize("raw", ["abc", "", "w", "d", "5x", "2026-02-30", "5 weeks", None])
def test_deadline_spec_parse_refuses_anything_else(raw):
    with pytest.raises(ValidationError) as exc:
        DeadlineSpec.parse(raw)
    assert exc.value.fields == {"deadline": "invalid deadline"}


def test_resolving_specs(cal):
    today = D(2026, 2, 13)
    assert cal.resolve(DeadlineSpec.parse("5w"), today) == cal.add_workdays(today, 5)
    assert cal.resolve(DeadlineSpec.parse("10d"), today) == Deadline(D(2026, 2, 24))
    assert cal.resolve(DeadlineSpec.parse("2026-03-01"), today) == Deadline(D(2026, 3, 1))
    with pytest.raises(ValidationError):
        cal.resolve(DeadlineSpec.parse("-1w"), today)
    with pytest.raises(ValidationError):
        cal.resolve(DeadlineSpec.parse("-1d"), today)


# --- importing a year ------------------------------------------------------------------

SCHEDULE_2027 = """\ufeffdate,kind,name
# a made-up 2027 schedule for the test
2027-01-01,holiday,元旦
2027-02-05,holiday,春节
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
2027-02-20,workday,春节调休

2027-10-01,休,国庆节
"""


def _calendar_fingerprint(session) -> tuple:
    return (
        tuple(session.execute(select(
            func.count(), func.sum(CalendarDay.workday_seq),
            func.sum(cast(CalendarDay.is_workday, Integer)),
            func.sum(cast(CalendarDay.official, Integer)))).one()),
        sorted(session.execute(select(CalendarYear.year, CalendarYear.source)).all()),
    )


def test_importing_2027_makes_it_official_and_counts_with_its_holidays(sanhu):
    with sanhu.uow() as uow:
        before = uow.calendar
        assert before.add_workdays(D(2026, 12, 28), 5) == Deadline(D(2027, 1, 4), True)
        rows_before = uow.session.scalar(select(func.count()).select_from(CalendarDay))
    with sanhu.uow() as uow:
        assert import_schedule(uow.session, SCHEDULE_2027) == [2027]
        uow.commit()
    with sanhu.uow() as uow:
        cal = uow.calendar
        session = uow.session
        assert cal.is_official(2027)
        # 29, 30, 31 December, (1 January is now a holiday), 4 and 5 January
        assert cal.add_workdays(D(2026, 12, 28), 5) == Deadline(D(2027, 1, 5), provisional=False)
        assert not cal.is_workday(D(2027, 1, 1))
        assert cal.add_workdays(D(2027, 2, 4), 1) == Deadline(D(2027, 2, 12))  # over 5–11 Feb
        assert cal.add_workdays(D(2027, 2, 19), 1) == Deadline(D(2027, 2, 20))  # make-up Sat
        assert cal.add_natural_days(D(2027, 9, 24), 7) == Deadline(D(2027, 10, 4))
        assert cal.add_natural_days(D(2027, 2, 10), 10) == Deadline(D(2027, 2, 20))
        assert cal.add_workdays(D(2027, 12, 28), 5).provisional  # 2028 is still unknown
        rows = {r.day: r for r in session.scalars(
            select(CalendarDay).where(CalendarDay.day.between(D(2027, 1, 1), D(2027, 12, 31))))}
        assert len(rows) == 365 and all(r.official for r in rows.values())
        assert not rows[D(2027, 1, 1)].is_workday and rows[D(2027, 1, 1)].name == "元旦"
        assert rows[D(2027, 2, 20)].is_workday and rows[D(2027, 2, 20)].name == "春节调休"
        assert not rows[D(2027, 10, 1)].is_workday
        assert rows[D(2027, 3, 1)].is_workday and rows[D(2027, 3, 6)].is_workday is False
        assert session.scalar(select(func.count()).select_from(CalendarDay)) == rows_before
        assert session.get(CalendarYear, 2027).source == "csv import"
        covered = dict(years_covered(session))
        assert covered[2027] is True and covered[2028] is False
        seq = dict(session.execute(select(CalendarDay.day, CalendarDay.workday_seq).where(
            CalendarDay.day.between(D(2026, 12, 1), D(2028, 1, 31)))).all())
    for a, b in [(D(2026, 12, 28), D(2027, 1, 5)), (D(2027, 2, 4), D(2027, 2, 20)),
                 (D(2026, 12, 1), D(2028, 1, 31))]:
        assert seq[b] - seq[a] == cal.workdays_between(a, b)
    assert seq[D(2027, 1, 5)] - seq[D(2026, 12, 28)] == 5


BAD_SCHEDULE = """date,kind,name
2027-01-01,holiday,元旦
2027-02-30,holiday,no such day
2027-02-20,vacation,unknown kind
2027-01-01,workday,listed twice
2027-03-01
2027-02-21,workday,春节调休
"""


def test_a_schedule_with_bad_rows_names_every_bad_line_and_imports_nothing(sanhu):
    with sanhu.uow() as uow:
        before = _calendar_fingerprint(uow.session)
    with sanhu.uow() as uow:
        with pytest.raises(ValidationError) as exc:
            import_schedule(uow.session, BAD_SCHEDULE)
        uow.commit()  # even committing afterwards must not store anything
    assert set(exc.value.fields) == {"line 3", "line 4", "line 5", "line 6"}
    assert "2027-02-30" in exc.value.fields["line 3"]
    assert "vacation" in exc.value.fields["line 4"]
    assert "twice" in exc.value.fields["line 5"]
    assert "4 bad row" in exc.value.message
    with sanhu.uow() as uow:
        assert _calendar_fingerprint(uow.session) == before
        cal = uow.calendar
        assert not cal.is_official(2027)
        assert cal.add_workdays(D(2026, 12, 28), 5) == Deadline(D(2027, 1, 4), provisional=True)
        assert dict(years_covered(uow.session))[2027] is False


def test_an_empty_schedule_is_refused(sanhu):
    with sanhu.uow() as uow, pytest.raises(ValidationError) as exc:
        import_schedule(uow.session, "date,kind,name\n\n# nothing\n")
    assert exc.value.fields == {"file": "no rows"}


# --- between two dates -------------------------------------------------------------------


def test_workdays_between_examples(cal):
    assert cal.workdays_between(D(2026, 2, 13), D(2026, 2, 24)) == 2  # 14th and 24th
    assert cal.workdays_between(D(2026, 2, 24), D(2026, 2, 13)) == -2
    assert cal.workdays_between(D(2026, 2, 15), D(2026, 2, 15)) == 0
    assert cal.workdays_between(D(2025, 9, 30), D(2025, 10, 8)) == 0  # all holidays
    assert cal.workdays_between(D(2026, 1, 1), D(2026, 12, 31)) == sum(
        official_workday(d) for d in days(D(2026, 1, 2), D(2026, 12, 31)))


def test_workdays_between_agrees_with_counting(cal):
    @given(start=st.dates(D(2004, 1, 1), D(2029, 12, 1)), n=st.integers(0, 40))
    @settings(max_examples=300, deadline=None)
    def check(start, n):
        end = cal.add_workdays(start, n).date
        assert cal.workdays_between(start, end) == n
        assert cal.workdays_between(end, start) == -n
        # one day short of the deadline, one working day is still missing
        if n:
            assert cal.workdays_between(start, end - dt.timedelta(days=1)) == n - 1

    check()


def test_workday_seq_differences_equal_workdays_between(sanhu):
    with sanhu.uow() as uow:
        seq = dict(uow.session.execute(select(CalendarDay.day, CalendarDay.workday_seq)).all())
        cal = uow.calendar
    last = max(seq)
    assert sorted(seq) == days(D(2004, 1, 1), last)  # no gaps in the table

    # working days up to and including each day, straight from chinese_calendar
    official_count, running = {}, 0
    for day in days(D(2004, 1, 1), D(2026, 12, 31)):
        running += official_workday(day)
        official_count[day] = running

    @given(a=st.dates(D(2004, 1, 1), D(2026, 12, 31)), b=st.dates(D(2004, 1, 1), D(2026, 12, 31)))
    @settings(max_examples=150, deadline=None)
    def within_official_years(a, b):
        assert seq[b] - seq[a] == cal.workdays_between(a, b)
        assert seq[b] - seq[a] == official_count[b] - official_count[a]

    @given(a=st.dates(D(2004, 1, 1), last), b=st.dates(D(2004, 1, 1), last))
    @settings(max_examples=50, deadline=None)
    def over_the_whole_table(a, b):
        assert seq[b] - seq[a] == cal.workdays_between(a, b)

    within_official_years()
    over_the_whole_table()
