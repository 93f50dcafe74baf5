"""The official PRC working-day calendar and deadline arithmetic (SPEC §8).

The ``calendar_days`` table holds every day from 2004 to a few years ahead.
Years with an official schedule (from ``chinesecalendar`` for 2004–2026, or
imported from CSV by an admin) carry their holidays and make-up working days
(调休); other years fall back to Monday–Friday and every deadline computed
across them is marked provisional.  Nothing here raises for an unknown year.

Counting rules: the start day does not count; a natural-day deadline that
falls on a non-working day moves to the next working day.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from ledger.calendar import bounds, dates
from ledger.core.errors import ValidationError
from ledger.core.models import CalendarDay, CalendarYear

FIRST_YEAR = 2004
#: how many years past the current one the table always covers
YEARS_AHEAD = 3


@dataclass(frozen=True)
class Deadline:
    """A computed deadline; provisional when it relied on the Monday–Friday fallback."""

    date: dt.date
    provisional: bool = False

    def __str__(self) -> str:
        return self.date.isoformat() + (" provisional" if self.provisional else "")


#: a deadline set on an item lies between today and this many years ahead
DEADLINE_YEARS_AHEAD = 2
#: N natural days (10d, 10天, 10日) or N working days (5w, 5个工作日, 5工作日)
_COUNT = re.compile(r"^(\d+)\s*(d|天|日|自然日|w|个?工作日)$")
_WORKDAY_UNITS = ("w", "工作日", "个工作日")


@dataclass(frozen=True)
class DeadlineSpec:
    """How a deadline was given: a date, a month and day, N natural days or N working days."""

    kind: str  # "date", "monthday" (value: (month, day)), "natural" or "workdays"
    value: dt.date | int | tuple[int, int]

    @classmethod
    def parse(cls, raw: str | None) -> DeadlineSpec:
        """Read a deadline as people type it (the one parser of the forms and the hint).

        A date in any spelling of ``ledger.calendar.dates`` (2026-12-31, 2026/12/31,
        2026年12月31日), a month and day (12月31日: this year, or next year when
        that has passed), N natural days (10d, 10天, 10日) or N working days (5w,
        5个工作日, 5工作日).  Counts and dates out of range are refused when resolved.
        """
        text = dates.normalise(raw).lower()
        try:
            count = _COUNT.match(text)
            if count is not None:
                digits, unit = count.groups()
                kind, most = (("workdays", bounds.MAX_WORKDAYS) if unit in _WORKDAY_UNITS
                              else ("natural", bounds.MAX_DAYS))
                return cls(kind, int(digits) if len(digits) <= 6 else most + 1)
            month_day = dates.parse_month_day(text)
            if month_day is not None:
                return cls("monthday", month_day)
            return cls("date", dates.parse_written_date(text))
        except ValueError as exc:
            raise ValidationError(
                "a deadline is a date (YYYY-MM-DD), N natural days (Nd) or N working days (Nw)",
                fields={"deadline": "invalid deadline"},
            ) from exc


def latest_deadline(today: dt.date) -> dt.date:
    """The last date a deadline set today may take (28 February for 29 February)."""
    try:
        return today.replace(year=today.year + DEADLINE_YEARS_AHEAD)
    except ValueError:
        return today.replace(year=today.year + DEADLINE_YEARS_AHEAD, day=28)


def too_far_ahead() -> ValidationError:
    return ValidationError("the deadline lies more than two years ahead",
                           fields={"deadline": "too far ahead"})


def check_deadline(day: dt.date, today: dt.date) -> dt.date:
    """``day`` itself when an item may be given it as a deadline today, else why not."""
    if day < today:
        raise ValidationError("the deadline lies in the past", fields={"deadline": "in the past"})
    if day > latest_deadline(today):
        raise too_far_ahead()
    return day


def _weekday_rule(day: dt.date) -> bool:
    return day.weekday() < 5


class WorkCalendar:
    """Working days known in memory: official exceptions plus the weekday rule."""

    def __init__(self, exceptions: dict[dt.date, bool], official_years: Iterable[int]):
        self._exceptions = dict(exceptions)
        self.official_years = frozenset(official_years)

    def is_official(self, year: int) -> bool:
        return year in self.official_years

    def is_workday(self, day: dt.date) -> bool:
        if day in self._exceptions:
            return self._exceptions[day]
        return _weekday_rule(day)

    def _provisional(self, start: dt.date, end: dt.date) -> bool:
        return any(not self.is_official(y) for y in range(start.year, end.year + 1))

    def add_workdays(self, start: dt.date, n: int) -> Deadline:
        """The date ``n`` working days after ``start`` (the start day does not count)."""
        if n < 0:
            raise ValidationError("the number of working days must not be negative",
                                  fields={"deadline": "negative"})
        day, left = start, n
        while left > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                left -= 1
        return Deadline(day, self._provisional(start + dt.timedelta(days=1), day) if n else False)

    def add_natural_days(self, start: dt.date, n: int) -> Deadline:
        """``n`` days after ``start``, moved forward to a working day if needed."""
        if n < 0:
            raise ValidationError("the number of days must not be negative",
                                  fields={"deadline": "negative"})
        target = start + dt.timedelta(days=n)
        day = target
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        # the landing day is judged by the calendar of its year(s)
        return Deadline(day, self._provisional(target, day))

    def resolve(self, spec: DeadlineSpec, today: dt.date) -> Deadline:
        """Turn a deadline as given into a date (``bounds.within`` today's range)."""
        most = {"workdays": bounds.MAX_WORKDAYS, "natural": bounds.MAX_DAYS}.get(spec.kind)
        if most is not None and int(spec.value) > most:  # type: ignore[arg-type]
            raise bounds.out_of_range("deadline")
        if spec.kind == "workdays":
            result = self.add_workdays(today, int(spec.value))
        elif spec.kind == "natural":
            result = self.add_natural_days(today, int(spec.value))
        elif spec.kind == "monthday":
            try:
                result = Deadline(dates.next_month_day(*spec.value, today))  # type: ignore[misc]
            except ValueError:  # 2月29日 with no 29 February this year or next
                raise ValidationError("there is no such day this year or next",
                                      fields={"deadline": "invalid deadline"}) from None
        else:
            result = Deadline(spec.value)  # type: ignore[arg-type]
        bounds.within(result.date, today, "deadline")
        return result

    def deadline(self, spec: DeadlineSpec, today: dt.date) -> Deadline:
        """The deadline ``spec`` gives an item today: not past, at most two years ahead.

        Counts too large for two years are refused before any counting.
        """
        if spec.kind in ("natural", "workdays"):
            if int(spec.value) > (latest_deadline(today) - today).days:  # type: ignore[arg-type]
                raise too_far_ahead()
        elif spec.kind == "date":
            check_deadline(spec.value, today)  # type: ignore[arg-type]
        result = self.resolve(spec, today)
        check_deadline(result.date, today)
        return result

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.workdays_between(end, start)
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_workday(day)
        return count


# --- the official data ------------------------------------------------------


def chinese_calendar_exceptions() -> tuple[dict[dt.date, tuple[bool, str]], set[int]]:
    """Holidays on weekdays and make-up working days from ``chinesecalendar``."""
    import chinese_calendar

    out: dict[dt.date, tuple[bool, str]] = {}
    for day, name in chinese_calendar.holidays.items():
        out[day] = (False, str(name))
    for day, name in chinese_calendar.workdays.items():
        out[day] = (True, f"{name} (调休上班)")
    years = {d.year for d in out}
    return out, years


KIND_WORDS = {
    "holiday": False, "off": False, "休": False, "假": False, "节假日": False,
    "workday": True, "work": True, "班": True, "上班": True, "调休上班": True,
}


def parse_schedule_csv(text: str) -> tuple[dict[dt.date, tuple[bool, str]], set[int]]:
    """Read an official schedule: rows ``date,kind[,name]``, kind ``holiday``/``workday``.

    Only days that differ from Monday–Friday need listing.  Every bad row is
    reported with its line number; nothing is returned when any row is bad.
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    errors: dict[str, str] = {}
    out: dict[dt.date, tuple[bool, str]] = {}
    for lineno, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip() or row[0].strip().startswith("#"):
            continue
        if lineno == 1 and row[0].strip().lower() in {"date", "日期"}:
            continue
        if len(row) < 2:
            errors[f"line {lineno}"] = "expected date,kind[,name]"
            continue
        try:
            day = dt.date.fromisoformat(row[0].strip())
        except ValueError:
            errors[f"line {lineno}"] = f"not a date: {row[0].strip()!r}"
            continue
        kind = row[1].strip().lower()
        if kind not in KIND_WORDS:
            errors[f"line {lineno}"] = f"kind must be holiday or workday, not {row[1].strip()!r}"
            continue
        if day in out:
            errors[f"line {lineno}"] = f"{day} is listed twice"
            continue
        out[day] = (KIND_WORDS[kind], row[2].strip() if len(row) > 2 else "")
    if not out and not errors:
        errors["file"] = "no rows"
    if errors:
        raise ValidationError(f"{len(errors)} bad row(s) in the calendar file", fields=errors)
    return out, {d.year for d in out}


def _renumber(session: Session) -> None:
    """Recompute ``workday_seq`` over the whole table (about 10,000 rows)."""
    days = session.execute(select(CalendarDay.day, CalendarDay.is_workday)
                           .order_by(CalendarDay.day)).all()
    seq, params = 0, []
    for day, is_workday in days:
        seq += bool(is_workday)
        params.append({"day": day, "workday_seq": seq})
    session.execute(update(CalendarDay), params)  # ORM bulk UPDATE by primary key


def _write_years(session: Session, years: Iterable[int],
                 exceptions: dict[dt.date, tuple[bool, str]], official: bool) -> None:
    for year in sorted(set(years)):
        session.execute(delete(CalendarDay).where(
            CalendarDay.day >= dt.date(year, 1, 1), CalendarDay.day <= dt.date(year, 12, 31)))
        rows, day = [], dt.date(year, 1, 1)
        while day.year == year:
            is_work, name = exceptions.get(day, (_weekday_rule(day), None))
            rows.append({"day": day, "is_workday": is_work, "official": official,
                         "workday_seq": 0, "name": name or None})
            day += dt.timedelta(days=1)
        session.execute(insert(CalendarDay), rows)


def ensure_calendar(session: Session, today: dt.date) -> None:
    """Seed official years from chinesecalendar and fill fallback years ahead.

    Idempotent: years already present are left alone (imports are kept).
    """
    present = set(session.scalars(select(CalendarYear.year)))
    exceptions, years = chinese_calendar_exceptions()
    missing = [y for y in range(FIRST_YEAR, max(years) + 1) if y not in present]
    _write_years(session, missing, exceptions, official=True)
    session.add_all(CalendarYear(year=y, source="chinesecalendar") for y in missing)
    filled = _fill_gaps(session, max(today.year + YEARS_AHEAD, max(years)))
    if missing or filled:
        session.flush()
        _renumber(session)


def _fill_gaps(session: Session, last_year: int) -> bool:
    """Add Monday–Friday years for any year up to ``last_year`` missing from the table."""
    have = {int(y) for (y,) in session.execute(
        select(func.distinct(func.extract("year", CalendarDay.day))))}
    missing = [y for y in range(FIRST_YEAR, last_year + 1) if y not in have]
    _write_years(session, missing, {}, official=False)
    return bool(missing)


def import_schedule(session: Session, text: str, source: str = "csv import") -> list[int]:
    """Import an official schedule from CSV text; returns the years it made official."""
    exceptions, years = parse_schedule_csv(text)
    _fill_gaps(session, max(years))
    _write_years(session, years, exceptions, official=True)
    for year in years:
        row = session.get(CalendarYear, year)
        if row is None:
            session.add(CalendarYear(year=year, source=source))
        else:
            row.source, row.imported_at = source, dt.datetime.now(dt.UTC)
    session.flush()
    _renumber(session)
    return sorted(years)


def load_calendar(session: Session) -> WorkCalendar:
    """The calendar as stored, ready for arithmetic."""
    official = set(session.scalars(select(CalendarYear.year)))
    rows = session.execute(
        select(CalendarDay.day, CalendarDay.is_workday).where(CalendarDay.official.is_(True))
    ).all()
    exceptions = {d: bool(w) for d, w in rows if bool(w) != _weekday_rule(d)}
    return WorkCalendar(exceptions, official)


def calendar_stamp(session: Session) -> tuple:
    """Changes whenever an official year is added or re-imported (for caches)."""
    return tuple(session.execute(
        select(func.count(CalendarYear.year), func.max(CalendarYear.imported_at))).one())


def years_covered(session: Session) -> list[tuple[int, bool]]:
    """(year, official) for every year in the table, for the admin page and CLI."""
    rows = session.execute(
        select(CalendarDay.day, CalendarDay.official).where(
            func.extract("month", CalendarDay.day) == 1,
            func.extract("day", CalendarDay.day) == 1,
        ).order_by(CalendarDay.day)
    ).all()
    return [(d.year, bool(o)) for d, o in rows]


#: one parsed calendar per database, refreshed when an import changes it
_CALENDARS: dict[str, tuple[tuple, WorkCalendar]] = {}


def calendar_for(session: Session) -> WorkCalendar:
    """The calendar of ``session``'s database, parsed once and reloaded after an import."""
    key = str(session.get_bind().url)
    stamp = calendar_stamp(session)
    cached = _CALENDARS.get(key)
    if cached is None or cached[0] != stamp:
        cached = (stamp, load_calendar(session))
        _CALENDARS[key] = cached
    return cached[1]
