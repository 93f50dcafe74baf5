"""One place that maps domain errors and HTTP errors to friendly pages."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _

from ledger.errors import Conflict, DomainError, NotFound, PermissionDenied

TITLES = {
    400: lambda: _("The request could not be understood."),
    403: lambda: _("You may not do this."),
    404: lambda: _("Not found."),
    409: lambda: _("Someone else changed this meanwhile. Reload and try again."),
    413: lambda: _("The upload is too large."),
    500: lambda: _("Something went wrong on our side."),
}


def status_for(exc: DomainError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, Conflict):
        return 409
    return 400


def render_error(code: int):
    return render_template("errors/error.html", code=code, message=TITLES[code]()), code


def init_app(app: Flask) -> None:
    for code in TITLES:
        app.register_error_handler(code, lambda exc, code=code: render_error(code))

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return render_error(status_for(exc))
