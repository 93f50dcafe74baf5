"""One ledger item: its page, the event forms the workflow allows, evidence, recording."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("items", __name__, url_prefix="/items")
