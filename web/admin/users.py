"""User administration pages: list, create, edit, disable/enable, reset password."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ledger.core.errors import ValidationError
from ledger.org import admin as org_admin
from ledger.org import tokens
from ledger.org.directory import unit_in_scope
from web.admin import bp
from web.admin.forms import ActionForm, PasswordForm, ProfileForm, UserCreateForm, UserFilterForm
from web.admin.text import apply_errors, explain
from web.core.extensions import sanhu


def _profile(form: ProfileForm) -> dict[str, str]:
    return {"display_name": form.display_name.data or "", "role": form.role.data or "",
            "unit_code": form.unit.data or "", "email": form.email.data or "",
            "phone": form.phone.data or "", "post": form.post.data or ""}


@bp.route("/users")
@login_required
def users():
    """List the users in scope, 50 a page, filtered by name, role, unit or subtree."""
    form = UserFilterForm(request.args)
    under = request.args.get("under", type=int)
    filters = {"q": form.q.data or "", "role": form.role.data or "",
               "unit": form.unit.data or "", "status": form.status.data or ""}
    active = {"active": True, "disabled": False}.get(filters["status"])
    with sanhu().uow() as uow:
        page = org_admin.list_users(
            uow.session, current_user.actor, text=filters["q"], role=filters["role"],
            unit=filters["unit"], under=under, active=active,
            page=request.args.get("page", 1, type=int))
        under_unit = unit_in_scope(uow.session, current_user.actor, under) if under else None
    if under:
        filters["under"] = under
    return render_template("admin/users.html", form=form, page=page, filters=filters,
                           under_unit=under_unit)


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
def new_user():
    """Create a user with an initial password; the role must fit the unit's level."""
    form = UserCreateForm()
    if request.method == "GET" and request.args.get("unit"):
        form.unit.data = request.args["unit"]
    if form.validate_on_submit():
        try:
            with sanhu().uow() as uow:
                user = org_admin.create_user(uow, current_user.actor,
                                             username=form.username.data,
                                             password=form.password.data, **_profile(form))
        except ValidationError as exc:
            for message in apply_errors(form, exc):
                flash(message, "error")
        else:
            flash(_("User %(name)s was created.", name=user.username), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/user_new.html", form=form)


def _edit_page(user_id: int, form: ProfileForm | None = None,
               password_form: PasswordForm | None = None):
    with sanhu().uow() as uow:
        user = org_admin.user_in_scope(uow.session, current_user.actor, user_id)
        unit = user.unit
        now = uow.now()
        user_tokens = [{"id": t.id, "name": t.name, "prefix": t.prefix,
                        "created_at": t.created_at, "expires_at": t.expires_at,
                        "last_used_at": t.last_used_at, "state": tokens.state_of(t, user, now)}
                       for t in tokens.user_tokens_for_admin(uow, current_user.actor, user_id)]
    if form is None:
        form = ProfileForm(formdata=None, obj=user)
        form.unit.data = unit.code
    return render_template("admin/user_edit.html", user=user, unit=unit, form=form,
                           password_form=password_form or PasswordForm(formdata=None),
                           action=ActionForm(), is_self=user.id == current_user.actor.id,
                           tokens=user_tokens,
                           revoke_url=lambda i: url_for("admin.revoke_token", user_id=user.id,
                                                        token_id=i))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int):
    """Show a user and change their name, role, unit and contact details."""
    if request.method == "GET":
        return _edit_page(user_id)
    form = ProfileForm()
    if form.validate_on_submit():
        try:
            with sanhu().uow() as uow:
                org_admin.update_user(uow, current_user.actor, user_id, **_profile(form))
        except ValidationError as exc:
            for message in apply_errors(form, exc):
                flash(message, "error")
        else:
            flash(_("The changes were saved."), "success")
            return redirect(url_for("admin.edit_user", user_id=user_id))
    return _edit_page(user_id, form=form)


def _set_active(user_id: int, active: bool):
    if ActionForm().validate_on_submit():
        try:
            with sanhu().uow() as uow:
                user = org_admin.set_active(uow, current_user.actor, user_id, active)
        except ValidationError as exc:
            flash(explain(exc), "error")
        else:
            flash(_("%(name)s can sign in again.", name=user.username) if active else
                  _("%(name)s was disabled and signed out.", name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user_id))


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@login_required
def disable_user(user_id: int):
    """Disable a user: they are signed out at once and cannot sign in."""
    return _set_active(user_id, False)


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
@login_required
def enable_user(user_id: int):
    """Enable a disabled user again."""
    return _set_active(user_id, True)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@login_required
def reset_password(user_id: int):
    """Set a new password for a user; their sessions end."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            with sanhu().uow() as uow:
                user = org_admin.reset_password(uow, current_user.actor, user_id,
                                                form.password.data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("The password of %(name)s was changed; tell them the new one.",
                    name=user.username), "success")
            return redirect(url_for("admin.edit_user", user_id=user_id))
    return _edit_page(user_id, password_form=form)


@bp.route("/users/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(user_id: int, token_id: int):
    """Revoke one of a user's API tokens (a user or token outside the admin's area: 404)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    with sanhu().uow() as uow:
        theirs = tokens.user_tokens_for_admin(uow, current_user.actor, user_id)
        if token_id not in {t.id for t in theirs}:
            abort(404)
        tokens.revoke(uow, current_user.actor, token_id)
    flash(_("The API token was revoked."), "success")
    return redirect(url_for("admin.edit_user", user_id=user_id, _anchor="tokens"))
