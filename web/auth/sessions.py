"""How long a signed-in session lives: an idle timeout and an absolute lifetime.

Flask's session is a signed cookie, so its age is kept inside it: the time of
sign-in (``_sanhu_start``) and of the last request (``_sanhu_seen``).  Before
every request a session unused for ``session_idle_minutes`` or older than
``session_max_hours`` loses its sign-in; a session without the stamps (made
before they existed, or forged from an old cookie) counts as expired.

A remembered device ("remember me") then signs in again from its remember
cookie, which starts a new session with fresh stamps: the remember period
(``remember_days``, counted from the sign-in and checked by the server, see
``web.auth.views.load_user``) bounds it, the session lifetimes bound each
session within it.  Every new session is checked against the user's
``session_version`` as always.
"""

from __future__ import annotations

import time

from flask import Flask, session
from flask_login import user_loaded_from_cookie, user_logged_in

from web.core.extensions import login_manager, sanhu

START = "_sanhu_start"
SEEN = "_sanhu_seen"
#: Flask-Login's keys of a signed-in session (and ours), dropped when it expires; its
#: "_id" (the browser's identifier) stays, or "strong" session protection would also
#: delete the remember cookie
SIGNED_IN_KEYS = ("_user_id", "_fresh", START, SEEN)
#: write the last-seen time at most this often (the cookie is not rewritten on every click)
SEEN_RESOLUTION = 60


def _stamp(sender, user, **extra) -> None:
    now = int(time.time())
    session[START] = now
    session[SEEN] = now


def _stamp_remembered(sender, user, **extra) -> None:
    # Flask-Login does not record the identifier of a session it builds from the remember
    # cookie; with "strong" protection the next request would then drop the session and
    # the remember cookie.  Record it as login_user() does.
    session["_id"] = login_manager._session_identifier_generator()
    _stamp(sender, user)


def expired(now: float) -> bool:
    """True when the signed-in session of this request has outlived a limit."""
    settings = sanhu().settings
    start, seen = session.get(START), session.get(SEEN)
    if not isinstance(start, int) or not isinstance(seen, int):
        return True
    return (now - seen > settings.session_idle_minutes * 60
            or now - start > settings.session_max_hours * 3600)


def enforce_lifetime() -> None:
    """Drop an expired sign-in before anything loads the user; note the activity otherwise."""
    if "_user_id" not in session:
        return
    now = time.time()
    if expired(now):
        for key in SIGNED_IN_KEYS:
            session.pop(key, None)
    elif now - session[SEEN] >= SEEN_RESOLUTION:
        session[SEEN] = int(now)


def init_app(app: Flask) -> None:
    user_logged_in.connect(_stamp, app)
    user_loaded_from_cookie.connect(_stamp_remembered, app)
    app.before_request(enforce_lifetime)
