"""Notification settings (reminder points, SMTP, webhook), test messages and the deliveries.

The settings are global, stored by ``ledger.notify.reminders.set_notify_settings``;
only an admin of the city changes them or sends test messages, other admins
see them read-only.  The SMTP password is write-only: the page never shows
it, a blank field keeps the stored one and a checkbox removes it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField

from ledger.core.errors import ValidationError
from ledger.notify import delivery, reminders
from web.admin import bp
from web.admin.jobs import may_run_jobs
from web.core.extensions import sanhu

TLS_CHOICES = [("none", _l("None (plain SMTP)")), ("starttls", _l("STARTTLS")),
               ("ssl", _l("SSL/TLS"))]
KIND_CHOICES = [("wecom", _l("WeCom group robot (企业微信)")),
                ("dingtalk", _l("DingTalk group robot (钉钉)"))]
STATUS_LABELS = {
    "queued": _l("queued"), "sending": _l("sending"), "sent": _l("sent"),
    "failed": _l("failed"), "read": _l("read"),
}
CHANNEL_LABELS = {"inbox": _l("Inbox"), "email": _l("E-mail"), "webhook": _l("Webhook")}
#: the text fields of the form, stored as they are (the ledger checks them)
SETTING_FIELDS = ("reminder_offsets", "overdue_every", "board_threshold_days", "email_enabled",
                  "smtp_host", "smtp_port", "smtp_user", "smtp_from", "smtp_tls",
                  "webhook_enabled", "webhook_url", "webhook_kind", "webhook_allow_internal")


class NotifyForm(FlaskForm):
    """Reminder points and channels; the ledger validates the values."""

    reminder_offsets = StringField(
        _l("Reminders before the deadline (working days)"),
        description=_l("Separated by commas, e.g. 5,1,0 (0 is the day of the deadline)."))
    overdue_every = StringField(_l("When overdue, remind every … working days"))
    board_threshold_days = StringField(
        _l("Onto the supervisors' board after … working days overdue"))
    email_enabled = BooleanField(_l("Send reminders by e-mail"))
    smtp_host = StringField(_l("SMTP server"))
    smtp_port = StringField(_l("Port"))
    smtp_user = StringField(_l("SMTP user name"),
                            description=_l("Leave blank when the server needs no login."))
    smtp_password = PasswordField(_l("SMTP password"),
                                  description=_l("Leave blank to keep the stored password."))
    clear_smtp_password = BooleanField(_l("Remove the stored password"))
    smtp_from = StringField(_l("Sender address"))
    smtp_tls = SelectField(_l("Encryption"), validate_choice=False)
    webhook_enabled = BooleanField(_l("Send reminders to a group robot (webhook)"))
    webhook_url = StringField(_l("Webhook URL"),
                              description=_l("The robot's address with its key, from the group "
                                             "settings."))
    webhook_kind = SelectField(_l("Robot"), validate_choice=False)
    webhook_allow_internal = BooleanField(
        _l("Allow internal addresses for the webhook (this server, link-local)"),
        description=_l("Only for a robot on this server; the database's port is refused "
                       "always."))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.smtp_tls.choices = [(value, str(label)) for value, label in TLS_CHOICES]
        self.webhook_kind.choices = [(value, str(label)) for value, label in KIND_CHOICES]


class TestMessageForm(FlaskForm):
    """Send one test message over a channel now."""

    channel = HiddenField()
    to = StringField(_l("Send to (e-mail address)"))


def setting_error(name: str, message: str) -> str:
    """The ledger's English reason for a setting, as a sentence in the user's language."""
    if name == "reminder_offsets":
        return _("Enter working days from 0 to 60 separated by commas, e.g. 5,1,0.")
    if name in ("overdue_every", "board_threshold_days"):
        return _("Enter a whole number from 1 to 365.")
    if name == "smtp_port":
        return _("Enter a port number from 1 to 65535.")
    if name in ("smtp_tls", "webhook_kind"):
        return _("Choose from the list.")
    if name == "smtp_host":
        return _("Sending e-mail needs an SMTP server.")
    if name == "webhook_url":
        if "needs" in message:
            return _("The webhook needs a URL.")
        if message == "internal target":
            return _("This address points at this server or an internal network address "
                     "(loopback, link-local such as 169.254.169.254): it is refused unless "
                     "internal addresses are allowed below.")
        if message == "database port":
            return _("This address uses the database's port: choose another.")
        return _("Enter an address starting with http:// or https://.")
    return _("This value is not accepted.")


def _masked_url(url: str) -> str:
    """Scheme and host only: the robot's key in the URL is a secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else ""


