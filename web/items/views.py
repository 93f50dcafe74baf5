"""One ledger item: its page, the event forms the workflow allows, evidence, recording.

The page offers exactly the events of ``services.available_events`` (the
workflow table).  Posting an event follows one path: check who and when, stage the
uploads, validate the form, call the service with the version the user saw,
then redirect.  On a refusal the page is rendered again with the fresh item,
the reason in the user's language and everything they typed (and, when a retry
can succeed, uploaded) still in the form; a refused upload redirects to the item
first, which shows the form so once (``web.items.drafts``).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ledger.calendar.workdays import DeadlineSpec
from ledger.core.errors import Conflict, DomainError, EvidenceRejected, NotFound, ValidationError
from ledger.items import services as svc
from ledger.items.queries import default_responsible, evidence_for_download
from web.core.domain_text import apply_field_errors, explain
from web.core.extensions import sanhu
from web.core.files import send_private
from web.core.inputs import to_int
from web.core.uploads import keep, kept_from_request, stage
from web.items import drafts
from web.items import page as item_page
from web.items.forms import EVENT_FORMS, EVENT_LABELS, RecordForm

bp = Blueprint("items", __name__, url_prefix="/items")


@bp.route("/<int:item_id>")
@login_required
def view(item_id: int):
    """The item: every field, its evidence, its history and the forms the user may use now
    (after a refused upload, once, the refused form as it was sent: ``web.items.drafts``)."""
    actor = current_user.actor
    with sanhu().uow() as uow:
        draft = drafts.take(uow, item_id)
        if draft is None or draft["event"] not in EVENT_FORMS:
            return item_page.render(uow, item_id)
        event = draft["event"]
        form = EVENT_FORMS[event](formdata=draft["formdata"], prefix=event)
        item_page.fill_choices(uow, actor, item_id, event, form)
        for name, messages in draft["errors"].items():
            if name in form._fields:
                form[name].errors = messages
        return item_page.render(uow, item_id, event, form, kept=draft["kept"],
                                message=draft["message"])


def _refused(uow, form, exc: DomainError) -> int:
    """Undo the attempt, put field messages beside the fields; the HTTP status to answer."""
    uow.rollback()
    if isinstance(exc, ValidationError):
        apply_field_errors(form, exc)
        return 400
    if isinstance(exc, Conflict):
        return 409
    return 403 if getattr(exc, "code", "") == "forbidden" else 409


@bp.route("/<int:item_id>/events/<event>", methods=["POST"])
@login_required
def fire(item_id: int, event: str):
    """Fire one workflow event on the item from its form.

    Who and when are checked before any upload is read, so a refused request
    writes nothing; uploads are staged, enter the evidence store only when the
    service accepts the event, and are kept for a retry (under an expiring
    token) only when the form or a concurrent change refused it.
    """
    form_class = EVENT_FORMS.get(event)
    if form_class is None:
        abort(404)
    actor = current_user.actor
    with sanhu().uow() as uow:
        form = form_class(prefix=event)
        item_page.fill_choices(uow, actor, item_id, event, form)
        kept = kept_from_request(uow)
        try:
            svc.check_event(uow, item_id, actor, event)
        except NotFound:
            raise
        except DomainError as exc:
            for staged in kept:  # the event is not possible: a retry would not help
                uow.evidence.discard(staged)
            status = _refused(uow, form, exc)
            return item_page.render(uow, item_id, event, form, message=explain(exc),
                                    status=status, conflict=isinstance(exc, Conflict))
        if "preview" in request.form:
            return item_page.render(uow, item_id, event, form,
                                    kept=[keep(uow, k) for k in kept],
                                    preview=_preview(uow, form))
        new: list = []
        try:
            upload_errors = _stage_posted(uow, form, new)
            return _fire(uow, item_id, event, form, kept + new, upload_errors)
        finally:
            for staged in new:  # whatever was neither stored nor kept
                uow.evidence.discard(staged)


def _stage_posted(uow, form, into: list) -> list[str]:
    """Stage the files of the request into ``into``; the messages for refused ones."""
    errors = []
    if form.upload_field:
        for storage in getattr(form, form.upload_field).data or []:
            if not getattr(storage, "filename", None):
                continue
            try:
                into.append(stage(uow, storage))
            except EvidenceRejected as exc:
                errors.append(f"{storage.filename}: {explain(exc)}")
    return errors


def _fire(uow, item_id: int, event: str, form, staged: list, upload_errors: list[str]):
    actor = current_user.actor
    valid = form.validate()
    refused_files = bool(upload_errors)
    if form.uploads_required and not staged and not upload_errors:
        upload_errors.append(_("Add at least one file."))
    if upload_errors:
        getattr(form, form.upload_field).errors = upload_errors
        valid = False
    if not valid:
        kept = [keep(uow, s) for s in staged]
        message = _("Please correct the marked fields.")
        if refused_files:  # shown at the item's address: a refresh does not post again
            drafts.save(uow, item_id, event, form, request.form, kept, message)
            return redirect(url_for("items.view", item_id=item_id), 303)
        return item_page.render(uow, item_id, event, form, kept=kept, message=message,
                                status=400)
    kwargs = form.service_kwargs()
    if form.upload_field:
        kwargs["uploads"] = [svc.Upload(s, s.name) for s in staged]
    if event == "reassign" and not kwargs.get("responsible_user_id"):
        person = default_responsible(uow.session, actor, kwargs["unit_id"])
        kwargs["responsible_user_id"] = person.id if person else None
    expected = form.expected_version.data
    kwargs["expected_version"] = to_int(expected)
    try:
        svc.EVENT_SERVICES[event](uow, item_id, actor, **kwargs)
    except NotFound:
        raise
    except DomainError as exc:
        status = _refused(uow, form, exc)
        retry = isinstance(exc, ValidationError | Conflict)
        kept = [keep(uow, s) for s in staged] if retry else []
        if not retry:
            for s in staged:
                uow.evidence.discard(s)
        return item_page.render(uow, item_id, event, form, kept=kept, message=explain(exc),
                                status=status, conflict=isinstance(exc, Conflict))
    flash(_("Done: %(event)s.", event=EVENT_LABELS[event]), "success")
    return redirect(url_for("items.view", item_id=item_id))


def _preview(uow, form) -> dict | None:
    raw = (getattr(form, "deadline", None) and form.deadline.data) or ""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        result = svc.preview_deadline(uow, DeadlineSpec.parse(raw.strip()))
    except ValidationError as exc:
        apply_field_errors(form, exc)
        return None
    return {"date": result.date, "provisional": result.provisional}


@bp.route("/deadline-preview")
@login_required
def deadline_preview():
    """JSON: the date a deadline such as "5w", "10天" or "12月31日" gives today (live hint).

    ``ok`` is false, with the reason, whenever the deadline could not be set (the
    rules of ``svc.preview_deadline``, the same as when the form is sent).
    """
    raw = request.args.get("deadline", "").strip()
    with sanhu().uow() as uow:
        try:
            result = svc.preview_deadline(uow, DeadlineSpec.parse(raw))
        except ValidationError as exc:
            return jsonify(ok=False, message=explain(exc)), 400
    from flask_babel import format_date
    text = format_date(result.date, "full")
    if result.provisional:
        text += " · " + _("provisional: the official holiday schedule of that year is not "
                          "imported yet")
    return jsonify(ok=True, date=result.date.isoformat(), provisional=result.provisional,
                   text=text)


@bp.route("/evidence/<int:evidence_id>")
@login_required
def evidence(evidence_id: int):
    """Download an evidence file, only when the user sees its item."""
    inline = request.args.get("inline") == "1"
    with sanhu().uow() as uow:
        ev = evidence_for_download(uow.session, current_user.actor, evidence_id)
        path = uow.evidence.path_for(ev.sha256)
        mime, name = ev.mime, ev.original_name
    return send_private(path, mime, name, inline=inline)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Record a problem (one problem, one item), and optionally assign it at once.

    The form carries a one-time token: posting it again (a double click, a resend
    after a timeout) leads to the item the first post recorded, never a second one.
    """
    actor = current_user.actor
    form = RecordForm()
    with sanhu().uow() as uow:
        item_page.fill_record_choices(uow, actor, form)
        preview = None
        if form.is_submitted() and "preview" in request.form:
            preview = _preview(uow, form)
        elif form.validate_on_submit():
            assign_now = bool(form.category.data)
            if assign_now and not (form.deadline.data or "").strip():
                form.deadline.errors = [_("This field is required.")]
            elif assign_now and _deadline_refused(uow, form):
                pass  # the message is beside the deadline; nothing recorded
            else:
                try:
                    result = _record(uow, actor, form, assign_now)
                except NotFound:
                    raise
                except DomainError as exc:
                    _refused(uow, form, exc)
                    flash(explain(exc), "error")
                else:
                    if result.existing:
                        flash(_("This form was sent before: the problem is recorded as "
                                "%(number)s and was not recorded again.",
                                number=result.number), "info")
                    else:
                        flash(_("Recorded as %(number)s.", number=result.number), "success")
                    return redirect(url_for("items.view", item_id=result.id))
        form.give_token()
        status = 400 if form.is_submitted() and "preview" not in request.form else 200
        return item_page.render_record(form, preview), status


