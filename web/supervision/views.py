"""The supervisors' overdue board (督办) and the supervision records and notices.

The board is a GET list like the ledger's (every filter is in the address).
Ticking items and choosing an act opens that act's form for the selected
items; saving it runs ``ledger.supervision.acts`` and reports each item's outcome.
Who sees which act is ``ledger.supervision.acts.ACTIONS``; other roles get 403 and
items outside the user's area 404.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, DateTimeLocalField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from ledger.calendar import bounds
from ledger.core.errors import DomainError, NotFound, PermissionDenied, ValidationError
from ledger.core.models import Item, Notice, Unit
from ledger.items.queries import unit_children, unit_path
from ledger.results import notice as ranking_notice
from ledger.results import reports
from ledger.supervision import acts as sup
from ledger.supervision import board as sup_board
from web.core.domain_text import apply_field_errors, explain
from web.core.extensions import sanhu
from web.core.inputs import id_list, to_int
from web.core.labels import CLASS_LABELS
from web.core.text_limits import limited, one_line_break
from web.ledger_list.views import list_url

bp = Blueprint("supervision", __name__, url_prefix="/board")

PER_PAGE = 50
REQUIRED = _l("This field is required.")
FILTER_ARGS = ("unit", "min_days", "min_workdays", "min_rejections", "repeat", "listed",
               "lagging", "sort")

ACTION_LABELS = {"urge": _l("Urge (催办)"), "interview": _l("Interview (约谈)"),
                 "inquiry": _l("Written inquiry (函询)"),
                 "listing": _l("Listed supervision (挂牌督办)"), "notice": _l("Notice (通报)")}
RUNG_LABELS = {"urge": _l("urge"), "notice": _l("notice"), "interview": _l("interview"),
               "listing": _l("list for supervision")}
SORT_LABELS = {"days_overdue": _l("Most days overdue"),
               "workdays": _l("Most working days overdue"),
               "rejections": _l("Most rejections"), "unit": _l("By unit")}
RECORD_STATUS = {"open": _l("awaiting reply"), "replied": _l("answered"),
                 "active": _l("listed"), "lift_requested": _l("lifting requested"),
                 "lifted": _l("lifted")}


# --- forms --------------------------------------------------------------------------


def _req(field, label, max_length, **kw):
    if field is TextAreaField:
        kw.setdefault("filters", [one_line_break])
    return field(label, validators=[DataRequired(REQUIRED), limited(max_length)], **kw)


def _opt(field, label, max_length=None, **kw):
    validators = [Optional()] + ([limited(max_length)] if max_length else [])
    if field is TextAreaField:
        kw.setdefault("filters", [one_line_break])
    return field(label, validators=validators, **kw)


class UrgeForm(FlaskForm):
    """催办: a message sent now to each item's responsible person.

    ``confirm`` is "1" on the confirmation form shown when an item was urged recently
    (``sup.REURGE_DAYS``): only then is such an item urged again.
    """

    note = _opt(TextAreaField, _l("Message to the responsible person"), 2000)
    confirm = HiddenField()


class InterviewForm(FlaskForm):
    """约谈: the interview as held."""

    held_at = DateTimeLocalField(_l("Time"), format="%Y-%m-%dT%H:%M",
                                 validators=[DataRequired(REQUIRED)])
    place = _req(StringField, _l("Place"), 200)
    interviewer = _req(StringField, _l("Interviewer (约谈人)"), 200)
    interviewee = _req(StringField, _l("Interviewee (被约谈人)"), 200)
    interviewee_post = _req(StringField, _l("Interviewee's post (职务)"), 200)
    reason = _req(TextAreaField, _l("Reason (约谈事由)"), 2000)
    minutes = _opt(TextAreaField, _l("Minutes (约谈纪要)"), 10000)
    outcome = _opt(TextAreaField, _l("Outcome (约谈结果)"), 2000)
    follow_up_deadline = _opt(DateField, _l("Follow-up deadline (整改跟进时限)"))


class InquiryForm(FlaskForm):
    """函询: the written question."""

    question = _req(TextAreaField, _l("Question (函询内容)"), 4000)
    reply_due = _opt(DateField, _l("Reply due by"))


class ListingForm(FlaskForm):
    """挂牌督办: reason and term."""

    reason = _req(TextAreaField, _l("Reason (挂牌理由)"), 2000)
    term_until = DateField(_l("Listed until (督办期限)"), validators=[DataRequired(REQUIRED)])


class NoticeForm(FlaskForm):
    """通报: title and text; the number is given on issue."""

    title = _req(StringField, _l("Title"), 200)
    body = _req(TextAreaField, _l("Text of the notice"), 20000)


class ReplyForm(FlaskForm):
    """函询回复: the written reply as received."""

    reply = _req(TextAreaField, _l("Reply (回复内容)"), 10000)
    replied_by = _req(StringField, _l("Replied by (回复单位或人)"), 200)
    replied_at = _opt(DateField, _l("Date of the reply"))


class LiftRequestForm(FlaskForm):
    """申请摘牌."""

    reason = _req(TextAreaField, _l("Why the listing can be lifted"), 2000)


class LiftApproveForm(FlaskForm):
    """批准摘牌."""

    note = _opt(TextAreaField, _l("Note"), 2000)


class LiftDenyForm(FlaskForm):
    """驳回摘牌."""

    reason = _req(TextAreaField, _l("Why the listing stays"), 2000)


ACT_FORMS: dict[str, type[FlaskForm]] = {"urge": UrgeForm, "interview": InterviewForm,
                                         "inquiry": InquiryForm, "listing": ListingForm,
                                         "notice": NoticeForm}


def _kwargs(form: FlaskForm) -> dict:
    return {name: f.data for name, f in form._fields.items() if name != "csrf_token"}


ACT_SERVICES: dict[str, Callable] = {
    "urge": lambda uow, ids, actor, form: sup.urge(uow, ids, actor, note=form.note.data,
                                                   confirmed=form.confirm.data == "1"),
    "interview": lambda uow, ids, actor, form: sup.record_interview(uow, ids, actor,
                                                                   **_kwargs(form)),
    "inquiry": lambda uow, ids, actor, form: sup.record_inquiry(uow, ids, actor,
                                                               **_kwargs(form)),
    "listing": lambda uow, ids, actor, form: sup.place_listing(uow, ids, actor,
                                                              **_kwargs(form)),
    "notice": lambda uow, ids, actor, form: sup.issue_notice(uow, ids, actor, **_kwargs(form)),
}


# --- helpers ------------------------------------------------------------------------


def _actor():
    return current_user.actor


def _allow(action: str) -> None:
    if not sup.may(_actor(), action):
        abort(403)


def read_board_args(args: Mapping[str, str], actor) -> tuple[dict, dict[str, str]]:
    """The board's filters and the normalised arguments its links carry.

    Thresholds beyond about ten years (``bounds``) answer 400: the calendar ends there.
    """
    unit = to_int(args.get("unit"))
    unit = None if unit == actor.unit_id else unit
    sort = args.get("sort") if args.get("sort") in sup_board.BOARD_SORTS else "days_overdue"
    flt = {"unit_id": unit, "min_days": to_int(args.get("min_days"), high=bounds.MAX_DAYS),
           "min_workdays": to_int(args.get("min_workdays"), high=bounds.MAX_WORKDAYS),
           "min_rejections": to_int(args.get("min_rejections"), high=9999),
           "repeat_only": args.get("repeat") == "1", "listed_only": args.get("listed") == "1",
           "lagging_only": args.get("lagging") == "1",
           "sort": sort}
    kept = {"unit": unit, "min_days": flt["min_days"], "min_workdays": flt["min_workdays"],
            "min_rejections": flt["min_rejections"], "repeat": "1" if flt["repeat_only"] else None,
            "lagging": "1" if flt["lagging_only"] else None,
            "listed": "1" if flt["listed_only"] else None,
            "sort": sort if sort != "days_overdue" else None}
    return flt, {k: str(v) for k, v in kept.items() if v}


def board_url(kept: Mapping[str, str], **changes) -> str:
    return list_url(kept, "supervision.board", **changes)


def notice_label(notice) -> str:
    """``2026年第4季度第3号`` in Chinese, ``2026 Q4 No. 3`` in English."""
    if str(get_locale())[:2] == "en":
        return f"{notice.year} Q{notice.quarter} No. {notice.serial}"
    return notice.number


def _selected_ids(source) -> list[int]:
    return id_list(source.getlist("ids"))[:500]


def _numbers(uow, actor, ids: list[int]) -> dict[int, str]:
    """Numbers of the selected items the user sees (others stay unnamed)."""
    return dict(uow.session.execute(
        select(Item.id, Item.number).where(Item.id.in_(ids), actor.scope_clause(Item))).all())


# --- the board ----------------------------------------------------------------------


@bp.route("/")
@login_required
def board():
    """The overdue items in the user's area, filtered and sorted, with suggested escalation."""
    actor = _actor()
    if actor.role not in sup.BOARD_ROLES:
        abort(403)
    flt, kept = read_board_args(request.args, actor)
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    app = sanhu()
    with app.uow() as uow:
        s = uow.session
        chosen = flt["unit_id"] or actor.unit_id
        path = unit_path(s, actor, chosen)  # NotFound (404) outside the scope
        children = unit_children(s, actor, chosen)
        page = sup_board.board(s, actor, uow.today(), page=page_no, per_page=PER_PAGE,
                         warning_days=app.settings.warning_days, **flt)
        late_reports = reports.overdue_for(uow, actor)
    return render_template(
        "supervision/board.html", page=page, flt=flt, kept=kept, path=path, children=children,
        late_reports=late_reports,
        chosen=chosen, board_url=board_url, sorts=SORT_LABELS, rung_labels=RUNG_LABELS,
        actions=sup.board_actions(actor), action_labels=ACTION_LABELS)


