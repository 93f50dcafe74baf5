"""Survey pages (调查表): the village secretary's form, the township's and county's list
of a year's surveys with their review actions, the read-only survey and the .xlsx.

Every form carries its CSRF token and the survey's version; a refusal answers
with the reason (beside each field for wrong answers), what was typed kept, and
the status code of its kind: 400 what was typed, 403 who, 409 when or stale.
Out of scope is 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
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
from ledger.core.models import Role
from ledger.survey import services as svc
from ledger.survey.export import export_surveys
from ledger.survey.workflow import allowed_events
from web.core.extensions import sanhu
from web.core.inputs import to_int
from web.ledger_list.views import send_xlsx_file
from web.survey import page

bp = Blueprint("survey", __name__, url_prefix="/survey")

REVIEW = {"return": svc.return_survey, "accept": svc.accept, "archive": svc.archive}


def status_for(exc: DomainError) -> int:
    """403 for who, 409 for when (state, stale version), 400 for what was typed."""
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, Conflict | InvalidTransition):
        return 409
    return 400


def _version(value: str | None) -> int | None:
    return to_int(value)


@bp.route("/")
@login_required
def index():
    """A village secretary's surveys; staff go to this year's list of their villages."""
    actor = current_user.actor
    with sanhu().uow() as uow:
        if actor.role != Role.VILLAGE_SECRETARY.value:
            return redirect(url_for("survey.overview", year=uow.today().year))
        return page.render_index(uow, actor)


@bp.route("/open", methods=["POST"])
@login_required
def open_survey():
    """Open (or find) the village's survey of a year and go to its form."""
    actor = current_user.actor
    with sanhu().uow() as uow:
        try:
            result = svc.open_survey(uow, actor, request.form.get("year", ""))
        except DomainError as exc:
            uow.rollback()
            if actor.role != Role.VILLAGE_SECRETARY.value:
                raise
            return page.render_index(uow, actor, error={"message": page.explain_refusal(exc)},
                                     status=status_for(exc))
    return redirect(url_for("survey.edit", survey_id=result.id))


@bp.route("/<int:survey_id>")
@login_required
def view(survey_id: int):
    """The survey as filled in, what the user may do now, and its history."""
    with sanhu().uow() as uow:
        return page.render_view(uow, current_user.actor, survey_id)


@bp.route("/<int:survey_id>/edit")
@login_required
def edit(survey_id: int):
    """The form, for the village's secretary while the survey is a draft or returned."""
    actor = current_user.actor
    with sanhu().uow() as uow:
        survey = svc.get_survey(uow, survey_id, actor)
        if "save" not in allowed_events(survey, actor, uow.context()):
            return redirect(url_for("survey.view", survey_id=survey_id))
        return page.render_edit(uow, actor, survey_id)


@bp.route("/<int:survey_id>/edit", methods=["POST"])
@login_required
def save(survey_id: int):
    """Save the form, save and submit it, or add / remove a person's row (not saved)."""
    actor = current_user.actor
    action = request.form.get("action", "save")
    values = page.values_from_form(request.form)
    version = _version(request.form.get("version"))
    with sanhu().uow() as uow:
        if action not in ("save", "submit"):
            if not page.change_rows(values, action):
                abort(400)
            survey = svc.get_survey(uow, survey_id, actor)
            if "save" not in allowed_events(survey, actor, uow.context()):
                return redirect(url_for("survey.view", survey_id=survey_id))
            return page.render_edit(uow, actor, survey_id, typed=values, version=version,
                                    unsaved=True)
        try:
            if action == "submit":
                result = svc.submit(uow, survey_id, actor, values=values,
                                    expected_version=version)
            else:
                result = svc.save(uow, survey_id, actor, values, expected_version=version)
        except NotFound:
            raise
        except (ValidationError, Conflict) as exc:
            uow.rollback()
            current = None
            if isinstance(exc, Conflict):
                current = svc.get_survey(uow, survey_id, actor).version
            errors = page.field_errors(exc) if isinstance(exc, ValidationError) else {}
            return page.render_edit(uow, actor, survey_id, typed=values, errors=errors,
                                    message=page.explain_refusal(exc),
                                    version=current or version, status=status_for(exc))
        except DomainError as exc:
            uow.rollback()
            return page.render_view(uow, actor, survey_id,
                                    error={"message": page.explain_refusal(exc)},
                                    status=status_for(exc))
    if action == "submit":
        flash(_("The survey was submitted to the township."), "success")
        return redirect(url_for("survey.view", survey_id=survey_id))
    flash(_("Saved.") if result.changed else _("Nothing changed."), "success")
    return redirect(url_for("survey.edit", survey_id=survey_id))