def _page(form: NotifyForm, settings: reminders.NotifySettings, may_change: bool,
          status: int = 200):
    if not may_change:
        form.webhook_url.data = _masked_url(settings.webhook_url)
    return render_template(
        "admin/notifications.html", form=form, may_change=may_change,
        password_set=bool(settings.smtp_password), settings=settings,
        email_test=TestMessageForm(formdata=None, channel="email"),
        webhook_test=TestMessageForm(formdata=None, channel="webhook"),
        inbox_test=TestMessageForm(formdata=None, channel="inbox")), status


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    """Show the reminder and channel settings; city admins save them (all or nothing)."""
    may_change = may_run_jobs(current_user.actor)
    with sanhu().uow() as uow:
        settings = reminders.notify_settings(uow)
    if request.method == "GET":
        data = settings.public()
        data["reminder_offsets"] = ",".join(str(o) for o in settings.reminder_offsets)
        data.pop("smtp_password")
        return _page(NotifyForm(formdata=None, data=data), settings, may_change)
    if not may_change:
        abort(403)
    form = NotifyForm()
    if not form.validate_on_submit():
        abort(400)
    changes = {name: getattr(form, name).data for name in SETTING_FIELDS}
    changes["smtp_password"] = form.smtp_password.data or ""
    changes["clear_smtp_password"] = form.clear_smtp_password.data
    try:
        with sanhu().uow() as uow:
            reminders.set_notify_settings(uow, **changes)
    except ValidationError as exc:
        for name, message in exc.fields.items():
            target = getattr(form, name, None)
            if target is not None:
                target.errors = [*target.errors, setting_error(name, str(message))]
        flash(_("Nothing was saved: correct the marked fields."), "error")
        return _page(form, settings, may_change)
    flash(_("The notification settings were saved."), "success")
    return redirect(url_for("admin.notifications"))


@bp.route("/notifications/test", methods=["POST"])
@login_required
def test_message():
    """Send a test message over one channel with the stored settings; show ok or the error."""
    if not may_run_jobs(current_user.actor):
        abort(403)
    form = TestMessageForm()
    if not form.validate_on_submit() or form.channel.data not in reminders.CHANNELS:
        abort(400)
    channel = form.channel.data
    to: str | int | None = None
    if channel == "email":
        to = (form.to.data or "").strip()
        if not to:
            flash(_("Enter the e-mail address to send the test message to."), "error")
            return redirect(url_for("admin.notifications"))
    elif channel == "inbox":
        to = current_user.actor.id
    with sanhu().uow() as uow:
        outcome = delivery.send_test_message(uow, channel, to)
    label = str(CHANNEL_LABELS[channel])
    if outcome.ok:
        flash(_("The test message was sent (%(channel)s).", channel=label), "success")
    else:
        flash(_("The test message could not be sent (%(channel)s): %(error)s",
                channel=label, error=outcome.error), "error")
    return redirect(url_for("admin.notifications"))


@bp.route("/deliveries")
@login_required
def deliveries():
    """Recent deliveries to users in the admin's area, by status and channel: failures show."""
    status = request.args.get("status", "")
    channel = request.args.get("channel", "")
    status = status if status in delivery.STATUSES else ""
    channel = channel if channel in reminders.CHANNELS else ""
    with sanhu().uow() as uow:
        page = delivery.list_deliveries(uow, scope=current_user.actor, status=status or None,
                                        channel=channel or None,
                                        page=request.args.get("page", 1, type=int))
    return render_template("admin/deliveries.html", page=page, status=status, channel=channel,
                           STATUS_LABELS=STATUS_LABELS, CHANNEL_LABELS=CHANNEL_LABELS,
                           statuses=delivery.STATUSES, channels=reminders.CHANNELS)
