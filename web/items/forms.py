"""The forms of the item page: one form per workflow event, plus recording a problem.

Which forms a user sees comes from ``ledger.items.services.available_events`` (the
workflow table); this module only says what each event's form asks for.  A test
checks that every event of ``ledger.items.workflow.RULES`` has a form here.
"""

from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from ledger.items.services import CATEGORIES, DISMISS_REASONS, SEVERITIES, SOURCES
from web.core.labels import (
    CATEGORY_LABELS,
    DEADLINE_HELP,
    METHODS,
    SEVERITY_LABELS,
    SOURCE_LABELS,
)
from web.core.text_limits import limited, one_line_break

REQUIRED = _l("This field is required.")

DISMISS_LABELS = {"duplicate": _l("Duplicate"), "not_a_problem": _l("Not a problem"),
                  "other": _l("Other reason")}


def _choices(values, labels) -> list[SelectChoice]:
    return [SelectChoice(v, labels[v]) for v in values]


def _text(label, required=True, max_length=4000):
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    return TextAreaField(label, validators=[*validators, limited(max_length)],
                         filters=[one_line_break])


def _deadline(required=True):
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    return StringField(_l("Deadline (整改时限)"), validators=[*validators, limited(20)],
                       description=DEADLINE_HELP)


class EventForm(FlaskForm):
    """Every event form carries the version the user saw (optimistic locking)."""

    expected_version = HiddenField()
    #: the service keyword arguments this form fills, other than uploads
    service_fields: tuple[str, ...] = ()
    #: the form field holding uploads, if any
    upload_field: str | None = None
    uploads_required = False

    def service_kwargs(self) -> dict:
        kwargs = {}
        for name in self.service_fields:
            value = getattr(self, name).data
            if isinstance(value, str):
                value = value.strip() or None
            kwargs[name] = value
        return kwargs


class AssignForm(EventForm):
    responsible_user_id = SelectField(_l("Responsible person (责任人)"), coerce=int,
                                      validators=[DataRequired(REQUIRED)])
    category = SelectField(_l("Category (整改类别)"), choices=_choices(CATEGORIES, CATEGORY_LABELS),
                           default="deadline")
    deadline = _deadline()
    note = _text(_l("Note"), required=False)
    service_fields = ("responsible_user_id", "category", "deadline", "note")


class ReassignForm(EventForm):
    unit_id = SelectField(_l("Responsible unit (责任单位)"), coerce=int)
    responsible_user_id = SelectField(_l("Responsible person (责任人)"), coerce=int,
                                      validators=[Optional()],
                                      description=_l("Leave empty to take the secretary of the "
                                                     "chosen unit."))
    deadline = _deadline(required=False)
    reason = _text(_l("Reason"))
    service_fields = ("unit_id", "responsible_user_id", "deadline", "reason")


class AcceptForm(EventForm):
    measures = _text(_l("Measures (整改措施)"))
    service_fields = ("measures",)


class ProgressForm(EventForm):
    note = _text(_l("Progress note"))
    files = MultipleFileField(_l("Photos or documents"))
    service_fields = ("note",)
    upload_field = "files"


class SubmitForm(EventForm):
    note = _text(_l("What was done (completion note)"))
    files = MultipleFileField(_l("Evidence (佐证材料): photos or documents"),
                              description=_l("At least one file, e.g. before and after photos."))
    service_fields = ("note",)
    upload_field = "files"
    uploads_required = True


class VerifyForm(EventForm):
    method = SelectField(_l("How it was checked"), choices=_choices(METHODS, METHODS))
    note = _text(_l("Verification note"))
    service_fields = ("method", "note")

    def service_kwargs(self) -> dict:
        # the history keeps the method in words, in the verifier's language
        return {**super().service_kwargs(), "method": str(METHODS[self.method.data])}


class RejectForm(EventForm):
    reason = _text(_l("Reason for sending it back"))
    service_fields = ("reason",)


class CloseForm(EventForm):
    note = _text(_l("Note"), required=False)
    service_fields = ("note",)


class ReopenForm(EventForm):
    reason = _text(_l("Reason (回头看 finding)"))
    deadline = _deadline(required=False)
    service_fields = ("reason", "deadline")


