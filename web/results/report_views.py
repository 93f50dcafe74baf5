"""Upward reports (报送): the list of a unit's own and incoming reports, the report page
(printable: live figures while a draft, the locked snapshot once submitted), its
cover note, submission, receipt or return, and its .xlsx.

The canonical address of a report is its unit and period
(``/results/reports/<unit>/<period>``), so reminders and the board link to it
before anyone has opened it; the first save or submission creates it.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from ledger.core.errors import DomainError, NotFound, PermissionDenied, ValidationError
from ledger.core.models import Unit, User
from ledger.results import report_export, reports
from ledger.results.workflow import REPORT_RULEBOOK
from web.core.errors import render_error
from web.core.extensions import sanhu
from web.core.labels import CLASS_LABELS
from web.ledger_list.views import send_xlsx_bytes
from web.results.views import REASONS, bp, reason_text, status_for

REPORT_STATUS = {"draft": _l("Being filled"), "submitted": _l("Submitted, awaiting receipt"),
                 "returned": _l("Returned for correction"), "received": _l("Received"),
                 "missing": _l("Not started")}
REPORT_EVENTS = {"open": _l("Opened"), "submit": _l("Submitted"), "receive": _l("Received"),
                 "return": _l("Returned")}
REASONS.update({
    "a submitted report is locked": _l("A submitted report is locked."),
    "the report was changed by someone else; reload and try again":
        _l("The report was changed by someone else (perhaps submitted already): reload the "
           "page to see it."),
    "only the reporting unit's staff fill its report":
        _l("Only the reporting unit's staff fill its report."),
    "only townships and counties report upward": _l("Only townships and counties report."),
    "only counties and the city receive reports": _l("Only counties and the city receive "
                                                     "reports."),
})


def _unit(uow, unit_id: int) -> Unit:
    unit = uow.session.get(Unit, unit_id)
    if unit is None or unit.level not in reports.REPORTING_LEVEL \
            or not current_user.actor.sees(unit):
        abort(404)
    return unit


def _period(unit: Unit, period: str) -> str:
    try:
        return reports.checked_period(unit.level, period)
    except DomainError:
        abort(404)


@bp.route("/reports")
@login_required
def reports_index():
    """The user's unit's own reports (current and last period) and the reports due to it."""
    actor = current_user.actor
    with sanhu().uow() as uow:
        unit = uow.session.get(Unit, actor.unit_id)
        own = []
        if unit.level in reports.REPORTING_LEVEL:
            for period in reports.report_periods(uow, unit.level):
                kind = reports.REPORTING_LEVEL[unit.level]
                own.append({"period": period, "report": reports.find(uow.session, unit.id,
                                                                     period),
                            "due": reports.due_on(uow, kind, period)})
        incoming, receiver, period = [], None, None
        child = {"city": "county", "county": "township"}.get(unit.level)
        under = request.args.get("under", type=int)
        if under is not None:
            receiver = uow.session.get(Unit, under)
            if receiver is None or receiver.level != "county" or not actor.sees(receiver):
                abort(404)
            child = "township"
        else:
            receiver = unit
        periods = []
        if child is not None:
            periods = reports.report_periods(uow, child)
            period = request.args.get("period") or periods[-1]
            try:
                incoming = reports.incoming(uow, actor, period, under=under)
            except ValidationError:
                abort(404)
        counties = []
        if unit.level == "city":
            counties = uow.session.execute(select(Unit.id, Unit.name).where(
                Unit.parent_id == unit.id, Unit.active.is_(True)).order_by(Unit.code)).all()
        return render_template("results/reports.html", unit=unit, own=own, incoming=incoming,
                               receiver=receiver, period=period, periods=periods,
                               counties=counties, under=under, labels=REPORT_STATUS,
                               today=uow.today())


def _page(uow, unit: Unit, period: str, *, message: str | None = None,
          typed: dict | None = None, status: int = 200):
    actor = current_user.actor
    report = reports.find(uow.session, unit.id, period)
    if report is not None:
        snapshot = reports.shown_snapshot(uow, report)
        events = REPORT_RULEBOOK.allowed_events(report, actor, uow.context())
        history = reports.history(uow.session, report.id)
        people = dict(uow.session.execute(select(User.id, User.display_name).where(
            User.id.in_({h.actor_id for h in history}))).all())
    else:
        snapshot = reports.build_snapshot(uow, unit, period)
        events, history, people = [], [], {}
    reporter = actor.role in reports.STAFF and actor.unit_id == unit.id
    editable = reporter and (report is None or report.status in ("draft", "returned"))
    if editable and report is None:
        events = ["submit"]
    kind = reports.REPORTING_LEVEL[unit.level]
    html = render_template(
        "results/report.html", unit=unit, period=period, report=report, snapshot=snapshot,
        events=events, history=history, people=people, editable=editable,
        due=report.due_on if report else reports.due_on(uow, kind, period),
        message=message, typed=typed or {}, labels=REPORT_STATUS, event_labels=REPORT_EVENTS,
        class_labels=CLASS_LABELS, today=uow.today())
    return html, status


@bp.route("/reports/<int:unit_id>/<period>")
@login_required
def report(unit_id: int, period: str):
    """One report, printable: live while a draft, its locked snapshot once submitted."""
    with sanhu().uow() as uow:
        unit = _unit(uow, unit_id)
        return _page(uow, unit, _period(unit, period))


@bp.route("/reports/<int:unit_id>/<period>/<action>", methods=["POST"])
@login_required
def report_action(unit_id: int, period: str, action: str):
    if action not in ("save", "submit", "receive", "return"):
        abort(404)
    actor = current_user.actor
    form = request.form
    typed = {"cover_note": form.get("cover_note", ""), "note": form.get("note", "")}
    with sanhu().uow() as uow:
        unit = _unit(uow, unit_id)
        period = _period(unit, period)
        try:
            report = reports.find(uow.session, unit.id, period)
            if report is None and action in ("save", "submit"):
                if actor.unit_id != unit.id:
                    raise PermissionDenied("only the reporting unit's staff fill its report",
                                           event=action)
                report = reports.open_report(uow, actor, period)
            if report is None:
                abort(404)
            version = form.get("expected_version") or None
            if action == "save":
                reports.save_note(uow, report.id, actor, cover_note=typed["cover_note"],
                                  expected_version=version)
            elif action == "submit":
                reports.submit(uow, report.id, actor, cover_note=typed["cover_note"],
                               expected_version=version)
            elif action == "receive":
                reports.receive(uow, report.id, actor, expected_version=version)
            else:
                reports.send_back(uow, report.id, actor, note=typed["note"],
                                  expected_version=version)
        except NotFound:
            raise
        except PermissionDenied as exc:
            return render_error(403, reason_text(exc))
        except DomainError as exc:
            uow.rollback()
            return _page(uow, unit, period, message=reason_text(exc), typed=typed,
                         status=status_for(exc))
    flash({"save": _("Saved."), "submit": _("The report has been submitted."),
           "receive": _("The report has been marked received."),
           "return": _("The report has been returned with your note.")}[action], "success")
    return redirect(url_for("results.report", unit_id=unit_id, period=period))


@bp.route("/reports/<int:unit_id>/<period>.xlsx")
@login_required
def report_xlsx(unit_id: int, period: str):
    """The report as .xlsx: the snapshot once submitted, else the live figures."""
    with sanhu().uow() as uow:
        unit = _unit(uow, unit_id)
        period = _period(unit, period)
        report = reports.find(uow.session, unit.id, period)
        snapshot = reports.shown_snapshot(uow, report) if report is not None \
            else reports.build_snapshot(uow, unit, period)
        data = report_export.to_xlsx(snapshot, report)
    return send_xlsx_bytes(data, f"报送-{period}-{unit.name}.xlsx")
