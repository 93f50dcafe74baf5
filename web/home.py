"""The home page: the signed-in user's part of the ledger."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from ledger.queries import ItemFilter, list_items
from web.extensions import sanhu

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    """List the items in the user's scope, newest first, with counts per status."""
    actor = current_user.actor
    page = request.args.get("page", 1, type=int)
    status = request.args.get("status") or None
    with sanhu().uow() as uow:
        result = list_items(uow.session, actor, ItemFilter(status=status), today=uow.today(),
                            page=page, per_page=50, sort="deadline" if status else "newest",
                            with_counts=True)
    return render_template("home/index.html", page=result, status=status)
