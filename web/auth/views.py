"""Sign-in, sign-out and the account page (Flask-Login, CSRF-protected forms).

Failed sign-ins are throttled per username and per client address in the
database (``ledger.org.throttle``), so every web worker sees the same count; a
browser that signed in as the user before is checked against its own count
(``web.auth.devices``).  The session id carries the user's ``session_version``
and the time of sign-in: signing out, changing the password (and an admin's
reset, disabling, change of role or unit) bumps the version, which ends every
session and remember cookie of that user; the time bounds a remember cookie on
the server.  Session lifetimes: ``web.auth.sessions``.
"""

from __future__ import annotations

import datetime as dt
import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ledger.core.actors import Actor
from ledger.core.errors import ValidationError as DomainValidationError
from ledger.core.models import Unit, User
from ledger.items.announce import KINDS
from ledger.notify import reminders
from ledger.org import throttle, tokens
from ledger.org.passwords import MAX_LENGTH, password_problem
from web.auth.devices import known_device, remember_device
from web.auth.next_target import safe_next
from web.core.dates import datetime_text
from web.core.extensions import login_manager, sanhu
from web.core.labels import HANDOVER_LABELS, ROLE_LABELS
from web.core.password_text import password_message

bp = Blueprint("auth", __name__)



class WebUser(UserMixin):
    """The signed-in user; the id carries the session version and the time of sign-in.

    ``<user id>:<session version>:<signed in at, epoch seconds>`` goes into the
    session and the remember cookie: a bumped version refuses both, and the
    server refuses a remember cookie older than the remember period even if a
    copy outlives the browser's expiry.
    """

    def __init__(self, user: User, unit: Unit, signed_in_at: int | None = None) -> None:
        self.user = user
        self.unit = unit
        self.actor = Actor.of(user, unit)
        self.signed_in_at = int(time.time()) if signed_in_at is None else signed_in_at

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_version}:{self.signed_in_at}"

    @property
    def is_active(self) -> bool:
        return self.user.active


@login_manager.user_loader
def load_user(user_id: str) -> WebUser | None:
    """The user of a session or remember cookie: active, current version, within the period."""
    try:
        uid, version, signed_in_at = (int(p) for p in user_id.split(":"))
    except ValueError:
        return None
    if time.time() - signed_in_at > sanhu().settings.remember_days * 24 * 3600:
        return None
    with sanhu().uow() as uow:
        row = uow.session.execute(
            select(User, Unit).join(Unit, User.unit_id == Unit.id).where(User.id == uid)
        ).first()
    if row is None or not row[0].active or row[0].session_version != version:
        return None
    return WebUser(row[0], row[1], signed_in_at)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me on this device"))


def _meets_the_policy(form: PasswordForm, field) -> None:
    """The password policy of ``ledger.org.passwords``, its reason shown beside the field."""
    if problem := password_problem(field.data, current_user.user.username):
        raise ValidationError(password_message(problem) or _("This value is not accepted."))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"),
                            validators=[DataRequired(), Length(max=MAX_LENGTH)])
    new = PasswordField(
        _l("New password"),
        description=_l("At least %(n)s characters; not a common or simple password and "
                       "not containing your username.", n=throttle.MIN_PASSWORD_LENGTH),
        validators=[DataRequired(), _meets_the_policy])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))])


def _lock_message(until: dt.datetime) -> str:
    """"Too many attempts, try again after 10:45" in the user's zone (Asia/Shanghai)."""
    zone = sanhu().settings.zone
    same_day = until.astimezone(zone).date() == dt.datetime.now(dt.UTC).astimezone(zone).date()
    when = format_time(until, "HH:mm") if same_day else datetime_text(until)
    return _("Too many attempts. Please try again after %(time)s.", time=when)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form and sign the user in, unless throttled."""
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        with sanhu().uow() as uow:
            result = throttle.sign_in(uow, username, form.password.data, request.remote_addr,
                                      device=known_device(username))
            unit = uow.session.get(Unit, result.user.unit_id) if result.user else None
        if result.locked_until is not None:
            flash(_lock_message(result.locked_until), "error")
        elif result.user is None:
            flash(_("Wrong username or password, or the account is disabled."), "error")
        else:
            login_user(WebUser(result.user, unit), remember=bool(form.remember.data))
            response = redirect(safe_next(request.args.get("next"), url_for("home.index")))
            remember_device(response, result.user.username)
            return response
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out everywhere (a POST, so the CSRF token protects it).

    Bumping the session version refuses every copy of this session and of the
    remember cookie, and the user's other devices too (README, "Security").
    """
    with sanhu().uow() as uow:
        throttle.end_sessions(uow, current_user.user.id)
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """The user's name, unit and role, and the password change.

    A new password bumps the session version: every other session and
    remembered device is signed out, and this one signs in again with the new id.
    """
    form = PasswordForm()
    if form.validate_on_submit():
        username = current_user.user.username
        try:
            with sanhu().uow() as uow:
                user = throttle.change_password(uow, current_user.user.id,
                                                current=form.current.data, new=form.new.data,
                                                address=request.remote_addr,
                                                device=known_device(username))
                unit = uow.session.get(Unit, user.unit_id)
        except throttle.Locked as exc:
            form.current.errors = [_lock_message(exc.until)]
        except DomainValidationError as exc:
            if "current" in exc.fields:
                form.current.errors = [_("The current password is not right.")]
            else:
                form.new.errors = [password_message(exc.fields.get("new", ""))
                                   or _("This value is not accepted.")]
        else:
            remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            login_user(WebUser(user, unit), remember=remembered in request.cookies)
            flash(_("Your password has been changed. Other sessions have been signed out."),
                  "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, choices=ChoicesForm(),
                           rows=_choice_rows(), tokens=_token_rows(), token_form=TokenForm(),
                           revoke_form=RevokeForm(),
                           revoke_url=lambda i: url_for("auth.revoke_token", token_id=i),
                           role=ROLE_LABELS.get(current_user.user.role, current_user.user.role))


