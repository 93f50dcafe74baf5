"""Observation pages: the cycles, a cycle's targets, the record filled in the field,
and the highlights everyone may learn from.

The record page works with ordinary forms: each checklist line, each section
and each participant's evaluation is its own small form, saved on its own.
With script, ``observation.js`` sends the same forms in the background as they
change (asking for JSON) so nothing typed waits for a big submit.  Either way
a refusal answers with the reason beside the field, what the user typed kept,
and, for a stale write, what the line says now.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ledger.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.observations import queries, record
from ledger.observations import services as obs_svc
from web.core.domain_text import explain, field_errors
from web.core.extensions import sanhu
from web.core.files import send_private
from web.core.inputs import to_int
from web.observations import page

bp = Blueprint("observations", __name__, url_prefix="/observations")

LIFECYCLE = {"start": obs_svc.start, "submit": obs_svc.submit, "revise": obs_svc.revise,
             "confirm": obs_svc.confirm, "reopen": obs_svc.reopen}
NEEDS_REASON = ("revise", "reopen")


def status_for(exc: DomainError) -> int:
    """403 for who, 409 for when (state, stale version), 400 for what was typed."""
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, Conflict | InvalidTransition):
        return 409
    return 400


def wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


@bp.route("/cycles")
@login_required
def cycles():
    """Every cycle, newest first, with the counts of the user's area."""
    with sanhu().uow() as uow:
        return page.render_cycles(uow, current_user.actor)


@bp.route("/cycles/<int:cycle_id>")
@login_required
def cycle(cycle_id: int):
    """One cycle: the observations of the user's area, by status."""
    with sanhu().uow() as uow:
        by = "county" if request.args.get("by") == "county" else "observing_unit"
        return page.render_cycle(uow, current_user.actor, cycle_id,
                                 status=request.args.get("status") or None,
                                 page_no=request.args.get("page", 1, type=int), by=by)


@bp.route("/<int:observation_id>")
@login_required
def view(observation_id: int):
    """The record: 听查看谈, the checklist, 评, highlights, the score and what to do now."""
    with sanhu().uow() as uow:
        return page.render(uow, current_user.actor, observation_id)


@bp.route("/<int:observation_id>/events/<event>", methods=["POST"])
@login_required
def fire(observation_id: int, event: str):
    """Start, submit, revise, confirm or reopen the observation."""
    if event not in LIFECYCLE:
        abort(404)
    actor = current_user.actor
    kwargs: dict[str, object] = {}
    if event in NEEDS_REASON:
        kwargs["reason"] = request.form.get("reason", "")
    version = request.form.get("expected_version", "")
    kwargs["expected_version"] = to_int(version)
    with sanhu().uow() as uow:
        try:
            result = LIFECYCLE[event](uow, observation_id, actor, **kwargs)
        except NotFound:
            raise
        except DomainError as exc:
            uow.rollback()
            errors = {"event": event, "message": page.explain_refusal(exc),
                      "typed": request.form.get("reason", "")}
            return page.render(uow, actor, observation_id, event_error=errors,
                               status=status_for(exc))
    flash(_("Done: %(event)s.", event=page.event_label(event)), "success")
    if result.findings:
        flash(_("%(n)s problems were entered into the ledger.", n=len(result.findings)),
              "success")
    return redirect(url_for("observations.view", observation_id=observation_id))


def _saved(observation_id: int, anchor: str, version: int, **extra):
    if wants_json():
        return jsonify(ok=True, version=version, **extra)
    flash(_("Saved."), "success")
    return redirect(url_for("observations.view", observation_id=observation_id) + anchor)


