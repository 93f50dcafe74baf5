"""The API's documentation page (Swagger UI, served by the app) and problem types.

Swagger UI's files come from the ``swagger-ui-py`` package and are served
under ``/api/v1/docs/assets/``: nothing is loaded from the internet.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from flask import Blueprint, abort, jsonify, render_template, send_from_directory

from web.api.errors import TYPES, catalogue

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

ASSETS = Path(swagger_ui.__file__).parent / "static"
#: the files the page needs; nothing else of the package is served
SERVED = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
          "favicon-32x32.png", "favicon-16x16.png"}
#: Swagger UI sets inline styles; everything still comes from this server
DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'")

DESCRIPTION = """\
The ledger (台账) of Sanhu over HTTP, with the same permissions as the pages.

**Authentication.** Create a personal access token on your account page
(账户 → API 令牌) and send it as `Authorization: Bearer <token>`.  It acts as
you: your role, your unit, your area.  A signed-in browser may read, never write.

**Versions.** Items and observations carry their version as an `ETag`.  Every
change needs `If-Match` with the ETag you read: 428 without it, 412 (with the
current representation) when someone changed it meanwhile.  An observation's
checklist lines, texts (听查看谈, 亮点, 经验总结) and participants' evaluations
are saved each on its own: their ETag is that row's own version.  Writes with
no version to check take no `If-Match`: adding a participant or a file,
marking the open lines as conforming (answered lines are left alone) and the
record's settings.

**Errors** are `application/problem+json` (RFC 9457) with a stable `type`;
the list is at `/api/v1/problems/`.

**Pages** of lists are cursor pages: pass `next_cursor` back as `cursor`
(the highlights are numbered pages of 20, like their page).
"""


@bp.route("/docs")
def page():
    response = render_template("api/docs.html")
    return response, 200, {"Content-Security-Policy": DOCS_CSP}


@bp.route("/docs/assets/<path:name>")
def asset(name: str):
    if name not in SERVED:
        abort(404)
    return send_from_directory(ASSETS, name, max_age=86400)


@bp.route("/problems/")
def problem_types():
    """Every problem type the API answers with."""
    return jsonify(catalogue())


@bp.route("/problems/<slug>")
def problem_type(slug: str):
    if slug not in TYPES:
        abort(404)
    return jsonify(catalogue()[slug])


def init_app(app) -> None:
    app.register_blueprint(bp)
