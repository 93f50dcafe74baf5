"""Planning pages: a cycle's plan per observing unit (细化观摩方案, groups, batches,
scheduling), the liaisons (分包联系), the cycle's settings and the admin's
themes and scoring rules.

Like the record page, each piece is its own small form; a refusal shows the
page again with the reason and what was typed.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ledger.core.errors import DomainError, NotFound
from ledger.core.models import Role
from ledger.observations import planning, scoring
from web.core.domain_text import field_errors
from web.core.extensions import sanhu
from web.core.files import send_private
from web.core.inputs import to_int
from web.observations import page
from web.observations.views import bp, status_for

PLAN_FIELDS = ("goals", "methods", "steps", "rectification", "guidance", "use_of_results")


def _plan_url(cycle_id: int, unit: int | None = None, anchor: str = "") -> str:
    return url_for("observations.plan", cycle_id=cycle_id, unit=unit) + anchor


def _render_plan(uow, cycle_id: int, unit: int | None, *, error: dict | None = None,
                 status: int = 200):
    view = planning.plan_of(uow, cycle_id, current_user.actor, observing_unit_id=unit)
    return render_template("observations/plan.html", view=view, error=error or {},
                           fields=PLAN_FIELDS, labels=page.PLAN_LABELS,
                           status_labels=page.STATUS_LABELS), status


def _refused(uow, cycle_id: int, key: str, exc: DomainError, typed: dict):
    uow.rollback()
    error = {"key": key, "message": page.explain_refusal(exc), "typed": typed,
             "fields": field_errors(exc) if hasattr(exc, "fields") else {},
             "current": exc.details.get("current")}
    return _render_plan(uow, cycle_id, None, error=error, status=status_for(exc))


@bp.route("/cycles/<int:cycle_id>/plan")
@login_required
def plan(cycle_id: int):
    """The plan of the user's observing unit (or, read-only, of a unit below)."""
    with sanhu().uow() as uow:
        return _render_plan(uow, cycle_id, request.args.get("unit", type=int))


@bp.route("/cycles/<int:cycle_id>/plan/text", methods=["POST"])
@login_required
def save_plan(cycle_id: int):
    typed = {name: request.form.get(name, "") for name in PLAN_FIELDS}
    version = request.form.get("version", "")
    with sanhu().uow() as uow:
        try:
            planning.save_plan(uow, cycle_id, current_user.actor, **typed,
                               expected_version=to_int(version))
        except NotFound:
            raise
        except DomainError as exc:
            return _refused(uow, cycle_id, "plan", exc, typed)
    flash(_("Saved."), "success")
    return redirect(_plan_url(cycle_id, anchor="#plan-text"))


@bp.route("/cycles/<int:cycle_id>/plan/files", methods=["POST"])
@login_required
def attach_plan_file(cycle_id: int):
    files = [f for f in request.files.getlist("files") if getattr(f, "filename", "")]
    with sanhu().uow() as uow:
        for storage in files:
            try:
                planning.attach_plan_file(uow, cycle_id, current_user.actor,
                                          data=storage.stream, filename=storage.filename)
            except NotFound:
                raise
            except DomainError as exc:
                return _refused(uow, cycle_id, "files", exc, {"file": storage.filename})
    if not files:
        flash(_("Choose a photo or file first."), "warning")
    return redirect(_plan_url(cycle_id, anchor="#plan-files"))


@bp.route("/plan-files/<int:file_id>")
@login_required
def plan_file(file_id: int):
    with sanhu().uow() as uow:
        row = planning.plan_file_for_download(uow, file_id, current_user.actor)
        path = uow.evidence.path_for(row.sha256)
        mime, name = row.mime, row.original_name
    return send_private(path, mime, name)


@bp.route("/cycles/<int:cycle_id>/groups", methods=["POST"])
@login_required
def save_group(cycle_id: int):
    typed = {"name": request.form.get("name", ""),
             "member_ids": request.form.getlist("member_ids"),
             "outside": request.form.get("outside", "")}
    with sanhu().uow() as uow:
        try:
            if request.form.get("delete"):
                planning.delete_group(uow, cycle_id, current_user.actor,
                                      request.form.get("group_id"))
            else:
                planning.save_group(uow, cycle_id, current_user.actor, **typed,
                                    group_id=request.form.get("group_id") or None)
        except NotFound:
            raise
        except DomainError as exc:
            return _refused(uow, cycle_id, "group", exc, typed)
    flash(_("Saved."), "success")
    return redirect(_plan_url(cycle_id, anchor="#groups"))


