"""Sign-in and sign-out (Flask-Login, with CSRF-protected forms)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ledger.actors import Actor
from ledger.models import Unit, User
from ledger.org import authenticate
from web.extensions import login_manager, sanhu

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


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form and sign the user in."""
    form = LoginForm()
    if form.validate_on_submit():
        with sanhu().uow() as uow:
            user = authenticate(uow.session, form.username.data.strip(), form.password.data)
            unit = uow.session.get(Unit, user.unit_id) if user else None
        if user is None:
            flash(_l("Wrong username or password, or the account is disabled."), "error")
        else:
            login_user(WebUser(user, unit), remember=form.remember.data)
            target = request.args.get("next", "")
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("home.index")
            return redirect(target)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (a POST, so the CSRF token protects it)."""
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    """Remember the chosen interface language in a cookie."""
    from web.i18n import COOKIE, LANGUAGES

    lang = request.form.get("lang", "")
    target = request.referrer or url_for("home.index")
    response = redirect(target)
    if lang in LANGUAGES:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
