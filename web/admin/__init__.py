"""Administration: users, organisation units, the working-day calendar (admins only).

Every page of this blueprint needs the ``admin`` role (others get 403) and
works inside the admin's own unit subtree (anything outside answers 404).
The use cases live in ``ledger.org.admin`` and ``ledger.org.imports``.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user, login_required

from ledger.core.models import Role
from ledger.items.calendar_admin import calendar_status
from ledger.org.admin import overview
from web.admin.text import LEVEL_LABELS, ROLE_LABELS
from web.core.extensions import sanhu

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only():
    """Send anonymous visitors to sign in and refuse every role but admin."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if current_user.actor.role != Role.ADMIN.value:
        abort(403)
    return None


@bp.context_processor
def labels() -> dict:
    """Role and level names for every administration template."""
    return {"ROLE_LABELS": ROLE_LABELS, "LEVEL_LABELS": LEVEL_LABELS}


@bp.route("/")
@login_required
def index():
    """The administration start page: links, counts and the calendar warning."""
    actor = current_user.actor
    with sanhu().uow() as uow:
        counts = overview(uow.session, actor)
        calendar = calendar_status(uow, actor)
    return render_template("admin/index.html", counts=counts, calendar=calendar)


from web.admin import calendar, imports, jobs, notify, units, users  # noqa: E402, F401  (routes on bp)
