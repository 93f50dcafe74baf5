"""Dates and times on every page in one house style.

In Chinese a date reads 2026年12月15日 and a moment 2026年12月15日 14:05 (Asia/Shanghai),
in lists, on the item page and in its history alike; in English the CLDR forms the pages
used before (``Dec 15, 2026``; ``12/15/26, 2:05 PM``).  Two Jinja filters, ``date_text``
and ``datetime_text``, take what the pages hold: dates, datetimes from the database
(naive ones are UTC, shown in the user's time zone), and the ISO strings kept in history
and record details (a string without an offset, such as a typed meeting time, is a wall
time and shown as it is).  Only an ``<input>``'s value keeps the ISO form.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_datetime as babel_datetime
from flask import Flask
from flask_babel import format_date, format_datetime, get_locale

#: CLDR patterns of the Chinese forms
CHINESE_DATE = "y年M月d日"
CHINESE_DATETIME = "y年M月d日 HH:mm"


def _chinese() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "zh"


def _parsed(value):
    """A date or datetime from an ISO string (the value itself otherwise; None if unreadable)."""
    if not isinstance(value, str):
        return value
    try:
        return (dt.datetime.fromisoformat(value) if "T" in value or " " in value.strip()
                else dt.date.fromisoformat(value))
    except ValueError:
        return None


def date_text(value, english: str = "medium") -> str:
    """``value`` (a date, datetime or ISO string) as a date; "" for none.  ``english`` is
    the CLDR width used in English ("medium": Dec 15, 2026; "long": December 15, 2026)."""
    parsed = _parsed(value)
    if parsed is None:
        return value or ""
    if isinstance(parsed, dt.datetime) and parsed.tzinfo is None and isinstance(value, str):
        parsed = parsed.date()  # a wall time: its own day, not converted
    return format_date(parsed, CHINESE_DATE if _chinese() else english)


def datetime_text(value) -> str:
    """``value`` (a datetime or ISO string) as a date and a time to the minute; "" for none."""
    parsed = _parsed(value)
    if parsed is None:
        return value or ""
    if not isinstance(parsed, dt.datetime):
        return date_text(parsed)
    pattern = CHINESE_DATETIME if _chinese() else "short"
    if isinstance(value, str) and parsed.tzinfo is None:  # a wall time, as it was typed
        return babel_datetime(parsed, pattern, locale=get_locale())
    return format_datetime(parsed, pattern)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(date_text=date_text, datetime_text=datetime_text)