class ChoicesForm(FlaskForm):
    """Which kinds of message reach the user by e-mail and webhook (the checkboxes are
    built from the kinds in the template; the form carries the CSRF token)."""


def _choice_rows() -> list[dict]:
    """Per kind of hand-over: its label and whether each optional channel is on."""
    with sanhu().uow() as uow:
        off = reminders.opt_outs(uow, current_user.actor.id)
    return [{"kind": kind, "label": HANDOVER_LABELS[kind],
             "channels": {c: (kind, c) not in off for c in reminders.OPTIONAL_CHANNELS}}
            for kind in KINDS]


@bp.route("/account/notifications", methods=["POST"])
@login_required
def notification_choices():
    """Store which kinds of message reach the user by e-mail and webhook (a box left
    unticked turns that kind off for that channel; the inbox always has every kind)."""
    if not ChoicesForm().validate_on_submit():
        abort(400)
    off = {(kind, channel) for kind in KINDS for channel in reminders.OPTIONAL_CHANNELS
           if request.form.get(f"{kind}:{channel}") != "on"}
    with sanhu().uow() as uow:
        reminders.set_opt_outs(uow, current_user.actor.id, KINDS, off)
    flash(_("Your choices of messages have been saved."), "success")
    return redirect(url_for("auth.account", _anchor="notifications"))


# --- API tokens ------------------------------------------------------------------------

#: the lifetimes offered for a new token, in days
TOKEN_DAYS = (30, 90, 180, 365)


class TokenForm(FlaskForm):
    """A new personal access token for the JSON API: its name and lifetime."""

    name = StringField(_l("Name of the token"),
                       description=_l("What it is for, e.g. the county's reporting script."),
                       validators=[DataRequired(), Length(max=tokens.MAX_NAME)])
    days = SelectField(_l("Valid for"), coerce=int, default=tokens.DEFAULT_DAYS,
                       choices=[SelectChoice(d, _l("%(num)s days", num=d)) for d in TOKEN_DAYS])


class RevokeForm(FlaskForm):
    """A button that revokes a token (only the CSRF token)."""


def _token_rows() -> list[dict]:
    """The user's tokens as the account page lists them, with their state."""
    user = current_user.user
    with sanhu().uow() as uow:
        now = uow.now()
        return [{"id": t.id, "name": t.name, "prefix": t.prefix, "created_at": t.created_at,
                 "expires_at": t.expires_at, "last_used_at": t.last_used_at,
                 "state": tokens.state_of(t, user, now)}
                for t in tokens.list_for(uow, user.id)]


@bp.route("/account/tokens", methods=["POST"])
@login_required
def new_token():
    """Make a personal access token and show it this once.

    The page is the answer to the POST itself (never stored, never put in the
    session, ``Cache-Control: no-store``): reloading the account page shows only
    the token's first characters.
    """
    form = TokenForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(url_for("auth.account", _anchor="tokens"))
    try:
        with sanhu().uow() as uow:
            made = tokens.create(uow, current_user.actor, name=form.name.data,
                                 days=form.days.data)
    except DomainValidationError as exc:
        flash(_("You have too many API tokens; revoke one first.")
              if exc.fields.get("name") == "too_many_tokens"
              else _("This value is not accepted."), "error")
        return redirect(url_for("auth.account", _anchor="tokens"))
    response = make_response(render_template("auth/token_created.html", name=made.name,
                                             secret=made.secret, expires_at=made.expires_at))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    """Revoke one of the user's own tokens (others' answer 404)."""
    if not RevokeForm().validate_on_submit():
        abort(400)
    with sanhu().uow() as uow:
        if token_id not in {t.id for t in tokens.list_for(uow, current_user.user.id)}:
            abort(404)
        tokens.revoke(uow, current_user.actor, token_id)
    flash(_("The API token was revoked."), "success")
    return redirect(url_for("auth.account", _anchor="tokens"))


@bp.route("/language", methods=["POST"])
def language():
    """Remember the chosen interface language in a cookie."""
    from web.core.i18n import COOKIE, LANGUAGES

    lang = request.form.get("lang", "")
    target = request.referrer or url_for("home.index")
    response = redirect(target)
    if lang in LANGUAGES:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
