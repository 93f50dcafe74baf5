"""One place that maps domain errors and HTTP errors to friendly pages.

Each page is in the user's language (Chinese unless the ``sanhu_lang`` cookie
says English).  A database lock timeout (SQLite's "database is locked" while
another writer holds the lock, a PostgreSQL lock timeout or deadlock) is not
a bug but a busy moment: it answers 503 with ``Retry-After`` and asks the
user to try again, instead of a 500.  An unexpected exception is logged by Flask and answered with
the friendly 500 page; should even that page fail to render (say the database
is down while the header loads the user), a plain bilingual page answers.
"""

from __future__ import annotations

from flask import Flask, current_app, make_response, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError

from ledger.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from web.core.domain_text import MESSAGES

TITLES = {
    400: lambda: _("The request could not be understood."),
    403: lambda: _("You may not do this."),
    404: lambda: _("Not found."),
    409: lambda: _("Someone else changed this meanwhile. Reload and try again."),
    413: lambda: _("The upload is too large."),
    500: lambda: _("Something went wrong on our side."),
    503: lambda: _("The system is busy. Please try again in a moment."),
}

HINTS = {
    404: lambda: _("The page or item does not exist, or it lies outside your area."),
    413: lambda: _("Send fewer or smaller files at a time."),
    500: lambda: _("The error has been logged. Please try again in a moment."),
    503: lambda: _("Another task is writing to the database. Nothing was saved from this "
                   "request; send it again in a few seconds."),
}

#: seconds a client is asked to wait after a lock timeout
RETRY_AFTER = 5
#: PostgreSQL's lock_not_available (lock_timeout) and deadlock_detected
PG_LOCK_STATES = {"55P03", "40P01"}
SQLITE_LOCKED = ("database is locked", "database table is locked", "database is busy")

#: when even the friendly page cannot be rendered
PLAIN_500 = ("<!doctype html><meta charset='utf-8'><title>500</title>"
             "<h1>500</h1><p>系统出现错误，请稍后再试。</p>"
             "<p>Something went wrong on our side.</p>")


def status_for(exc: DomainError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, Conflict):
        return 409
    return 400


def render_error(code: int, message: str | None = None, hint: str | None = None):
    """The friendly page for ``code``, with an optional sentence and hint."""
    message = message or TITLES[code]()
    if hint is None and code in HINTS:
        hint = HINTS[code]()
    try:
        return render_template("errors/error.html", code=code, message=message, hint=hint), code
    except Exception:
        if code != 500:
            raise
        current_app.logger.exception("the 500 page itself failed to render")
        return PLAIN_500, 500


def is_lock_timeout(exc: OperationalError) -> bool:
    """Whether the database gave up waiting for a lock (the request may simply be retried)."""
    if getattr(exc.orig, "sqlstate", None) in PG_LOCK_STATES:
        return True
    return any(text in str(exc.orig).lower() for text in SQLITE_LOCKED)


def init_app(app: Flask) -> None:
    for code in TITLES:
        app.register_error_handler(code, lambda exc, code=code: render_error(code))

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        """A form sent without its (or with an expired) CSRF token."""
        return render_error(
            400, _("The form has expired or was sent without its security token."),
            _("Reload the page and send the form again."))

    @app.errorhandler(DataError)
    def data_error(exc: DataError):
        """A value the database refused (a number out of range, a NUL byte): the request's
        fault, answered 400.  Input is bounded before it gets there (``web.core.inputs``), so
        this is a net; the warning shows which check is missing."""
        current_app.logger.warning("the database refused a value: %s", exc.orig)
        return render_error(400)

    @app.errorhandler(OperationalError)
    def operational_error(exc: OperationalError):
        """A lock timeout answers 503 "busy, retry" with ``Retry-After``; any other
        operational error (the database is down …) stays a logged 500."""
        if not is_lock_timeout(exc):
            raise exc
        current_app.logger.warning("database lock timeout, answered 503: %s", exc.orig)
        response = make_response(render_error(503))
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        """A domain error no view caught: its translated reason when known, else the title."""
        known = MESSAGES.get(exc.message)
        return render_error(status_for(exc), str(known) if known else None)
