"""The working-day calendar: years covered, importing a year, the provisional warning."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ledger.core.errors import ValidationError
from ledger.items import calendar_admin
from ledger.org import admin as org_admin
from web.admin import bp
from web.admin.forms import CalendarImportForm
from web.admin.text import calendar_errors
from web.core.extensions import sanhu


@bp.route("/calendar", methods=["GET", "POST"])
@login_required
def calendar():
    """Show which years are official and import a year's schedule (CSV file or pasted rows)."""
    actor = current_user.actor
    form = CalendarImportForm()
    problems: list[tuple[int | None, str]] = []
    if form.validate_on_submit():
        upload = form.file.data
        if upload and upload.filename:
            text, source = org_admin.decode_text(upload.read()), upload.filename
        else:
            text, source = form.rows.data or "", "form"
        if not text.strip():
            form.file.errors = [*form.file.errors, _("Choose a CSV file or paste the rows.")]
        else:
            try:
                with sanhu().uow() as uow:
                    years = calendar_admin.import_calendar(
                        uow, actor, text, f"{source} ({actor.username})")
            except ValidationError as exc:
                problems = calendar_errors(exc)
                flash(_("Nothing was imported: %(n)s bad line(s).", n=len(problems)), "error")
            else:
                flash(_("The official schedule of %(years)s was imported.",
                        years=", ".join(str(y) for y in years)), "success")
                return redirect(url_for("admin.calendar"))
    with sanhu().uow() as uow:
        status = calendar_admin.calendar_status(uow, actor)
    return render_template("admin/calendar.html", status=status, form=form, problems=problems,
                           may_import=calendar_admin.may_import_calendar(actor))
