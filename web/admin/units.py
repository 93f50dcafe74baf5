"""The organisation tree: one unit and its children at a time, create and rename."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ledger.core.errors import ValidationError
from ledger.org import admin as org_admin
from web.admin import bp
from web.admin.forms import RenameForm, UnitCreateForm
from web.admin.text import apply_errors
from web.core.extensions import sanhu


def _unit_page(unit_id: int | None, create: UnitCreateForm | None = None,
               rename: RenameForm | None = None):
    with sanhu().uow() as uow:
        node = org_admin.unit_node(uow.session, current_user.actor, unit_id,
                                   page=request.args.get("page", 1, type=int))
    if rename is None:
        rename = RenameForm(formdata=None, name=node.unit.name)
    return render_template("admin/unit.html", node=node,
                           create=create or UnitCreateForm(formdata=None), rename=rename)


@bp.route("/units")
@login_required
def units():
    """The admin's own unit with its children."""
    return _unit_page(None)


@bp.route("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    """One unit of the tree: breadcrumbs, its children (a page at a time) and forms."""
    return _unit_page(unit_id)


@bp.route("/units/<int:unit_id>/children", methods=["POST"])
@login_required
def create_unit(unit_id: int):
    """Create a unit directly below this one; the level follows."""
    form = UnitCreateForm()
    if form.validate_on_submit():
        try:
            with sanhu().uow() as uow:
                child = org_admin.create_unit(uow, current_user.actor, unit_id,
                                              code=form.code.data, name=form.name.data)
        except ValidationError as exc:
            for message in apply_errors(form, exc):
                flash(message, "error")
        else:
            flash(_("Unit %(name)s was created.", name=child.name), "success")
            return redirect(url_for("admin.unit", unit_id=unit_id))
    return _unit_page(unit_id, create=form)


@bp.route("/units/<int:unit_id>/rename", methods=["POST"])
@login_required
def rename_unit(unit_id: int):
    """Give a unit a new name; its code stays."""
    form = RenameForm()
    if form.validate_on_submit():
        try:
            with sanhu().uow() as uow:
                org_admin.rename_unit(uow, current_user.actor, unit_id, name=form.name.data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            flash(_("The unit was renamed."), "success")
            return redirect(url_for("admin.unit", unit_id=unit_id))
    return _unit_page(unit_id, rename=form)
