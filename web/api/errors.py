"""Every error under ``/api/`` as ``application/problem+json`` (RFC 9457).

Each domain error has a stable ``type`` (a URI under ``/api/v1/problems/``,
which answers with the list of types), a ``title`` in English, the HTTP
``status``, a ``detail`` sentence, and where it applies ``errors`` (field →
messages) or the current representation (``current``) of a stale write.  No
HTML page and no stack trace is ever sent on ``/api/``.
"""

from __future__ import annotations

from flask import current_app, json, request
from werkzeug.exceptions import HTTPException

from ledger.core.errors import (
    Conflict,
    DomainError,
    EvidenceRejected,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)

MEDIA_TYPE = "application/problem+json"
BASE = "/api/v1/problems/"

#: slug → (title, the usual status)
TYPES: dict[str, tuple[str, int]] = {
    "bad-request": ("The request could not be understood", 400),
    "unauthorized": ("A valid access token is needed", 401),
    "forbidden": ("Your role may not do this", 403),
    "not-found": ("Not found, or outside your area", 404),
    "method-not-allowed": ("This method is not allowed here", 405),
    "not-acceptable": ("This media type cannot be produced", 406),
    "conflict": ("Someone else changed this meanwhile", 409),
    "invalid-transition": ("The workflow does not allow this now", 409),
    "precondition-failed": ("The version you sent is not the current one", 412),
    "too-large": ("The request is too large", 413),
    "unsupported-media-type": ("This media type is not accepted here", 415),
    "validation": ("Some input is missing or wrong", 422),
    "precondition-required": ("Changes need If-Match with the version you read", 428),
    "rate-limited": ("Too many requests", 429),
    "server-error": ("Something went wrong on our side", 500),
    "busy": ("The system is busy; try again shortly", 503),
}
#: HTTP status → slug, for errors raised as plain HTTP exceptions
BY_STATUS = {status: slug for slug, (_title, status) in TYPES.items()
             if slug not in ("invalid-transition",)}


def type_uri(slug: str) -> str:
    return BASE + slug


def problem(slug: str, detail: str | None = None, *, status: int | None = None,
            headers: dict | None = None, **extra):
    """The response for one problem."""
    title, default_status = TYPES[slug]
    status = status or default_status
    body = {"type": type_uri(slug), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body.update({k: v for k, v in extra.items() if v is not None})
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status,
                                          mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_domain(exc: DomainError):
    """A domain error as its problem: the same codes the pages translate."""
    if isinstance(exc, NotFound):
        return problem("not-found", exc.message, code=exc.code)
    if isinstance(exc, PermissionDenied):
        return problem("forbidden", exc.message, code=exc.code)
    if isinstance(exc, InvalidTransition):
        return problem("invalid-transition", exc.message, code=exc.code)
    if isinstance(exc, EvidenceRejected):
        status = 413 if exc.code == "evidence_too_large" else 422
        slug = "too-large" if status == 413 else "validation"
        return problem(slug, exc.message, code=exc.code,
                       errors={k: [v] for k, v in exc.fields.items()} or None)
    if isinstance(exc, ValidationError):
        return problem("validation", exc.message, code=exc.code,
                       errors={k: [v] for k, v in exc.fields.items()})
    if isinstance(exc, Conflict):
        return problem("conflict", exc.message, code=exc.code)
    return problem("bad-request", exc.message, code=exc.code)


def from_http(exc: HTTPException):
    """A werkzeug/Flask HTTP error (and flask-smorest's argument errors) as a problem."""
    status = exc.code or 500
    slug = BY_STATUS.get(status, "server-error" if status >= 500 else "bad-request")
    data = getattr(exc, "data", None) or {}
    errors = None
    if status == 422 and "messages" in data:
        errors = _flatten(data["messages"])
        detail = "Some input is missing or wrong."
    else:
        detail = exc.description if isinstance(exc.description, str) else None
    headers = {}
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    for name, value in (data.get("headers") or {}).items():
        headers[name] = value
    return problem(slug, detail, status=status, errors=errors, headers=headers)


def _flatten(messages) -> dict[str, list[str]]:
    """webargs' ``{"json": {"field": ["msg"]}}`` as ``{"field": ["msg"]}``."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out.setdefault(prefix or "_", []).extend(value)
        else:
            out.setdefault(prefix or "_", []).append(str(value))

    for location, fields in (messages or {}).items():
        if isinstance(fields, dict):
            walk("", fields)
        else:
            walk(location, fields)
    return out


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def refuse_nul_in_json():
    """400 for a NUL byte anywhere in a JSON body, as the pages refuse one in a form
    (``web.core.inputs.refuse_nul``): no database keeps it the same way."""
    if is_api_request() and request.is_json and request.content_length:
        body = request.get_json(silent=True)
        if _has_nul(body):
            return problem("bad-request", "A text holds a NUL character (\\u0000).")
    return None


def catalogue() -> dict:
    """Every problem type, for ``GET /api/v1/problems/``."""
    return {slug: {"type": type_uri(slug), "title": title, "status": status}
            for slug, (title, status) in TYPES.items()}


def init_app(app) -> None:
    """Wrap the app's error handlers: on ``/api/`` every error is a problem."""
    from sqlalchemy.exc import DataError, OperationalError

    from web.core import errors as page_errors

    def problems_first(handler):
        def handle(exc):
            if not is_api_request():
                return handler(exc)
            return as_problem(exc)
        return handle

    # the pages' handlers (web.core.errors) stay as they are for every other path
    for key in list(app.error_handler_spec[None].keys()):
        for cls, handler in list(app.error_handler_spec[None][key].items()):
            app.error_handler_spec[None][key][cls] = problems_first(handler)

    app.before_request(refuse_nul_in_json)

    from web.api.auth import Unauthorized

    @app.errorhandler(Unauthorized)
    def unauthorized(exc: Unauthorized):
        return problem("unauthorized", exc.detail,
                       headers={"WWW-Authenticate": 'Bearer realm="sanhu"'})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if is_api_request():
            return from_http(exc)
        return exc

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        if not is_api_request():
            raise exc
        current_app.logger.exception("unexpected error on %s", request.path)
        return problem("server-error", "The error has been logged.")

    def as_problem(exc):
        if isinstance(exc, DomainError):
            return from_domain(exc)
        if isinstance(exc, DataError):
            return problem("validation", "A value is out of range.")
        if isinstance(exc, OperationalError):
            if page_errors.is_lock_timeout(exc):
                return problem("busy", "Another task is writing; nothing was saved.",
                               headers={"Retry-After": str(page_errors.RETRY_AFTER)})
            current_app.logger.exception("database error on %s", request.path)
            return problem("server-error", "The error has been logged.")
        if isinstance(exc, HTTPException):
            return from_http(exc)
        current_app.logger.exception("unexpected error on %s", request.path)
        return problem("server-error", "The error has been logged.")
