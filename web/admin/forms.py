"""Forms of the administration pages (Flask-WTF: CSRF on every POST).

The forms check only presence and length; the ledger checks the rest
(role fits level, duplicates, scope) and its codes are shown beside the fields.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, Optional

from ledger.core.models import Role
from web.admin.text import ROLE_LABELS
from web.core.text_limits import limited


def role_choices(blank: str | None = None) -> list[tuple[str, str]]:
    choices = [(r.value, str(ROLE_LABELS[r.value])) for r in Role]
    return [("", blank), *choices] if blank is not None else choices


class UserFilterForm(FlaskForm):
    """The filters above the user list (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Username or name"), validators=[Optional(), limited(100)])
    role = SelectField(_l("Role"), validators=[Optional()])
    unit = StringField(_l("Unit code or name"), validators=[Optional(), limited(100)])
    status = SelectField(_l("Account"), validators=[Optional()])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices(str(_l("Any role")))
        self.status.choices = [("", str(_l("Any"))), ("active", str(_l("active"))),
                               ("disabled", str(_l("disabled")))]


class ProfileForm(FlaskForm):
    """What an admin may change about a user."""

    display_name = StringField(_l("Display name"), validators=[DataRequired(), limited(100)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    unit = StringField(_l("Unit code"), validators=[DataRequired(), limited(32)],
                       description=_l("The code of the user's unit, as shown in the unit tree."))
    post = StringField(_l("Post (职务)"), validators=[Optional(), limited(100)])
    phone = StringField(_l("Phone"), validators=[Optional(), limited(32)])
    email = StringField(_l("Email"), validators=[Optional(), limited(255)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()


class UserCreateForm(ProfileForm):
    """A new user: the profile plus a username and an initial password."""

    username = StringField(_l("Username"), validators=[DataRequired(), limited(64)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired()],
                             description=_l("At least 10 characters; not a common or simple "
                                            "password and not containing the username. "
                                            "Tell it to the user in person."))
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices(str(_l("Choose a role")))


class PasswordForm(FlaskForm):
    """A new password chosen by the admin."""

    password = PasswordField(_l("New password"), validators=[DataRequired()],
                             description=_l("At least 10 characters; not a common or simple "
                                            "password and not containing the username. "
                                            "The user is signed out everywhere."))
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


class ActionForm(FlaskForm):
    """A button that changes something (only the CSRF token)."""


class UnitCreateForm(FlaskForm):
    """A new unit directly below the one shown."""

    code = StringField(_l("Code"), validators=[DataRequired(), limited(32)],
                       description=_l("The official code (统计用区划代码) where known."))
    name = StringField(_l("Unit name"), validators=[DataRequired(), limited(100)])


class RenameForm(FlaskForm):
    """A new name for a unit."""

    name = StringField(_l("New name"), validators=[DataRequired(), limited(100)],
                       id="rename-name")  # the create form on the same page has a "name"


class ImportForm(FlaskForm):
    """One .xlsx or .csv file to import."""

    file = FileField(_l("File (.xlsx or .csv)"), validators=[FileRequired()])


class CalendarImportForm(FlaskForm):
    """An official schedule: a CSV file, or the same rows pasted."""

    file = FileField(_l("CSV file"))
    rows = TextAreaField(_l("Or paste the rows"), validators=[Optional(), limited(20000)],
                         render_kw={"rows": 6, "placeholder": "2027-01-01,holiday,元旦"})
