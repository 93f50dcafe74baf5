"""The dates the product accepts from people: 2000-01-01 to ten years after today.

Anything outside is a typing slip (0001-01-01, 9999-12-31) that would only
overflow date arithmetic or loop over millions of days, so the deadlines of
items and the dates of supervision acts are checked here, once.
"""

from __future__ import annotations

import datetime as dt

from ledger.core.errors import ValidationError

EARLIEST = dt.date(2000, 1, 1)
YEARS_AHEAD = 10
#: the most (natural) days a deadline may be given in, about ten years
MAX_DAYS = 3653
#: the most working days a deadline may be given in, about ten years
MAX_WORKDAYS = 2500
#: the field code a refused date carries (``ValidationError.fields``)
OUT_OF_RANGE = "date out of range"


def latest(today: dt.date) -> dt.date:
    """The last accepted date: ten years after ``today`` (28 February for 29 February)."""
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def out_of_range(field: str) -> ValidationError:
    return ValidationError(f"{field} must lie between {EARLIEST} and ten years from today",
                           fields={field: OUT_OF_RANGE})


def within(day: dt.date, today: dt.date, field: str) -> dt.date:
    """``day`` itself, or ``ValidationError`` (code ``OUT_OF_RANGE``) outside the range."""
    moment = day.date() if isinstance(day, dt.datetime) else day
    if not EARLIEST <= moment <= latest(today):
        raise out_of_range(field)
    return day
