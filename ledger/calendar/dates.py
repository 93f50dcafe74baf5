"""Dates as people type them: one set of spellings for the forms and the ledger import.

``2026-12-31``, ``2026/12/31``, ``2026.12.31``, ``2026年12月31日`` and ``20261231``;
full-width digits and separators (``２０２６／１２／３１``, as a Chinese input method
gives them) count as their ASCII forms.  A month and day without a year
(``12月31日``) is read by ``parse_month_day``; which year it means is up to the caller.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

#: year, month and day with any of the separators (groups: year, month, day)
YMD = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_DATE = re.compile(rf"^(?:{YMD}|(\d{{4}})(\d{{2}})(\d{{2}}))$")
_MONTH_DAY = re.compile(r"^(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$")


def normalise(text: str | None) -> str:
    """``text`` stripped, with full-width digits, letters and separators made ASCII."""
    return unicodedata.normalize("NFKC", text or "").strip()


def parse_written_date(text: str | None) -> dt.date:
    """The date ``text`` spells (see the module docstring); ``ValueError`` otherwise."""
    match = _DATE.match(normalise(text))
    if match is None:
        raise ValueError(text)
    y, m, d = (g for g in match.groups() if g is not None)
    return dt.date(int(y), int(m), int(d))


def parse_month_day(text: str | None) -> tuple[int, int] | None:
    """(month, day) for ``12月31日`` / ``12月31号``; None for anything else.

    ``ValueError`` when it has that shape but no year has such a day (``13月1日``).
    """
    match = _MONTH_DAY.match(normalise(text))
    if match is None:
        return None
    month, day = int(match.group(1)), int(match.group(2))
    dt.date(2000, month, day)  # a leap year: 2月29日 is a day of some years
    return month, day


def next_month_day(month: int, day: int, today: dt.date) -> dt.date:
    """The month and day this year, or next year when this year's has passed.

    ``ValueError`` for 29 February when neither year has one; when this year's
    29 February has passed and next year has none, this year's is returned for
    the caller to refuse as past.
    """
    candidates = []
    for year in (today.year, today.year + 1):
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise ValueError(f"{month}-{day}")
    return next((c for c in candidates if c >= today), candidates[0])


def chinese_date(day: dt.date) -> str:
    """``day`` as Chinese text writes it, 2026年12月15日 (the stored messages are Chinese,
    and the pages show dates so too)."""
    return f"{day.year}年{day.month}月{day.day}日"
