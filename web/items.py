"""One ledger item: its page, the event forms the workflow allows, evidence, recording."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import login_required

bp = Blueprint("items", __name__, url_prefix="/items")


@bp.route("/<int:item_id>")
@login_required
def view(item_id: int):
    """The item page (being built)."""
    abort(404)
