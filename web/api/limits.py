"""Rate limits for the API, per token (Flask-Limiter).

Each token (or, for a browser session, each user; without either, each client
address) may make ``api_rate_per_minute`` requests a minute.  The counts live in
``api_rate_storage``: ``memory://`` keeps them per process, which suits the
single-machine install; several workers should share Redis.  Beyond the limit
the API answers 429 (``rate-limited``) with ``Retry-After``.
"""

from __future__ import annotations

from flask import Flask, abort, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from web.core.extensions import sanhu


def _key() -> str:
    caller = getattr(g, "api_caller", None)
    if caller is not None and caller.token_id is not None:
        return f"token:{caller.token_id}"
    if caller is not None:
        return f"user:{caller.user.id}"
    return f"addr:{get_remote_address()}"


limiter = Limiter(key_func=_key, default_limits=[], headers_enabled=True)


def _rate() -> str:
    return f"{sanhu().settings.api_rate_per_minute} per minute"


#: the largest JSON body any API call takes (uploads have the evidence limit)
JSON_MAX_BYTES = 256 * 1024
#: the endpoints that take a file (their limit is the evidence limit)
UPLOADS = ("api_items.Uploads", "api_observation_record.RecordFiles",
           "api_observation_record.SectionFiles", "api_observation_record.LineFiles")
#: room for a multipart upload's part headers
FORM_OVERHEAD = 16 * 1024


def limit_body() -> None:
    """Bound what an API request may send before anything reads it (413 problem)."""
    if not request.path.startswith("/api/"):
        return
    if request.endpoint in UPLOADS:
        limit = sanhu().settings.evidence_max_bytes + FORM_OVERHEAD
    else:
        limit = JSON_MAX_BYTES
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        abort(413, f"The request is larger than the limit of {limit} bytes.")


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI",
                          app.extensions["sanhu"].settings.api_rate_storage)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)


def limit(blueprint) -> None:
    """Count every request to the blueprint's views."""
    limiter.limit(_rate, key_func=_key)(blueprint)
