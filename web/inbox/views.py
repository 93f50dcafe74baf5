"""The in-app inbox (站内消息): the signed-in user's notifications and the header's unread count.

Reminders are stored with their Chinese text (the sweep writes them in SQL);
where a notification carries its kind, item and offset the page builds the
text again in the user's language, and falls back to the stored text
otherwise.  Every route works on the user's own notifications only: another
user's id answers 404 and is never touched.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from ledger.notify import reminders
from web.core.extensions import sanhu
from web.core.labels import HANDOVER_LABELS, handover_title

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
PER_PAGE = 20

KIND_LABELS = {
    "reminder": _l("Reminder"),
    "overdue": _l("Overdue"),
    "board": _l("Supervision"),
    "digest": _l("Daily digest"),
    "report": _l("Report due"),
    "test": _l("Test"),
    "observation": _l("Observation"),
    "notice": _l("Notice (通报)"),
    **HANDOVER_LABELS,
}


class ActionForm(FlaskForm):
    """A button that marks something read (only the CSRF token)."""


def title_for(note: dict) -> str:
    """The notification's title in the user's language (the stored text when unknown)."""
    kind, offset, number = note.get("kind"), note.get("offset_days"), note.get("item_number")
    if number and kind in HANDOVER_LABELS:
        return handover_title(kind, number) or note["title"]
    if not number or offset is None:
        return note["title"]
    if kind == "reminder":
        if offset == 0:
            return _("Reminder: the deadline of %(number)s is today", number=number)
        return ngettext("Reminder: %(num)s working day left until the deadline of %(number)s",
                        "Reminder: %(num)s working days left until the deadline of %(number)s",
                        offset, number=number)
    if kind == "overdue":
        return ngettext("Overdue by %(num)s working day: %(number)s",
                        "Overdue by %(num)s working days: %(number)s", -offset, number=number)
    if kind == "board":
        return ngettext("Supervision: %(number)s is overdue by %(num)s working day",
                        "Supervision: %(number)s is overdue by %(num)s working days",
                        -offset, number=number)
    return note["title"]


def _decorate(note: dict) -> dict:
    """Add what the template shows: translated title and kind, and whether to rebuild the body."""
    note["display_title"] = title_for(note)
    note["kind_label"] = str(KIND_LABELS.get(note["kind"], note["kind"]))
    note["item_text"] = bool(note.get("item_number") and note.get("offset_days") is not None
                             and note["kind"] in ("reminder", "overdue", "board"))
    return note


def _back() -> str:
    """The inbox page the form was sent from (filter and page kept)."""
    args = {}
    if request.form.get("unread") == "1":
        args["unread"] = 1
    page = request.form.get("page", type=int)
    if page and page > 1:
        args["page"] = page
    return url_for("inbox.index", **args)


@bp.route("/")
@login_required
def index():
    """The user's notifications, newest first, 20 a page; ``?unread=1`` shows unread only."""
    unread_only = request.args.get("unread") == "1"
    with sanhu().uow() as uow:
        page = reminders.inbox_page(uow, current_user.actor.id, unread_only=unread_only,
                                    page=request.args.get("page", 1, type=int),
                                    per_page=PER_PAGE)
    for note in page.rows:
        _decorate(note)
    return render_template("inbox/index.html", page=page, unread_only=unread_only)


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_one(notification_id: int):
    """Mark one of the user's notifications read."""
    if not ActionForm().validate_on_submit():
        abort(400)
    with sanhu().uow() as uow:
        if reminders.own_notification(uow, current_user.actor.id, notification_id) is None:
            abort(404)
        reminders.mark_read(uow, current_user.actor.id, [notification_id])
    flash(_("Marked as read."), "success")
    return redirect(_back())


@bp.route("/read-all", methods=["POST"])
@login_required
def mark_all():
    """Mark all the user's unread notifications read."""
    if not ActionForm().validate_on_submit():
        abort(400)
    with sanhu().uow() as uow:
        changed = reminders.mark_read(uow, current_user.actor.id)
    flash(ngettext("%(num)s message marked as read.", "%(num)s messages marked as read.",
                   changed), "success")
    return redirect(url_for("inbox.index"))


def _target(note: dict) -> str:
    """Where a notification leads: its item, observation, notice or subject (else the inbox)."""
    if note["item_id"] is not None:
        return url_for("items.view", item_id=note["item_id"])
    if note["observation_id"] is not None:
        return url_for("observations.view", observation_id=note["observation_id"])
    if note["notice_id"] is not None:
        return url_for("supervision.notice", notice_id=note["notice_id"])
    return subject_url(note.get("subject")) or url_for("inbox.index")


@bp.route("/<int:notification_id>/open", methods=["GET", "POST"])
@login_required
def open_item(notification_id: int):
    """Follow a notification to its item, observation or notice.

    The page's button POSTs (with the CSRF token) and marks the message read; a
    GET (an old bookmark, a link preview, a prefetch) only redirects: a GET
    never changes state.
    """
    user_id = current_user.actor.id
    if request.method == "POST" and not ActionForm().validate_on_submit():
        abort(400)
    with sanhu().uow() as uow:
        note = reminders.own_notification(uow, user_id, notification_id)
        if note is None:
            abort(404)
        if request.method == "POST" and note["read_at"] is None:
            reminders.mark_read(uow, user_id, [notification_id])
    return redirect(_target(note))


def subject_url(subject: str | None) -> str | None:
    """Where a notification's ``subject`` (``report:<unit>:<period>``, ``ranking:<cycle>``,
    ``publication:<ranking>``) leads; the page itself checks the reader's scope."""
    kind, _, rest = (subject or "").partition(":")
    parts = rest.split(":")
    if kind == "report" and len(parts) == 2 and parts[0].isdigit():
        return url_for("results.report", unit_id=int(parts[0]), period=parts[1])
    if kind == "ranking" and parts[0].isdigit():
        return url_for("results.ranking", cycle_id=int(parts[0]))
    if kind == "publication" and parts[0].isdigit():
        return url_for("results.ranking_by_id", ranking_id=int(parts[0]))
    return None


def unread_badge() -> dict:
    """``unread_count`` for the header of every page (one indexed count, once per request)."""
    if not current_user.is_authenticated:
        return {}
    if "unread_count" not in g:
        with sanhu().uow() as uow:
            g.unread_count = reminders.unread_count(uow, current_user.actor.id)
    return {"unread_count": g.unread_count}


def init_app(app: Flask) -> None:
    app.context_processor(unread_badge)