@bp.route("/cycles/<int:cycle_id>/batches", methods=["POST"])
@login_required
def save_batch(cycle_id: int):
    typed = {"name": request.form.get("name", ""), "day": request.form.get("day", "")}
    with sanhu().uow() as uow:
        try:
            if request.form.get("delete"):
                planning.delete_batch(uow, cycle_id, current_user.actor,
                                      request.form.get("batch_id"))
            else:
                planning.save_batch(uow, cycle_id, current_user.actor, **typed,
                                    batch_id=request.form.get("batch_id") or None)
        except NotFound:
            raise
        except DomainError as exc:
            return _refused(uow, cycle_id, "batch", exc, typed)
    flash(_("Saved."), "success")
    return redirect(_plan_url(cycle_id, anchor="#batches"))


@bp.route("/cycles/<int:cycle_id>/schedule", methods=["POST"])
@login_required
def schedule(cycle_id: int):
    """Give the ticked targets a group and/or a batch (date)."""
    typed = {"observation_ids": request.form.getlist("observation_ids"),
             "group_id": request.form.get("group_id") or None,
             "batch_id": request.form.get("batch_id") or None}
    with sanhu().uow() as uow:
        try:
            count = planning.schedule(uow, cycle_id, current_user.actor, **typed)
        except NotFound:
            raise
        except DomainError as exc:
            return _refused(uow, cycle_id, "schedule", exc, typed)
    flash(_("%(n)s targets scheduled.", n=count), "success")
    return redirect(_plan_url(cycle_id, anchor="#targets"))


@bp.route("/cycles/<int:cycle_id>/settings", methods=["POST"])
@login_required
def cycle_settings(cycle_id: int):
    """The cycle's theme, score weights and how findings are recorded (city staff, admin)."""
    form = request.form
    deadline = form.get("finding_deadline_workdays", "").strip()
    with sanhu().uow() as uow:
        try:
            planning.save_cycle_settings(
                uow, cycle_id, current_user.actor,
                theme=form.get("theme_other", "").strip() or form.get("theme", "").strip()
                or None,
                checklist_weight=form.get("checklist_weight", ""),
                findings_include_partial=form.get("findings_include_partial") == "1",
                finding_deadline_workdays=deadline or None)
        except NotFound:
            raise
        except DomainError as exc:
            uow.rollback()
            flash(page.explain_refusal(exc) + " " + " ".join(field_errors(exc).values())
                  if hasattr(exc, "fields") else page.explain_refusal(exc), "error")
            return redirect(url_for("observations.cycle", cycle_id=cycle_id) + "#settings")
    flash(_("Saved."), "success")
    return redirect(url_for("observations.cycle", cycle_id=cycle_id))


@bp.route("/liaisons", methods=["GET", "POST"])
@login_required
def liaisons():
    """分包联系: which county staff member joins which township's observations."""
    actor = current_user.actor
    if actor.role not in (Role.COUNTY_STAFF.value, Role.ADMIN.value, Role.CITY_STAFF.value):
        abort(403)
    message = None
    with sanhu().uow() as uow:
        if request.method == "POST":
            args = {"user_id": request.form.get("user_id"),
                    "township_id": request.form.get("township_id")}
            try:
                if request.form.get("remove"):
                    planning.remove_liaison(uow, actor, **args)
                else:
                    planning.assign_liaison(uow, actor, **args)
            except NotFound:
                raise
            except DomainError as exc:
                uow.rollback()
                message = page.explain_refusal(exc)
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("observations.liaisons"))
        rows = planning.liaisons_of(uow, actor)
        choices = page.liaison_choices(uow, actor)
        return render_template("observations/liaisons.html", rows=rows, message=message,
                               **choices), 400 if message else 200


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """The admin's list of themes and the scoring rules (deductions and category caps)."""
    actor = current_user.actor
    if actor.role != Role.ADMIN.value:
        abort(403)
    message = None
    with sanhu().uow() as uow:
        if request.method == "POST":
            try:
                if "themes" in request.form:
                    planning.save_themes(uow, actor, [
                        t.strip() for t in request.form["themes"].splitlines() if t.strip()])
                else:
                    scoring.save_rules(uow, actor, page.rules_from_form(request.form))
            except DomainError as exc:
                uow.rollback()
                message = page.explain_refusal(exc) + " " + " ".join(
                    f"{k}: {v}" for k, v in getattr(exc, "fields", {}).items())
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("observations.settings"))
        return render_template("observations/settings.html", message=message,
                               themes=planning.themes(uow.session),
                               rules=scoring.load_rules(uow.session),
                               standards=page.catalog_standards(uow.session)), \
            400 if message else 200