# --- acting on selected items ----------------------------------------------------------


@bp.route("/act")
@login_required
def act_form():
    """The form of one act for the items ticked on the board (or one item's page)."""
    action = request.args.get("action", "")
    if action not in ACT_FORMS:
        abort(404)
    _allow(action)
    ids = _selected_ids(request.args)
    if not ids:
        flash(_("Select at least one item."), "warning")
        return redirect(url_for("supervision.board"))
    form = ACT_FORMS[action](formdata=None)
    return _render_act(action, form, ids)


def _render_act(action: str, form, ids: list[int], message: str | None = None,
                status: int = 200, urged: list | None = None):
    actor = _actor()
    with sanhu().uow() as uow:
        numbers = _numbers(uow, actor, ids)
        if not numbers:
            raise NotFound("no such item")
        if action == "interview" and form.held_at.data is None and not form.is_submitted():
            form.held_at.data = uow.now().astimezone(uow.settings.zone).replace(
                tzinfo=None, second=0, microsecond=0)
        items = sup_board.items_brief(uow.session, list(numbers))
    return render_template("supervision/act.html", action=action, form=form, ids=ids,
                           items=items, message=message, action_labels=ACTION_LABELS,
                           urged=urged), status


@bp.route("/act/<action>", methods=["POST"])
@login_required
def act(action: str):
    """Run one act over the selected items and report each item's outcome."""
    if action not in ACT_FORMS:
        abort(404)
    _allow(action)
    actor = _actor()
    form = ACT_FORMS[action]()
    ids = _selected_ids(request.form)
    if not ids:
        flash(_("Select at least one item."), "warning")
        return redirect(url_for("supervision.board"))
    if not form.validate():
        return _render_act(action, form, ids, _("Please correct the marked fields."), 400)
    with sanhu().uow() as uow:
        try:
            result = ACT_SERVICES[action](uow, ids, actor, form)
        except (NotFound, PermissionDenied):
            raise
        except sup.RecentlyUrged as exc:
            # ask first: the same form again, saying when and by whom, with "confirm"
            uow.rollback()
            form.confirm.data = "1"
            return _render_act(action, form, ids, urged=exc.urged)
        except ValidationError as exc:
            uow.rollback()
            apply_field_errors(form, exc)
            return _render_act(action, form, ids, explain(exc), 400)
        except DomainError as exc:
            uow.rollback()
            return _render_act(action, form, ids, explain(exc), 409)
        numbers = _numbers(uow, actor, ids)
    rows = [{"id": r.item_id, "number": numbers.get(r.item_id), "ok": r.ok,
             "message": None if r.ok else explain(r.error)} for r in result.items]
    return render_template("supervision/results.html", rows=rows, action=action, result=result,
                           ok=len(result.done), action_labels=ACTION_LABELS)


