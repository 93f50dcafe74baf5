"""Bring an existing Excel ledger (台账) in: upload, preview, then import all or nothing.

The upload is read and matched (``ledger.items.ledger_import.preview``) and the
page shows how each row will be read and every problem, before anything is
written.  The file waits under a name made of the uploader's id and its
SHA-256 in a private folder beside the evidence store, so confirming sends
only that name back.  Confirming records an import (``LedgerImport``) and runs
it in a thread of this process: it reads and checks the file again (the
database may have changed meanwhile), accepts every row or none, and writes
them batch by batch.  The request waits a few seconds, enough for an ordinary
sheet, then shows the import's page: its progress bar while it runs (the page
refreshes itself), then what was created or every problem.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
import time
from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length

from ledger.core.errors import PermissionDenied, ValidationError
from ledger.items.ledger_columns import LEDGER_COLUMNS, STATUS_NAMES
from ledger.items.ledger_import import (
    RUNNING,
    STATUS_WORDS,
    ImportRejected,
    Sheet,
    job_of,
    preview,
    require_importer,
    run_job,
    start_job,
    stopped,
)
from web.core.domain_text import field_errors
from web.core.extensions import sanhu
from web.core.upload_limits import too_large_message, upload_limit

bp = Blueprint("ledger_import", __name__, url_prefix="/items/import")

#: rows and problems listed on a page; the counts say how many more there are
SHOWN = 500
#: how long confirming waits for the import before showing its progress page instead
WAIT_SECONDS = 5.0
TOKEN = re.compile(r"[0-9a-f]{64}")
SUFFIX = re.compile(r"\.(xlsx|csv|txt)$", re.I)

#: the reasons of ``RowError`` and the row warnings, as people read them
REASONS = {
    "missing column": _l("the file has no such column"),
    "required": _l("required"),
    "too long": _l("too long"),
    "unknown unit": _l("no such unit (give its code or county/township/village names)"),
    "ambiguous unit": _l("several units have these names; give the code or the full path"),
    "not in your area": _l("the unit is outside your area"),
    "not a township or village": _l("problems are recorded against a township or a village"),
    "unknown standard": _l("no such standard (write 基本标准 N, 示范标准 N or the exact title)"),
    "unknown cycle": _l("no such cycle (write it as the export does, e.g. 2026Q4 村级季度观摩)"),
    "unknown source": _l("unknown source (观摩, 督查暗访, 巡察, 自查, 其他, 整顿)"),
    "unknown category": _l("unknown category (立行立改, 限期整改, 长期坚持)"),
    "unknown status": _l("unknown status word"),
    "unreadable date": _l("unreadable date (write 2026-12-31, 2026/12/31 or 2026年12月31日)"),
    "a closed item needs its closing time": _l("a closed item needs its closing time (销号时间)"),
    "not a usable number": _l("not a usable number (at most 64 characters, no spaces)"),
    "duplicate in file": _l("the same number appears on an earlier line"),
    "number used elsewhere": _l("this number is already used outside your area"),
    "already in Sanhu; change it there": _l("an item with this number is already in Sanhu; "
                                            "change it there"),
    "already imported; change it in Sanhu": _l("already imported with different content; "
                                               "change it in Sanhu"),
    "closing time ignored: the item is not closed": _l("closing time ignored: the item is not "
                                                       "closed"),
    "no deadline: the item is never overdue": _l("no deadline: the item will never be overdue"),
    "no number: a new one is given": _l("no number: Sanhu gives a new one"),
    "several users have this name: kept as text": _l("several users have this name: kept as "
                                                     "text"),
    "no such user in the unit: kept as text": _l("no such user in the unit: kept as text"),
}
HEADERS = {c.key: c.header for c in LEDGER_COLUMNS}


class UploadForm(FlaskForm):
    """The ledger sheet to check."""

    file = FileField(_l("Ledger sheet (.xlsx or .csv)"), validators=[FileRequired()])


class ConfirmForm(FlaskForm):
    """Import the file the preview showed."""

    token = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
    filename = HiddenField(validators=[DataRequired(), Length(max=200)])


def _limit() -> int:
    return sanhu().settings.ledger_import_max_bytes


def _staging() -> Path:
    folder = Path(sanhu().settings.evidence_dir) / "ledger-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _staged_path(token: str) -> Path:
    if not TOKEN.fullmatch(token or ""):
        abort(400)
    return _staging() / f"{current_user.actor.id}-{token}"


def _rows_path(staged: Path) -> Path:
    return staged.with_name(staged.name + ".rows")


def _tidy(actor_id: int) -> None:
    """Remove this user's files staged more than a day ago and never confirmed."""
    cutoff = time.time() - 86_400
    for old in _staging().glob(f"{actor_id}-*"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


def _reason(code: str) -> str:
    return str(REASONS.get(code, code))


def _problems(exc: ImportRejected) -> list[tuple]:
    return [(r.line, HEADERS.get(r.column, r.column), _reason(r.code), r.value)
            for r in exc.rows]


def _may_import() -> None:
    try:
        require_importer(current_user.actor)
    except PermissionDenied:
        abort(403)


def _page(status: int = 200, **context):
    context.setdefault("form", UploadForm())
    context.setdefault("problems", [])
    words = [(w, STATUS_NAMES[("submitted" if sub else state)])
             for w, (state, sub) in STATUS_WORDS.items()]
    return render_template("items/import.html", columns=LEDGER_COLUMNS, status_words=words,
                           shown=SHOWN, reason=_reason, **context), status


@bp.route("", methods=["GET", "POST"])
@upload_limit(_limit)
@login_required
def upload():
    """Upload a ledger sheet and see how every row would be imported (nothing is written)."""
    _may_import()
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(400 if request.method == "POST" else 200, form=form)
    upload, limit = form.file.data, _limit()
    data = upload.read(limit + 1)
    if len(data) > limit:
        form.file.errors = [too_large_message(limit)]
        return _page(413, form=form)
    filename = Path(upload.filename or "ledger.xlsx").name[:200]
    if not SUFFIX.search(filename):
        filename += ".xlsx" if data[:4] == b"PK\x03\x04" else ".csv"
    try:
        with sanhu().uow() as uow:
            result = preview(uow.session, current_user.actor, filename, data)
            uow.rollback()
    except ImportRejected as exc:
        flash(_("The file cannot be read as a ledger: see the problems below."), "error")
        return _page(400, form=form, problems=_problems(exc))
    except ValidationError as exc:
        form.file.errors = list(field_errors(exc).values()) or [str(exc)]
        return _page(400, form=form)
    if result.errors:
        flash(_("Nothing can be imported yet: %(n)s problem(s) in the file. Correct the rows "
                "below and upload the whole file again.", n=len(result.errors)), "error")
        return _page(400, form=form, problems=_problems(ImportRejected(result.errors)),
                     preview=result, filename=filename)
    token = hashlib.sha256(data).hexdigest()
    _tidy(current_user.actor.id)
    _staged_path(token).write_bytes(data)
    if result.sheet is not None:  # the confirmation checks these rows again, unread
        _rows_path(_staged_path(token)).write_bytes(result.sheet.to_json())
    confirm = ConfirmForm(formdata=None, token=token, filename=filename)
    return _page(form=form, preview=result, filename=filename, confirm=confirm)


@bp.route("/confirm", methods=["POST"])
@login_required
def confirm():
    """Import the previewed file: every row, or none and every problem listed."""
    _may_import()
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    path = _staged_path(form.token.data)
    if not path.exists():
        flash(_("The uploaded file is no longer available; upload it again."), "error")
        return _page(409)
    filename = Path(form.filename.data).name
    app, actor = sanhu(), current_user.actor
    with app.uow() as uow:
        job_id = start_job(uow, actor, filename, form.token.data)
    worker = threading.Thread(target=_run, args=(app, job_id, actor, filename, path),
                              name=f"sanhu-import-{job_id}", daemon=True)
    worker.start()
    worker.join(WAIT_SECONDS)
    return redirect(url_for(".job", job_id=job_id), 303)


def _run(app, job_id: int, actor, filename: str, path: Path) -> None:
    rows = _rows_path(path)
    sheet = Sheet.from_json(rows.read_bytes()) if rows.exists() else None
    state = run_job(app.uow, job_id, actor, filename, path.read_bytes(),
                    zone=app.settings.zone, sheet=sheet)
    if state == "done":
        path.unlink(missing_ok=True)
        rows.unlink(missing_ok=True)


@bp.route("/<int:job_id>")
@login_required
def job(job_id: int):
    """One import: its progress bar while it runs, then what it created or every problem."""
    _may_import()
    with sanhu().uow() as uow:
        found = job_of(uow.session, job_id, current_user.actor)
        if found is None:
            abort(404)
        uow.session.expunge(found)
        interrupted = stopped(found, dt.datetime.now(dt.UTC))
    outcome = found.outcome or {}
    problems = [(line, HEADERS.get(column, column), _reason(code), value)
                for line, column, code, value in outcome.get("problems", [])]
    if found.state == "done":
        flash(_("%(n)s item(s) were imported.", n=found.done), "success")
    elif found.state == "refused":
        flash(_("Nothing was imported: %(n)s problem(s) in the file.",
                n=outcome.get("count", len(problems))), "error")
    return render_template("items/import_job.html", job=found, outcome=outcome,
                           problems=problems, shown=SHOWN, interrupted=interrupted,
                           running=found.state in RUNNING and not interrupted)
