"""``/healthz`` and ``/readyz``: for the load balancer, systemd checks and monitoring.

Both answer without sign-in and hold no personal data.  ``/healthz`` says the
process is up and never touches the database (a database outage must not make
a supervisor restart healthy workers).  ``/readyz`` says this worker can serve:
the database answers and its schema is at the revision this code carries; it
answers 503 otherwise (database unreachable, or migrations not yet run after a
deployment), so a proxy sends traffic elsewhere until ``sanhu db upgrade`` ran.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from ledger.instance.migrate import schema_state
from web.core.extensions import sanhu

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up (no database access)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database is reachable and migrations are current; 503 otherwise."""
    try:
        current, heads = schema_state(sanhu().engine)
    except (SQLAlchemyError, OSError) as exc:
        current_app.logger.warning("not ready: database unreachable: %s", exc)
        return jsonify(status="unavailable", reason="database unreachable"), 503
    if current != heads:
        current_app.logger.warning("not ready: schema at %s, code at %s", current, heads)
        return jsonify(status="unavailable", reason="migrations not current",
                       database=list(current), code=list(heads)), 503
    return jsonify(status="ready", revision=list(heads))