# --- records -------------------------------------------------------------------------


CHANGE_FORMS: dict[str, type[FlaskForm]] = {
    "reply": ReplyForm, "lift_request": LiftRequestForm, "lift_approve": LiftApproveForm,
    "lift_deny": LiftDenyForm}


def _record_forms(record, actor) -> dict[str, FlaskForm]:
    return {change: CHANGE_FORMS[change](formdata=None)
            for change in sup.record_changes(record, actor)}


def _render_record(record_id: int, active: str | None = None, active_form=None,
                   message: str | None = None, status: int = 200):
    """The record as the user may read it: all of it when they see every item of the act,
    else its kind, dates and their own items (``sup_board.SHARED_DETAILS``)."""
    actor = _actor()
    with sanhu().uow() as uow:
        view = sup_board.record_view(uow.session, actor, record_id)
        record, details = view.record, view.details
        items = sup_board.items_brief(uow.session, view.item_ids)
        people = sup_board.people(uow.session, [record.created_by_id,
                                                details.get("lift_requested_by"),
                                                details.get("lift_approved_by"),
                                                details.get("recorded_by")])
    # the changes need every item of the act in the user's area
    forms = _record_forms(record, actor) if view.complete else {}
    if active and active_form is not None:
        forms[active] = active_form
    return render_template("supervision/record.html", record=record, details=details,
                           full=view.complete, items=items, people=people, forms=forms,
                           message=message, action_labels=ACTION_LABELS,
                           record_status=RECORD_STATUS,
                           board_visible=actor.role in sup.BOARD_ROLES), status


