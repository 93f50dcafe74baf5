"""The scheduled jobs (SPEC §9): each job's trigger, next and last run, and "run now".

The jobs are global (they act on the whole database), so only an admin of the
city may run one; admins of lower units see the page read-only.
"""

from __future__ import annotations

import re

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from babel.dates import get_month_names
from babel.lists import format_list
from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ledger.core.models import Level, Role
from schedules import jobs_overview, run_now
from schedules.scheduler import RUNNABLE, job_specs
from web.admin import bp
from web.admin.forms import ActionForm
from web.core.extensions import sanhu

JOB_NAMES = {
    "open_village_quarterly": _l("Open the village quarterly observation cycle"),
    "open_township_half_yearly": _l("Open the township half-yearly observation cycle"),
    "reminder_sweep": _l("Daily deadline reminders"),
    "overdue_digest": _l("Overdue digest for supervisors"),
    "report_reminders": _l("Report reminders at quarter and half-year end"),
    "results_reminders": _l("Ranking, 公示 and report deadline reminders"),
    "dashboard_refresh": _l("Recount the dashboards"),
    "deliver": _l("Send e-mail and webhook messages"),
    "observation_sweep": _l("Observation reminders before the period ends; mark late ones"),
    "evidence_gc": _l("Remove evidence files nothing refers to"),
}
OUTCOMES = {
    "ok": _l("ok"),
    "failed": _l("failed"),
    "missed": _l("missed"),
    "died": _l("died (its process stopped; run again)"),
    "running": _l("running"),
    "skipped": _l("skipped"),
}


def may_run_jobs(actor) -> bool:
    """Jobs and notification settings are global: only an admin of the city changes them."""
    return actor.role == Role.ADMIN.value and actor.unit_level == Level.CITY.value


def job_name(job_id: str, fallback: str = "") -> str:
    name = JOB_NAMES.get(job_id)
    return str(name) if name else (fallback or job_id)


def _number(expr: str) -> int | None:
    return int(expr) if expr.isdigit() else None


def trigger_words(trigger) -> str | None:
    """The trigger in the user's language, for the simple shapes our jobs use (else None)."""
    if isinstance(trigger, IntervalTrigger):
        seconds = int(trigger.interval.total_seconds())
        if seconds % 60 == 0:
            return ngettext("Every minute", "Every %(num)s minutes", seconds // 60)
        return None
    if not isinstance(trigger, CronTrigger):
        return None
    fields = {f.name: str(f) for f in trigger.fields}
    hour, minute = _number(fields["hour"]), _number(fields["minute"])
    if hour is None or minute is None or fields["second"] != "0" or fields["year"] != "*" \
            or fields["week"] != "*" or fields["day_of_week"] != "*":
        return None
    time = f"{hour:02d}:{minute:02d}"
    if fields["month"] == "*" and fields["day"] == "*":
        return _("Daily at %(time)s", time=time)
    day = _number(fields["day"])
    months = [_number(m) for m in fields["month"].split(",")]
    if day is None or None in months:
        return None
    locale = get_locale()
    names = get_month_names("wide", locale=locale)
    return _("On day %(day)s of %(months)s, at %(time)s", day=day, time=time,
             months=format_list([names[m] for m in months], locale=locale))


#: the figures the jobs report (``job_runs.detail``), as people read them
DETAIL_LABELS = {
    "sent": _l("sent"), "failed": _l("failed"), "lost_race": _l("taken by another worker"),
    "deferred": _l("left for the next pass"), "errors": _l("errors"),
    "late": _l("sent late (caught up)"), "reminded": _l("reminded"), "units": _l("units"),
    "seconds": _l("seconds"), "removed": _l("removed"), "kept": _l("kept"),
    "bytes": _l("bytes freed"), "files": _l("files"),
    "notifications": _l("reminders"), "deliveries": _l("deliveries queued"),
}
#: ``DeliverResult(sent=1, failed=0, errors=[])`` or ``{'units': 3, 'seconds': 0.2}``
_REPR = re.compile(r"^\w+\((?P<body>.*)\)$", re.S)
_PAIR = re.compile(r"'?(\w+)'?\s*[=:]\s*(\[[^\]]*\]|\{[^}]*\}|[^,]+)")


def detail_words(detail: str | None) -> str:
    """A job's recorded result in the user's language: its figures named, not a repr."""
    text = (detail or "").strip()
    match = _REPR.match(text)
    body = match.group("body") if match else (
        text[1:-1] if text.startswith("{") and text.endswith("}") else None)
    if body is None:
        return text
    parts = []
    for key, value in _PAIR.findall(body):
        value = value.strip()
        if value in ("[]", "0") and key == "errors":
            continue
        if value.startswith("{"):  # counts by offset or channel: their total
            value = str(sum(int(n) for n in re.findall(r":\s*(\d+)", value)))
        parts.append(f"{DETAIL_LABELS.get(key, key)}{_(': ')}{value}")
    return _(", ").join(parts) if parts else text


@bp.route("/jobs")
@login_required
def jobs():
    """Every scheduled job: trigger in words, next run, last run and outcome; run now."""
    app = sanhu()
    triggers = {spec.id: spec.trigger for spec in job_specs(app.settings)}
    rows = jobs_overview(app)
    for row in rows:
        row["label"] = job_name(row["id"], row["name"])
        row["words"] = trigger_words(triggers.get(row["id"]))
        row["outcome_label"] = str(OUTCOMES.get(row["last_outcome"], row["last_outcome"] or ""))
        row["detail_words"] = detail_words(row.get("last_detail"))
        row["run_key_words"] = (_("latest run") if row.get("last_run_key") == "latest"
                                else row.get("last_run_key"))
        row["runnable"] = row["id"] in RUNNABLE
    return render_template("admin/jobs.html", jobs=rows,
                           may_run=may_run_jobs(current_user.actor))


@bp.route("/jobs/<job_id>/run", methods=["POST"])
@login_required
def run_job(job_id: str):
    """Run one job now (city admins only); the outcome is flashed, an error never a 500."""
    if job_id not in RUNNABLE:
        abort(404)
    if not may_run_jobs(current_user.actor):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    name = job_name(job_id)
    try:
        outcome = run_now(sanhu(), job_id)
    except Exception as exc:  # the job recorded its failure; show it, do not answer 500
        current_app.logger.exception("run now of %s failed", job_id)
        flash(_("%(job)s failed: %(error)s", job=name, error=f"{type(exc).__name__}: {exc}"),
              "error")
    else:
        if outcome == "ok":
            flash(_("%(job)s ran successfully.", job=name), "success")
        else:
            flash(_("%(job)s is running already; it was not started again.", job=name),
                  "warning")
    return redirect(url_for("admin.jobs"))
