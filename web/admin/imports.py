"""Import units and users from .xlsx/.csv files, and the downloadable templates."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ledger.core.errors import ValidationError
from ledger.org.imports import IMPORTERS, ImportRejected, template_csv, template_xlsx
from web.admin import bp
from web.admin.forms import ImportForm
from web.admin.text import apply_errors, column_label, row_message
from web.core.extensions import sanhu
from web.core.upload_limits import too_large_message, upload_limit

TITLES = {"units": _l("Import units"), "users": _l("Import users")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: problems listed on the page (a file has at most a few thousand rows, each a few problems)
SHOWN_PROBLEMS = 500


def _import_limit() -> int:
    return sanhu().settings.import_max_bytes


def _kind(kind: str) -> str:
    if kind not in IMPORTERS:
        abort(404)
    return kind


def _notes(kind: str) -> list[str]:
    if kind == "units":
        return [_("Fill in the first sheet. One unit per row; a parent must already exist "
                  "or come on an earlier row."),
                _("Level: city, county, township, village (市, 县, 乡镇, 村).")]
    return [_("Fill in the first sheet. One user per row; the unit must already exist."),
            _("Role: city_staff, county_staff, township_staff, village_secretary, supervisor, "
              "admin (or 市委组织部, 县委组织部, 乡镇党委, 村党组织书记, 督查, 系统管理员)."),
            _("Initial password: at least 10 characters.")]


@bp.route("/import/<kind>", methods=["GET", "POST"])
@upload_limit(_import_limit)
@login_required
def import_file(kind: str):
    """Upload units or users; all rows are imported, or none and every bad row is listed.

    The upload may be at most ``SANHU_IMPORT_MAX_BYTES`` (refused from its declared
    length before it is read; see ``web.core.upload_limits``).
    """
    kind = _kind(kind)
    form = ImportForm()
    problems: list[tuple] = []
    if form.validate_on_submit():
        upload, limit = form.file.data, _import_limit()
        data = upload.read(limit + 1)
        if len(data) > limit:
            form.file.errors = [too_large_message(limit)]
            return render_template("admin/import.html", kind=kind, title=TITLES[kind],
                                   form=form, problems=[], more=0), 413
        try:
            with sanhu().uow() as uow:
                count = IMPORTERS[kind](uow, current_user.actor, upload.filename or "", data)
        except ImportRejected as exc:
            problems = [(r.line, column_label(r.column), row_message(r), r.value)
                        for r in exc.rows]
            flash(_("Nothing was imported: %(n)s problem(s) in the file. Correct the rows "
                    "below and upload the whole file again.", n=len(problems)), "error")
        except ValidationError as exc:
            for message in apply_errors(form, exc):
                flash(message, "error")
        else:
            flash(_("%(n)s row(s) were imported.", n=count), "success")
            return redirect(url_for("admin.import_file", kind=kind))
    return render_template("admin/import.html", kind=kind, title=TITLES[kind], form=form,
                           problems=problems[:SHOWN_PROBLEMS],
                           more=max(0, len(problems) - SHOWN_PROBLEMS))


@bp.route("/import/<kind>/template.<ext>")
@login_required
def import_template(kind: str, ext: str):
    """Download an empty import template (.xlsx or .csv) with the expected columns."""
    kind = _kind(kind)
    chinese = str(get_locale()).startswith("zh")
    if ext == "xlsx":
        data, mime = template_xlsx(kind, chinese, _notes(kind)), XLSX
    elif ext == "csv":
        data, mime = template_csv(kind, chinese), "text/csv; charset=utf-8"
    else:
        abort(404)
    return Response(data, mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename=sanhu-{kind}-template.{ext}"})
