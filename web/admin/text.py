"""Words of the administration pages: role and level names, and the ledger's codes translated.

The ledger reports field problems and bad import rows as short English codes;
this module turns them into sentences in the user's language.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ledger.core.errors import DomainError, ValidationError
from ledger.org.imports import MAX_CELL, MAX_XLSX_BYTES, RowError
from web.core.labels import ROLE_LABELS  # noqa: F401  (re-exported)
from web.core.password_text import password_message
from web.core.upload_limits import size_text

LEVEL_LABELS = {
    "city": _l("City"),
    "county": _l("County"),
    "township": _l("Township"),
    "village": _l("Village"),
}
COLUMN_LABELS = {
    "code": _l("Code"), "name": _l("Unit name"), "level": _l("Level"),
    "parent_code": _l("Parent code"), "username": _l("Username"),
    "display_name": _l("Display name"), "role": _l("Role"), "unit_code": _l("Unit code"),
    "email": _l("Email"), "phone": _l("Phone"), "post": _l("Post"),
    "password": _l("Initial password"), "file": _l("File"),
}

#: field codes of ledger.org.admin / ledger.org.imports; "field:code" wins over "code"
CODES = {
    "required": _l("This field is required."),
    "too long": _l("This value is too long."),
    "taken": _l("Already in use."),
    "username:taken": _l("This username is already taken."),
    "code:taken": _l("A unit with this code already exists."),
    "invalid username": _l("A username has no spaces and at most 64 characters."),
    "invalid code": _l("A code has no spaces and at most 32 characters."),
    "invalid email": _l("Enter an email address like name@example.cn."),
    "invalid phone": _l("Enter a phone number (digits, spaces, + - and brackets)."),
    "unknown role": _l("Choose a role from the list."),
    "unknown unit": _l("There is no unit with this code in your area."),
    "wrong level for this role": _l("This role does not fit the level of the chosen unit."),
    "role does not fit the unit's level":
        _l("This role does not fit the level of the chosen unit."),
    "own role": _l("You cannot change your own role or unit."),
    "own account": _l("You cannot disable your own account."),
    "no units below a village": _l("A village has no units below it."),
    "duplicate in file": _l("This value appears more than once in the file."),
    "already exists": _l("This already exists in the system."),
    # an import says "exists" only inside the importer's area; elsewhere "not available",
    # the same words as for a value with a space (ledger.org.imports._taken_or_unusable)
    "code:already exists": _l("A unit with this code already exists in your area."),
    "username:already exists": _l("A user with this username already exists in your area."),
    "code:not available": _l("This code cannot be used: choose another (no spaces)."),
    "username:not available": _l("This username cannot be used: choose another (no spaces)."),
    "unknown level": _l("Unknown level: use city, county, township, village "
                        "(市, 县, 乡镇, 村)."),
    "unknown parent": _l("No such parent unit in your area or on an earlier line."),
    "parent not one level up": _l("The parent unit must be exactly one level up."),
    "missing column": _l("This column is missing from the header row."),
    "unreadable": _l("The file could not be read as an .xlsx workbook."),
    "wrong type": _l("Upload a .xlsx or .csv file."),
    "empty": _l("The file has no data rows."),
    "too many rows": _l("The file has too many rows; split it into smaller files."),
}


def code_message(code: str, field: str = "") -> str:
    """The sentence for a ledger field code."""
    if field == "password" and (policy := password_message(code)):
        return policy
    if code == "too large":
        return _("The workbook unpacks to more than %(size)s; split it into smaller files.",
                 size=size_text(MAX_XLSX_BYTES))
    if code == "cell too long":
        return _("A cell of the file is far longer than %(n)s characters.", n=MAX_CELL)
    message = CODES.get(f"{field}:{code}") or CODES.get(code)
    return str(message) if message else _("This value is not accepted.")


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Field name → translated message."""
    return {name: code_message(code, name) for name, code in exc.fields.items()}


def apply_errors(form, exc: ValidationError) -> list[str]:
    """Put each message beside its form field; return those that have no field."""
    loose = []
    for name, message in field_errors(exc).items():
        target = getattr(form, name, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, message]
        else:
            loose.append(message)
    return loose


def row_message(row: RowError) -> str:
    return code_message(row.code, row.column)


def column_label(column: str) -> str:
    label = COLUMN_LABELS.get(column)
    return str(label) if label else column


_CALENDAR = (
    (re.compile(r"^expected date,kind\[,name\]$"), lambda m: _("Expected: date,kind[,name].")),
    (re.compile(r"^not a date: (.*)$"), lambda m: _("Not a date: %(v)s", v=m.group(1))),
    (re.compile(r"^kind must be holiday or workday, not (.*)$"),
     lambda m: _("The kind must be holiday or workday, not %(v)s.", v=m.group(1))),
    (re.compile(r"^(.*) is listed twice$"), lambda m: _("%(v)s is listed twice.", v=m.group(1))),
    (re.compile(r"^no rows$"), lambda m: _("The file has no rows.")),
)


def calendar_errors(exc: ValidationError) -> list[tuple[int | None, str]]:
    """(line number, translated message) for every bad line of a calendar file."""
    out = []
    for key, message in exc.fields.items():
        match = re.match(r"^line (\d+)$", key)
        line = int(match.group(1)) if match else None
        text = str(message)
        for pattern, render in _CALENDAR:
            found = pattern.match(text)
            if found:
                text = render(found)
                break
        out.append((line, text))
    return sorted(out, key=lambda t: (t[0] is not None, t[0] or 0))


def explain(exc: DomainError) -> str:
    """One sentence for a domain error on an administration page."""
    from web.core.domain_text import explain as general

    if isinstance(exc, ValidationError) and exc.fields:
        messages = field_errors(exc)
        if len(messages) == 1:
            return next(iter(messages.values()))
    return general(exc)
