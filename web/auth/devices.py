"""The "known device" cookie: proof that this browser has signed in as a user before.

After a successful sign-in the browser gets a signed cookie (``sanhu_device``)
holding a random device id and the usernames that signed in on it (the last
``MAX_USERS``, for shared office computers).  It grants nothing by itself: it
only lets ``ledger.org.throttle`` check that browser's attempts for those
usernames against the device's own failure count, instead of the username's
and the client address's, so a colleague guessing from the same office address
cannot lock the owner out of their own browser.  A missing, tampered or expired
cookie counts as an unknown browser.
"""

from __future__ import annotations

import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from web.core.extensions import sanhu

COOKIE = "sanhu_device"
MAX_USERS = 10
_SALT = "sanhu-known-device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _max_age() -> int:
    return sanhu().settings.known_device_days * 24 * 3600


def _read() -> tuple[str, list[str]] | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=_max_age())
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return None
    users = data.get("users")
    return data["id"], [u for u in users if isinstance(u, str)] if isinstance(users, list) else []


def known_device(username: str) -> str | None:
    """The id of this browser if it has signed in as ``username`` before, else None."""
    found = _read()
    if found is None or username.strip().lower() not in found[1]:
        return None
    return found[0]


def remember_device(response, username: str) -> None:
    """Mark this browser as known for ``username`` (kept ``known_device_days``)."""
    device, users = _read() or (secrets.token_urlsafe(16), [])
    name = username.strip().lower()
    users = [name, *(u for u in users if u != name)][:MAX_USERS]
    response.set_cookie(COOKIE, _serializer().dumps({"id": device, "users": users}),
                        max_age=_max_age(), httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