class RequestExtensionForm(EventForm):
    deadline = DateField(_l("New deadline"), validators=[DataRequired(REQUIRED)])
    reason = _text(_l("Reason"))
    service_fields = ("deadline", "reason")


class ApproveExtensionForm(EventForm):
    note = _text(_l("Note"), required=False)
    service_fields = ("note",)


class DenyExtensionForm(EventForm):
    reason = _text(_l("Reason"))
    service_fields = ("reason",)


class DismissForm(EventForm):
    kind = SelectField(_l("Why"), choices=_choices(DISMISS_REASONS, DISMISS_LABELS))
    reason = _text(_l("Explanation"))
    service_fields = ("kind", "reason")


#: the form of each workflow event
EVENT_FORMS: dict[str, type[EventForm]] = {
    "assign": AssignForm, "reassign": ReassignForm, "accept": AcceptForm,
    "report_progress": ProgressForm, "submit": SubmitForm, "verify": VerifyForm,
    "reject": RejectForm, "close": CloseForm, "reopen": ReopenForm,
    "request_extension": RequestExtensionForm, "approve_extension": ApproveExtensionForm,
    "deny_extension": DenyExtensionForm, "dismiss": DismissForm,
}

#: the button and heading of each event, in the user's language
EVENT_LABELS = {
    "record": _l("Recorded (登记)"), "import": _l("Imported from a ledger sheet (导入台账)"),
    "settle_deadline": _l("Deadline settled by the official holiday schedule"),
    "assign": _l("Assign (交办)"), "reassign": _l("Reassign (改派)"),
    "accept": _l("Accept (签收)"), "report_progress": _l("Report progress (报告进展)"),
    "submit": _l("Submit as resolved (申请销号)"), "verify": _l("Verify (验收通过)"),
    "reject": _l("Send back (退回)"), "close": _l("Close (销号)"),
    "reopen": _l("Reopen (回头看)"), "request_extension": _l("Request an extension (申请延期)"),
    "approve_extension": _l("Approve the extension (批准延期)"),
    "deny_extension": _l("Deny the extension (驳回延期)"), "dismiss": _l("Dismiss (撤销)"),
    "urge": _l("Urged (催办)"), "interview": _l("Interview (约谈)"),
    "inquiry": _l("Written inquiry (函询)"), "inquiry_reply": _l("Inquiry answered (函询回复)"),
    "listing": _l("Listed for supervision (挂牌督办)"),
    "lift_requested": _l("Lifting requested (申请摘牌)"),
    "listing_lifted": _l("Listing lifted (摘牌)"), "lift_denied": _l("Lifting denied (驳回摘牌)"),
    "notice": _l("Named in a notice (通报)"),
}


class RecordForm(FlaskForm):
    """Record a problem against a unit and a standard, optionally assigning it at once."""

    unit_id = SelectField(_l("Unit (township or village)"), coerce=int,
                          validators=[DataRequired(REQUIRED)])
    standard_id = SelectField(_l("Standard (对应标准)"), coerce=int, validators=[Optional()])
    cycle_id = SelectField(_l("Observation cycle"), coerce=int, validators=[Optional()])
    source = SelectField(_l("Source (问题来源)"), choices=_choices(
        [s for s in SOURCES if s != "rectification"], SOURCE_LABELS))  # 整顿: from a plan only
    severity = SelectField(_l("Severity"), choices=_choices(SEVERITIES, SEVERITY_LABELS),
                           default="normal")
    description = _text(_l("Problem (问题描述)"))
    # optional: assign right away to the unit's responsible person
    category = SelectField(_l("Category (整改类别)"),
                           choices=[SelectChoice("", _l("— assign later —")),
                                    *_choices(CATEGORIES, CATEGORY_LABELS)],
                           validators=[Optional()])
    deadline = _deadline(required=False)
    #: one-time token, new on every rendered form: a repeated post finds the first item
    form_token = HiddenField()

    def give_token(self) -> None:
        """A fresh token for a form that has none yet (a first visit, or an old client)."""
        if not self.form_token.data:
            self.form_token.data = secrets.token_urlsafe(24)