@bp.route("/records/<int:record_id>")
@login_required
def record(record_id: int):
    """One supervision record: what was done, on which items; the reply or lift forms."""
    return _render_record(record_id)


RECORD_CHANGES: dict[str, tuple[type[FlaskForm], str, Callable]] = {
    "reply": (ReplyForm, "inquiry_reply",
              lambda uow, rid, actor, f: sup.record_inquiry_reply(uow, rid, actor,
                                                                  **_kwargs(f))),
    "lift_request": (LiftRequestForm, "request_lift",
                     lambda uow, rid, actor, f: sup.request_lift(uow, rid, actor,
                                                                 reason=f.reason.data)),
    "lift_approve": (LiftApproveForm, "approve_lift",
                     lambda uow, rid, actor, f: sup.approve_lift(uow, rid, actor,
                                                                 note=f.note.data)),
    "lift_deny": (LiftDenyForm, "deny_lift",
                  lambda uow, rid, actor, f: sup.deny_lift(uow, rid, actor,
                                                           reason=f.reason.data)),
}
DONE = {"reply": _l("The reply is recorded."), "lift_request": _l("Lifting is requested."),
        "lift_approve": _l("The listing is lifted."),
        "lift_deny": _l("The request is denied; the listing stays.")}


@bp.route("/records/<int:record_id>/<change>", methods=["POST"])
@login_required
def change_record(record_id: int, change: str):
    """Record an inquiry's reply, request lifting a listing, or approve the lifting."""
    if change not in RECORD_CHANGES:
        abort(404)
    form_class, action, service = RECORD_CHANGES[change]
    actor = _actor()
    with sanhu().uow() as uow:
        sup_board.get_record(uow.session, actor, record_id)  # 404 before 403: nothing leaks
    _allow(action)
    form = form_class()
    if not form.validate():
        return _render_record(record_id, change, form, _("Please correct the marked fields."),
                              400)
    with sanhu().uow() as uow:
        try:
            service(uow, record_id, actor, form)
        except NotFound:
            raise
        except ValidationError as exc:
            uow.rollback()
            apply_field_errors(form, exc)
            return _render_record(record_id, change, form, explain(exc), 400)
        except PermissionDenied as exc:
            uow.rollback()
            return _render_record(record_id, change, form, explain(exc), 403)
        except DomainError as exc:
            uow.rollback()
            return _render_record(record_id, change, form, explain(exc), 409)
    flash(str(DONE[change]), "success")
    return redirect(url_for("supervision.record", record_id=record_id))


# --- notices -------------------------------------------------------------------------


@bp.route("/notices")
@login_required
def notices():
    """The notices (通报) that list items in the user's area, newest first."""
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    with sanhu().uow() as uow:
        found = sup_board.list_notices(uow.session, _actor(), page=page_no, per_page=PER_PAGE)
    return render_template("supervision/notices.html", notices=found, page_no=page_no,
                           per_page=PER_PAGE, notice_label=notice_label)


@bp.route("/notices/<int:notice_id>")
@login_required
def notice(notice_id: int):
    """One notice, printable: its number, text, the items and the units concerned (a
    ranking notice: the townships' places, classes and ledger figures as issued)."""
    with sanhu().uow() as uow:
        if uow.session.scalar(select(Notice.ranking_id).where(Notice.id == notice_id)):
            view = ranking_notice.get_ranking_notice(uow.session, _actor(), notice_id)
            issuer = sup_board.people(uow.session, [view.notice.created_by_id]).get(
                view.notice.created_by_id)
            return render_template("supervision/ranking_notice.html", view=view,
                                   issuer=issuer, notice_label=notice_label,
                                   class_labels=CLASS_LABELS)
        found, rows = sup_board.get_notice(uow.session, _actor(), notice_id)
        issuer = sup_board.people(uow.session, [found.created_by_id]).get(found.created_by_id)
        unit = uow.session.get(Unit, found.unit_id)
    return render_template("supervision/notice.html", notice=found, rows=rows,
                           units=sup_board.notice_units(rows), issuer=issuer, unit=unit,
                           notice_label=notice_label)


# --- the item page's card -------------------------------------------------------------


def item_card(session, actor, item_id: int, state: str | None = None) -> dict:
    """What the item page shows about supervision: records, notices, the acts offered
    (those possible in the item's ``state``: none once it is closed)."""
    found = sup_board.item_supervision(session, actor, item_id)
    return {**found, "actions": sup.board_actions(actor, state), "labels": ACTION_LABELS,
            "status": RECORD_STATUS, "notice_label": notice_label}
