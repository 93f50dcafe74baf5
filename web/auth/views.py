"""Sign-in, sign-out and the account page (Flask-Login, CSRF-protected forms).

Failed sign-ins are throttled per username and per client address in the
database (``ledger.org.throttle``), so every web worker sees the same count.  The
session id carries the user's ``session_version``: changing the password bumps
it, which signs out every other session and remembered device of that user.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime, format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ledger.core.actors import Actor
from ledger.core.errors import ValidationError as DomainValidationError
from ledger.core.models import Unit, User
from ledger.org import throttle
from web.core.extensions import login_manager, sanhu
from web.core.labels import ROLE_LABELS

bp = Blueprint("auth", __name__)



class WebUser(UserMixin):
    """The signed-in user; the id carries the session version (password change signs out)."""

    def __init__(self, user: User, unit: Unit) -> None:
        self.user = user
        self.unit = unit
        self.actor = Actor.of(user, unit)

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_version}"

    @property
    def is_active(self) -> bool:
        return self.user.active


@login_manager.user_loader
def load_user(user_id: str) -> WebUser | None:
    """The user of a session or remember cookie, if still active and of the current version."""
    try:
        uid, version = (int(p) for p in user_id.split(":"))
    except ValueError:
        return None
    with sanhu().uow() as uow:
        row = uow.session.execute(
            select(User, Unit).join(Unit, User.unit_id == Unit.id).where(User.id == uid)
        ).first()
    if row is None or not row[0].active or row[0].session_version != version:
        return None
    return WebUser(row[0], row[1])


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me on this device"))


def _not_the_username(form: PasswordForm, field) -> None:
    if field.data and field.data.strip().lower() == current_user.user.username.lower():
        raise ValidationError(_("The password must not be your username."))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    new = PasswordField(
        _l("New password"),
        description=_l("At least %(n)s characters, not your username.",
                       n=throttle.MIN_PASSWORD_LENGTH),
        validators=[DataRequired(), Length(min=throttle.MIN_PASSWORD_LENGTH, max=200,
                                           message=_l("At least %(n)s characters.",
                                                      n=throttle.MIN_PASSWORD_LENGTH)),
                    _not_the_username])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))])


def _lock_message(until: dt.datetime) -> str:
    """"Too many attempts, try again after 10:45" in the user's zone (Asia/Shanghai)."""
    zone = sanhu().settings.zone
    same_day = until.astimezone(zone).date() == dt.datetime.now(dt.UTC).astimezone(zone).date()
    when = format_time(until, "HH:mm") if same_day else format_datetime(until, "short")
    return _("Too many attempts. Please try again after %(time)s.", time=when)


def _safe_next(target: str) -> str:
    """Only a path on this site (never ``//host`` or ``https://…``) may follow sign-in."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("home.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form and sign the user in, unless throttled."""
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip()
        with sanhu().uow() as uow:
            result = throttle.sign_in(uow, username, form.password.data, request.remote_addr)
            unit = uow.session.get(Unit, result.user.unit_id) if result.user else None
        if result.locked_until is not None:
            flash(_lock_message(result.locked_until), "error")
        elif result.user is None:
            flash(_("Wrong username or password, or the account is disabled."), "error")
        else:
            login_user(WebUser(result.user, unit), remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next", "")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (a POST, so the CSRF token protects it)."""
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
        try:
            with sanhu().uow() as uow:
                user = throttle.change_password(uow, current_user.user.id,
                                                current=form.current.data, new=form.new.data)
                unit = uow.session.get(Unit, user.unit_id)
        except DomainValidationError as exc:
            if "current" in exc.fields:
                form.current.errors = [_("The current password is not right.")]
            else:
                form.new.errors = [_("Choose a longer password that is not your username.")]
        else:
            remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            login_user(WebUser(user, unit), remember=remembered in request.cookies)
            flash(_("Your password has been changed. Other sessions have been signed out."),
                  "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form,
                           role=ROLE_LABELS.get(current_user.user.role, current_user.user.role))


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