def _deadline_refused(uow, form) -> bool:
    """True (with a message beside the field) when the deadline could not be set."""
    return _preview(uow, form) is None


def _record(uow, actor, form, assign_now: bool):
    """Record the item; when asked, assign it in the same request (two history entries)."""
    result = svc.record_finding(
        uow, actor, unit_id=form.unit_id.data, description=form.description.data,
        standard_id=form.standard_id.data or None,
        cycle_id=form.cycle_id.data if form.cycle_id.data not in (
            item_page.AUTOMATIC_CYCLE, item_page.NO_CYCLE) else None,
        default_cycle=form.cycle_id.data == item_page.AUTOMATIC_CYCLE,
        source=form.source.data, severity=form.severity.data,
        form_token=form.form_token.data or None)
    if not assign_now or result.existing:
        return result  # a repeated post: the first one assigned it (or said why not)
    person = default_responsible(uow.session, actor, form.unit_id.data)
    if person is None:
        flash(_("Recorded, but not assigned: the unit has no single responsible person. "
                "Assign it below."), "warning")
        return result
    try:
        return svc.assign(uow, result.id, actor, responsible_user_id=person.id,
                          category=form.category.data, deadline=form.deadline.data.strip())
    except ValidationError as exc:
        uow.rollback()
        flash(_("Recorded, but not assigned: %(why)s", why=explain(exc)), "warning")
        return result
