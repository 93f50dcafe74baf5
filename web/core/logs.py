"""Request ids and structured (JSON) logs.

Every request carries an id: the ``X-Request-ID`` header a proxy sent (nginx's
``$request_id``, see ``deploy/nginx-sanhu.conf``) when it looks like one, else a
new random one.  It is echoed in the response header of the same name and put
in every log line written while the request is handled, so one search finds a
request's lines across the proxy, the access log and the application.

``SANHU_LOG_JSON=1`` (the default under ``deploy/gunicorn.conf.py``) writes
each log line as one JSON object: time, level, logger, message, request id and
the traceback if any.  gunicorn's access lines carry the id too: its access
format names the response's ``X-Request-ID`` header, and ``JsonFormatter``
picks it out of the access record.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import uuid

from flask import Flask, g, has_request_context, request

HEADER = "X-Request-ID"
#: ids accepted from the client or proxy; anything else is replaced (no log injection)
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: the key of the response header in gunicorn's access-log atoms
_ACCESS_ATOM = "{x-request-id}o"


def current_request_id() -> str | None:
    """The id of the request being handled, if any."""
    if has_request_context():
        return g.get("request_id")
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id of the request being handled."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id is None and isinstance(record.args, dict):  # a gunicorn access line
            request_id = record.args.get(_ACCESS_ATOM)
        if request_id and request_id != "-":
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def use_json_logs(level: int = logging.INFO) -> None:
    """Send every logger's lines through one stderr handler with ``JsonFormatter``."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers[:] = [handler]
    root.setLevel(level)


def init_app(app: Flask, json_logs: bool) -> None:
    """Give each request its id; with ``json_logs`` configure the JSON lines."""
    if json_logs:
        use_json_logs()

    @app.before_request
    def take_request_id() -> None:
        sent = request.headers.get(HEADER, "")
        g.request_id = sent if _ACCEPTED.fullmatch(sent) else uuid.uuid4().hex

    @app.after_request
    def echo_request_id(response):
        response.headers[HEADER] = g.get("request_id") or uuid.uuid4().hex
        return response