def _back(survey_id: int):
    """To the list the action was taken from, else the survey."""
    year = request.form.get("back_year", "")
    if year.isdigit():
        params = {k: request.form.get(f"back_{k}") for k in ("unit", "status", "page")}
        return redirect(url_for("survey.overview", year=int(year),
                                **{k: v for k, v in params.items() if v}))
    return redirect(url_for("survey.view", survey_id=survey_id))


@bp.route("/<int:survey_id>/events/<event>", methods=["POST"])
@login_required
def fire(survey_id: int, event: str):
    """Return with a note or accept (the township), archive (the county)."""
    if event not in REVIEW:
        abort(404)
    actor = current_user.actor
    kwargs: dict[str, object] = {"expected_version": _version(request.form.get(
        "expected_version"))}
    if event == "return":
        kwargs["note"] = request.form.get("note", "")
    with sanhu().uow() as uow:
        try:
            REVIEW[event](uow, survey_id, actor, **kwargs)
        except NotFound:
            raise
        except DomainError as exc:
            uow.rollback()
            error = {"event": event, "message": page.explain_refusal(exc),
                     "typed": request.form.get("note", "")}
            return page.render_view(uow, actor, survey_id, error=error,
                                    status=status_for(exc))
    flash(_("Done: %(event)s.", event=page.EVENT_LABELS[event]), "success")
    return _back(survey_id)


def _listing_args() -> dict:
    return {"unit": request.args.get("unit") or None,
            "state": request.args.get("status") or None,
            "page_no": request.args.get("page", 1, type=int)}


@bp.route("/years/<int:year>")
@login_required
def overview(year: int):
    """The year's surveys of the villages in the user's area, by township, with status."""
    with sanhu().uow() as uow:
        return page.render_overview(uow, current_user.actor, year, **_listing_args())


@bp.route("/years/<int:year>/archive", methods=["POST"])
@login_required
def archive_many(year: int):
    """Archive the ticked accepted surveys (the county): all of them, or none."""
    actor = current_user.actor
    ids = request.form.getlist("survey_ids")
    with sanhu().uow() as uow:
        try:
            count = svc.archive_many(uow, actor, ids)
        except NotFound:
            raise
        except DomainError as exc:
            uow.rollback()
            return page.render_overview(
                uow, actor, year, unit=request.form.get("back_unit") or None,
                state=request.form.get("back_status") or None, page_no=1,
                error={"message": page.explain_refusal(exc)}, status=status_for(exc))
    flash(_("%(n)s surveys archived.", n=count), "success")
    return _back(0)


@bp.route("/years/<int:year>/export.xlsx")
@login_required
def export(year: int):
    """The year's surveys of the user's area (or of one township / county in it) as .xlsx:
    one row per village, one column per field."""
    actor, app = current_user.actor, sanhu()

    def write(path: str) -> str:
        with app.uow() as uow:
            result = export_surveys(uow.session, actor, year, path,
                                    unit_id=request.args.get("unit") or None,
                                    zone=app.settings.zone)
        return f"调查表-{result.year}-{result.unit_name}.xlsx"

    return send_xlsx_file(write, "survey")