def _refused(uow, observation_id: int, exc: DomainError, key: str, typed: dict):
    """Answer a refused save: JSON for the script, else the page with the message in place."""
    uow.rollback()
    status = status_for(exc)
    fields = field_errors(exc) if isinstance(exc, ValidationError) else {}
    current = exc.details.get("current") if isinstance(exc, Conflict) else None
    message = page.explain_refusal(exc)
    if wants_json():
        return jsonify(ok=False, message=message, fields=fields, current=current), status
    errors = {key: {"message": message, "fields": fields, "typed": typed, "current": current}}
    return page.render(uow, current_user.actor, observation_id, errors=errors, status=status)


@bp.route("/<int:observation_id>/lines/<int:standard_id>", methods=["POST"])
@login_required
def save_line(observation_id: int, standard_id: int):
    """Save one checklist line (result, note, deduction), version-checked."""
    form = request.form
    typed = {"result": form.get("result") or None, "note": form.get("note", ""),
             "deduction": form.get("deduction", ""), "version": form.get("version", "")}
    with sanhu().uow() as uow:
        try:
            saved = record.save_line(uow, observation_id, standard_id, current_user.actor,
                                     result=typed["result"], note=typed["note"],
                                     deduction=typed["deduction"],
                                     expected_version=typed["version"])
        except NotFound:
            raise
        except DomainError as exc:
            return _refused(uow, observation_id, exc, f"line-{standard_id}", typed)
    return _saved(observation_id, f"#line-{standard_id}", saved.version)


@bp.route("/<int:observation_id>/lines/rest", methods=["POST"])
@login_required
def mark_rest(observation_id: int):
    """Mark every line still open as 符合 (the common case, one tap)."""
    with sanhu().uow() as uow:
        try:
            count = record.mark_rest(uow, observation_id, current_user.actor)
        except NotFound:
            raise
        except DomainError as exc:
            return _refused(uow, observation_id, exc, "checklist", {})
    flash(_("%(n)s open lines marked as conforming.", n=count), "success")
    return redirect(url_for("observations.view", observation_id=observation_id) + "#checklist")


@bp.route("/<int:observation_id>/sections/<name>", methods=["POST"])
@login_required
def save_section(observation_id: int, name: str):
    """Save one of the 听/查/看/谈/亮点/经验总结 texts, version-checked."""
    if name not in record.SECTIONS:
        abort(404)
    typed = {"body": request.form.get("body", ""), "version": request.form.get("version", ""),
             "category": request.form.get("category", "")}
    with sanhu().uow() as uow:
        try:
            saved = record.save_section(uow, observation_id, name, current_user.actor,
                                        body=typed["body"], expected_version=typed["version"],
                                        category=typed["category"])
        except NotFound:
            raise
        except DomainError as exc:
            return _refused(uow, observation_id, exc, f"section-{name}", typed)
    return _saved(observation_id, f"#section-{name}", saved.version)


@bp.route("/<int:observation_id>/participants", methods=["POST"])
@login_required
def add_participant(observation_id: int):
    """Add a participant by name (an outside person) and their affiliation."""
    typed = {"name": request.form.get("name", ""),
             "affiliation": request.form.get("affiliation", "")}
    with sanhu().uow() as uow:
        try:
            record.add_participant(uow, observation_id, current_user.actor, **typed)
        except NotFound:
            raise
        except DomainError as exc:
            return _refused(uow, observation_id, exc, "participants", typed)
    return _saved(observation_id, "#participants", 1)


@bp.route("/<int:observation_id>/participants/<int:participant_id>", methods=["POST"])
@login_required
def save_evaluation(observation_id: int, participant_id: int):
    """A participant's evaluation score (0–100) and comment."""
    typed = {"score": request.form.get("score", ""), "comment": request.form.get("comment", ""),
             "version": request.form.get("version", "")}
    with sanhu().uow() as uow:
        try:
            saved = record.save_evaluation(uow, observation_id, participant_id,
                                           current_user.actor, score=typed["score"],
                                           comment=typed["comment"],
                                           expected_version=typed["version"])
        except NotFound:
            raise
        except DomainError as exc:
            return _refused(uow, observation_id, exc, f"participant-{participant_id}", typed)
    return _saved(observation_id, f"#participant-{participant_id}", saved.version)


