"""Helpers shared by the API's lists: opaque id cursors and aware datetimes.

A cursor is the last id of the previous page, base64-encoded JSON like the
items' cursors, so a client treats every ``next_cursor`` the same way.
"""

from __future__ import annotations

import base64
import datetime as dt
import json

from ledger.core.errors import ValidationError


def encode_key(key: list) -> str:
    """An opaque cursor for the key of a page's last row (a list of JSON values)."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_key(cursor: str, parse):
    """``parse(key list)`` of a cursor; a cursor no list gave is a 422 on ``cursor``."""
    try:
        return parse(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))))
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationError("the cursor is not one this list gave",
                              fields={"cursor": "invalid"}) from exc


def _one_id(raw) -> int:
    (last_id,) = raw
    if not isinstance(last_id, int) or isinstance(last_id, bool):
        raise TypeError
    return last_id


def encode_id(last_id: int | None) -> str | None:
    """The cursor that continues after ``last_id`` (None: the last page)."""
    return None if last_id is None else encode_key([last_id])


def decode_id(cursor: str | None) -> int | None:
    """The id a cursor continues after."""
    return decode_key(cursor, _one_id) if cursor else None


def aware(value):
    """SQLite hands back naive UTC datetimes; the API always answers with a zone."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value
