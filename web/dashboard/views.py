"""The dashboard of a unit (看板): where it and its child units stand, with charts.

It opens on the user's own unit; ``?unit=`` moves down the subtree with the same
unit picker as the lists (a unit outside the scope answers 404, an administrator
403).  The figures come from the summary tables (``ledger.dashboard``), which a
job recounts every few minutes, so the page says when they were counted.  Every
bar and every number links to the ledger list filtered to exactly what it counts.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ledger.dashboard import figures
from ledger.dashboard.export import workbook_bytes
from ledger.dashboard.summary import REFRESH_MINUTES
from ledger.items.queries import unit_children, unit_path
from web.core.dates import datetime_text
from web.core.extensions import sanhu
from web.dashboard import page
from web.ledger_list.views import list_url, send_xlsx_bytes

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def dash_url(kept, endpoint: str = "dashboard.index", **changes) -> str:
    """The dashboard's address for another unit (the unit picker's ``make_url``)."""
    changes.pop("page", None)
    return list_url(kept, endpoint, **changes)


def _load(unit_arg):
    """The dashboard, its unit's path and children, and today, read in one unit of work."""
    actor = current_user.actor
    with sanhu().uow() as uow:
        s, today = uow.session, uow.today()
        board = figures.build(s, actor, unit_arg, today)  # 404 outside the scope, 403 admin
        path = unit_path(s, actor, board.unit.id)
        children = unit_children(s, actor, board.unit.id)
    return board, path, children, today


def _period(board) -> str:
    return f"{board.months[0]['month']} – {board.months[-1]['month']}" if board.months else ""


@bp.route("/")
@login_required
def index():
    """The unit's figures, each chart with its table; printable (A4)."""
    board, path, children, today = _load(request.args.get("unit"))
    kept = {"unit": board.unit.id} if board.unit.id != current_user.actor.unit_id else {}
    return render_template(
        "dashboard/index.html", board=board, tables=page.tables(board), path=path,
        children=children, chosen=board.unit.id, kept=kept, dash_url=dash_url, today=today,
        period=_period(board), lag=REFRESH_MINUTES)


@bp.route("/export.xlsx")
@login_required
def export():
    """Every table of the dashboard as one .xlsx workbook, one sheet per table."""
    board, _path, _children, today = _load(request.args.get("unit"))
    heading = [board.unit.name,
               _("Trend period: %(period)s", period=_period(board)),
               _("Data as of %(time)s (recounted every %(n)s minutes)",
                 time=datetime_text(board.refreshed_at)
                 if board.refreshed_at else "—", n=REFRESH_MINUTES)]
    data = workbook_bytes(page.sheets(board, heading))
    return send_xlsx_bytes(data, f"看板-{board.unit.name}-{today.isoformat()}.xlsx")
