"""Rendering the survey pages and reading the survey form (the views only parse, call
services and answer).

The form works without script: a list of people is posted as numbered inputs
(``committee_members-0-name`` …) with its row count; "add a person" and
"remove" re-render the form with what was typed (not saved yet), "save" and
"submit" send everything to the services, which refuse wrong answers field by
field.  Field labels are the form's own Chinese; the rest is translated.
"""

from __future__ import annotations

import re

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ledger.core.errors import Conflict, DomainError, ValidationError
from ledger.survey import queries
from ledger.survey.fields import BY_KEY, FIELDS, MAX_ROWS, SECTIONS, Field, display_cell
from ledger.survey.services import get_survey
from ledger.survey.workflow import allowed_events
from web.core.domain_text import MESSAGES, explain, field_message

STATUS_LABELS = {"draft": _l("Being filled in (填报中)"), "submitted": _l("Submitted (已报送)"),
                 "returned": _l("Returned for corrections (已退回)"),
                 "accepted": _l("Accepted (审核通过)"), "archived": _l("Archived (已存档)"),
                 queries.MISSING: _l("Not started (未填报)")}
STATUS_COLOURS = {"draft": "warning", "submitted": "info", "returned": "danger",
                  "accepted": "success", "archived": "dark", queries.MISSING: "secondary"}
EVENT_LABELS = {"open": _l("Opened (创建)"), "save": _l("Saved (保存)"),
                "submit": _l("Submitted to the township (报送)"),
                "resubmit": _l("Submitted again (重新报送)"),
                "return": _l("Returned with a note (退回)"), "accept": _l("Accepted (审核通过)"),
                "archive": _l("Archived by the county (存档)")}
#: what the review buttons say
ACTION_LABELS = {"return": _l("Return with a note"), "accept": _l("Accept"),
                 "archive": _l("Archive")}

REFUSALS = {
    "the village's secretary fills in its survey":
        _l("Only a village's secretary fills in its survey."),
    "the surveys of several villages are read by staff":
        _l("The surveys of several villages are read by township, county and city staff."),
    "check the marked answers": _l("Please correct the marked answers."),
    "answer every required field before submitting":
        _l("Answer every required field (marked *) before submitting."),
    "the survey was changed by someone else; reload and try again":
        _l("Someone else changed this survey meanwhile. Its current state is shown; what you "
           "typed is kept so you can try again."),
    "choose the surveys": _l("Tick the surveys first."),
    "enter a year": _l("Enter a year."),
}
YEAR_RANGE = re.compile(r"^the year must lie between (\d+) and (\d+)$")
STALE = re.compile(r"^the (survey|item) was changed by someone else")

#: the messages of the survey's own field codes (the rest: ``field_message``)
FIELD_CODES = {
    "not a whole number": _l("Enter a whole number, 0 or more."),
    "negative": _l("Enter 0 or more."),
    "too many decimals": _l("At most two decimal places."),
    "not yes or no": _l("Choose 是 or 否."),
    "unknown field": _l("This field is not on the form."),
    "not a list": _l("This value is not accepted."),
}
#: rows of people the form reads at most (more is refused by the service as too many)
MAX_FORM_ROWS = MAX_ROWS * 2 + 1


def explain_refusal(exc: DomainError) -> str:
    """The sentence for a refusal on the survey pages."""
    found = YEAR_RANGE.match(exc.message or "")
    if found:
        return _("The year must lie between %(a)s and %(b)s.", a=found.group(1),
                 b=found.group(2))
    if isinstance(exc, ValidationError) and set(exc.fields) == {"note"}:
        if exc.fields["note"] == "required":
            return _("Write what the village should correct.")
        return field_text("note", exc.fields["note"])
    if isinstance(exc, Conflict) and STALE.match(exc.message or ""):
        return str(REFUSALS["the survey was changed by someone else; reload and try again"])
    known = REFUSALS.get(exc.message) or MESSAGES.get(exc.message)
    return str(known) if known else explain(exc)


def _bounds(key: str) -> tuple[object, object] | None:
    field = BY_KEY.get(key.split(".")[0])
    if field is None:
        return None
    if field.type == "people":
        column = next((c for c in field.columns if c.key == key.split(".")[-1]), None)
        return (column.minimum, column.maximum) if column else None
    return field.minimum, field.maximum


def field_text(key: str, code: str) -> str:
    """The message beside one field (``committee_members.2.name`` for a cell)."""
    if code in FIELD_CODES:
        return str(FIELD_CODES[code])
    if code == "more than the total":
        whole = BY_KEY[BY_KEY[key].at_most].label if key in BY_KEY and BY_KEY[key].at_most \
            else ""
        return _("It cannot be more than “%(whole)s”.", whole=whole)
    if code == "too many rows":
        return _("At most %(n)s people.", n=MAX_ROWS)
    if code == "out of range":
        bounds = _bounds(key)
        if bounds and bounds[1] is not None:
            return _("Enter a number from %(low)s to %(high)s.", low=bounds[0],
                     high=display_cell("decimal", float(bounds[1])))
        return _("This number is too large.")
    return field_message(code)


def field_errors(exc: ValidationError) -> dict[str, str]:
    return {key: field_text(key, code) for key, code in exc.fields.items()}


