"""Administration: users, organisation units, the working-day calendar (admins only)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@login_required
def index():
    """The administration start page."""
    return render_template("admin/index.html")