@bp.route("/<int:observation_id>/participants/<int:participant_id>/remove", methods=["POST"])
@login_required
def remove_participant(observation_id: int, participant_id: int):
    with sanhu().uow() as uow:
        try:
            record.remove_participant(uow, observation_id, participant_id, current_user.actor)
        except NotFound:
            raise
        except DomainError as exc:
            return _refused(uow, observation_id, exc, "participants", {})
    flash(_("Removed."), "success")
    return redirect(url_for("observations.view", observation_id=observation_id)
                    + "#participants")


@bp.route("/<int:observation_id>/settings", methods=["POST"])
@login_required
def save_settings(observation_id: int):
    """Mode (重点/选择性/鞭策性), a selective observation's categories, demonstration lines,
    theme."""
    typed = {"mode": request.form.get("mode", "focused"),
             "categories": request.form.getlist("categories"),
             "demonstration": request.form.get("demonstration") == "1",
             "theme": request.form.get("theme", "")}
    with sanhu().uow() as uow:
        try:
            record.save_settings(uow, observation_id, current_user.actor, **typed)
        except NotFound:
            raise
        except DomainError as exc:
            return _refused(uow, observation_id, exc, "settings", typed)
    flash(_("Saved."), "success")
    return redirect(url_for("observations.view", observation_id=observation_id) + "#settings")


@bp.route("/<int:observation_id>/files", methods=["POST"])
@login_required
def attach(observation_id: int):
    """Photos (camera or files) for a section or a checklist line."""
    section = request.form.get("section") or None
    standard_id = request.form.get("standard_id") or None
    key = f"line-{standard_id}" if standard_id else f"section-{section}"
    anchor = "#" + key
    files = [f for f in request.files.getlist("files") if getattr(f, "filename", "")]
    if not files:
        flash(_("Choose a photo or file first."), "warning")
        return redirect(url_for("observations.view", observation_id=observation_id) + anchor)
    with sanhu().uow() as uow:
        for storage in files:
            try:
                record.attach(uow, observation_id, current_user.actor, data=storage.stream,
                              filename=storage.filename, section=section,
                              standard_id=standard_id)
            except NotFound:
                raise
            except DomainError as exc:
                return _refused(uow, observation_id, exc, key,
                                {"file": f"{storage.filename}: {explain(exc)}"})
    return _saved(observation_id, anchor, 0)


@bp.route("/files/<int:file_id>")
@login_required
def file(file_id: int):
    """A photo or document of a record, only for those who see the record."""
    inline = request.args.get("inline") == "1"
    with sanhu().uow() as uow:
        row = record.file_for_download(uow, file_id, current_user.actor)
        path = uow.evidence.path_for(row.sha256)
        mime, name, kind = row.mime, row.original_name, row.kind
    return send_private(path, mime, name, inline=inline and kind == "image")


@bp.route("/highlights")
@login_required
def highlights():
    """亮点 and 经验总结 of confirmed observations city-wide, to learn from each other."""
    with sanhu().uow() as uow:
        return page.render_highlights(uow, q=request.args.get("q", "").strip(),
                                      theme=request.args.get("theme", "").strip(),
                                      county=request.args.get("county", type=int),
                                      kind=request.args.get("kind", "").strip(),
                                      category=request.args.get("category", "").strip(),
                                      page_no=request.args.get("page", 1, type=int))


@bp.route("/highlights/files/<int:file_id>")
@login_required
def highlight_file(file_id: int):
    """A photo of a confirmed record's 亮点 or 经验总结 (shared city-wide, like the text)."""
    with sanhu().uow() as uow:
        row = queries.highlight_file(uow.session, file_id)
        path = uow.evidence.path_for(row.sha256)
        mime, name = row.mime, row.original_name
    return send_private(path, mime, name, inline=True)


# the planning pages register on the same blueprint
from web.observations import plan_views  # noqa: E402, F401