def error_label(key: str) -> str:
    """Where an error is: the field's label, or for a cell ``label · row n · column``."""
    parts = key.split(".")
    field = BY_KEY.get(parts[0])
    if field is None:
        return key
    if len(parts) == 3 and parts[1].isdigit():
        column = next((c.label for c in field.columns if c.key == parts[2]), parts[2])
        return _("%(field)s, row %(n)s, %(column)s", field=field.label, n=int(parts[1]) + 1,
                 column=column)
    return field.label


# --- the form ---------------------------------------------------------------------------


def blank_row(field: Field) -> dict[str, str]:
    return {c.key: "" for c in field.columns}


def typed_from_answers(answers: dict) -> dict[str, object]:
    """The stored answers as the form shows them (strings; lists of people with one or,
    for an empty list, three blank rows to fill)."""
    typed: dict[str, object] = {}
    for field in FIELDS:
        value = answers.get(field.key)
        if field.type == "people":
            rows = [{c.key: display_cell(c.type, row.get(c.key)) for c in field.columns}
                    for row in value or []]
            typed[field.key] = rows + [blank_row(field) for _ in range(1 if rows else 3)]
        else:
            typed[field.key] = display_cell(field.type, value)
    return typed


def _count(form, key: str) -> int:
    try:
        return max(0, min(int(form.get(f"{key}-rows", "0")), MAX_FORM_ROWS))
    except ValueError:
        return 0


def values_from_form(form) -> dict[str, object]:
    """Everything the form sent, keyed as the services take it (people as lists of rows)."""
    values: dict[str, object] = {}
    for field in FIELDS:
        if field.type == "people":
            values[field.key] = [
                {c.key: form.get(f"{field.key}-{i}-{c.key}", "") for c in field.columns}
                for i in range(_count(form, field.key))]
        elif field.key in form:
            values[field.key] = form.get(field.key, "")
    return values


def change_rows(typed: dict[str, object], action: str) -> bool:
    """Apply "add:<key>" or "remove:<key>:<row>" to the typed lists; False if unknown."""
    parts = action.split(":")
    field = BY_KEY.get(parts[1]) if len(parts) > 1 else None
    if field is None or field.type != "people":
        return False
    rows = list(typed.get(field.key) or [])
    if parts[0] == "add" and len(parts) == 2:
        if len(rows) < MAX_ROWS:
            rows.append(blank_row(field))
    elif parts[0] == "remove" and len(parts) == 3 and parts[2].isdigit():
        index = int(parts[2])
        if index < len(rows):
            rows.pop(index)
    else:
        return False
    typed[field.key] = rows or [blank_row(field)]
    return True


def sections() -> list[tuple[str, str, list[Field]]]:
    return [(key, title, [f for f in FIELDS if f.section == key]) for key, title in SECTIONS]


def _common() -> dict:
    return {"status_labels": STATUS_LABELS, "status_colours": STATUS_COLOURS,
            "event_labels": EVENT_LABELS, "action_labels": ACTION_LABELS}


def render_edit(uow, actor, survey_id: object, *, typed: dict | None = None,
                errors: dict | None = None, message: str | None = None,
                version: int | None = None, unsaved: bool = False, status: int = 200):
    """The secretary's form: typed values (or the stored answers), errors beside fields."""
    survey = get_survey(uow, survey_id, actor)
    session = uow.session
    note = queries.last_return_note(session, survey) if survey.status == "returned" else None
    html = render_template(
        "survey/edit.html", survey=survey, sections=sections(),
        typed=typed if typed is not None else typed_from_answers(survey.answers or {}),
        errors=errors or {}, message=message, unsaved=unsaved,
        version=version if version is not None else survey.version,
        path=queries.village_path(session, survey), return_note=note, by_key=BY_KEY,
        max_rows=MAX_ROWS, error_label=error_label, **_common())
    return html, status


def render_view(uow, actor, survey_id: object, *, error: dict | None = None,
                status: int = 200):
    """The read-only survey: answers by section, what this user may do now, the history."""
    survey = get_survey(uow, survey_id, actor)
    session = uow.session
    events = allowed_events(survey, actor, uow.context())
    html = render_template(
        "survey/view.html", survey=survey, sections=sections(), answers=survey.answers or {},
        events=events, path=queries.village_path(session, survey),
        history=queries.history(session, survey), error=error or {},
        return_note=queries.last_return_note(session, survey), display_cell=display_cell,
        **_common())
    return html, status


def render_overview(uow, actor, year: int, *, unit: object, state: str | None, page_no: int,
                    error: dict | None = None, status: int = 200):
    """A year's list of the villages in scope and their surveys, with the review actions."""
    listing = queries.overview(uow.session, actor, year, unit_id=unit, status=state,
                               page=page_no)
    html = render_template(
        "survey/overview.html", listing=listing, year=year, state=state,
        unit_param=unit or None, error=error or {}, this_year=uow.today().year,
        reviews=actor.role == "township_staff", archives=actor.role == "county_staff",
        **_common())
    return html, status


def render_index(uow, actor, *, error: dict | None = None, status: int = 200):
    """A village secretary's surveys, and the form to open one."""
    this_year = uow.today().year
    html = render_template(
        "survey/index.html", surveys=queries.surveys_of_village(uow.session, actor),
        years=[this_year, this_year - 1], error=error or {}, **_common())
    return html, status
