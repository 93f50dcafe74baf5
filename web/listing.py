"""The ledger list (台账): filters, sorting, pages, counts, export, bulk actions."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import login_required

bp = Blueprint("ledger", __name__, url_prefix="/ledger")


@bp.route("/")
@login_required
def index():
    """The filtered ledger list."""
    return redirect(url_for("home.index"))
