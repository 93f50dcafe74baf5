"""Domain errors in the user's language.

Services raise errors with English developer messages (also used by the API);
pages show these translations instead.  ``explain(exc)`` gives the sentence for
a whole error, ``field_errors(exc)`` the message to show beside each field.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ledger.core.errors import (
    Conflict,
    DomainError,
    EvidenceRejected,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)

#: exact English messages (and guard reasons) of the ledger, translated
MESSAGES = {
    "the item is waiting for verification": _l("The item is waiting for verification."),
    "the item has not been submitted for verification":
        _l("The item has not been submitted for verification."),
    "nobody may verify their own submission": _l("Nobody may verify their own submission."),
    "only items closed as rectified can be reopened":
        _l("Only items closed as rectified can be reopened."),
    "the follow-up window has passed": _l("The follow-up window (回头看) has passed."),
    "an extension request is already pending": _l("An extension request is already pending."),
    "there is no pending extension request": _l("There is no pending extension request."),
    "an extension must be requested before the deadline":
        _l("An extension must be requested before the deadline."),
    "the deadline lies in the past": _l("The deadline lies in the past."),
    "the deadline lies more than two years ahead":
        _l("The deadline lies more than two years ahead."),
    "the new deadline must be later than the current one":
        _l("The new deadline must be later than the current one."),
    "the requested date is not later than the current deadline":
        _l("The requested date is not later than the current deadline."),
    "findings are recorded against a township or a village":
        _l("Problems are recorded against a township or a village."),
    "findings are recorded against a unit below your own":
        _l("Problems are recorded against a unit below your own."),
    "the observation is not of this unit": _l("The observation is not of this unit."),
    # ledger.supervision.acts
    "the item is already listed for supervision":
        _l("The item is already listed for supervision."),
    "the inquiry has already been answered": _l("The inquiry has already been answered."),
    "the listing is not active": _l("The listing is not active."),
    "lifting has not been requested": _l("Lifting has not been requested."),
    "nobody may approve their own request to lift a listing":
        _l("Nobody may approve their own request to lift a listing."),
    "nobody may decide their own request to lift a listing":
        _l("Nobody may approve their own request to lift a listing."),
    "the record covers items outside your area":
        _l("The record covers items outside your area."),
    "the item is closed; supervision acts no longer apply":
        _l("The item is closed (销号); supervision acts no longer apply to it."),
    "not possible in the item's current state":
        _l("This is not possible in the item's current state."),
}

#: the short codes services put in ``ValidationError.fields``
FIELD_MESSAGES = {
    "required": _l("This field is required."),
    "invalid date": _l("Enter a date like 2026-12-31."),
    "invalid deadline": _l("Enter a date (2026-12-31 or 12月31日), N days (10天 or 10d) or N "
                           "working days (10个工作日 or 10w)."),
    "in the past": _l("The deadline lies in the past."),
    "too far ahead": _l("The deadline lies more than two years ahead."),
    "invalid choice": _l("Choose from the list."),
    "not in scope": _l("Choose a township or village in your area, below your unit."),
    "not responsible for that unit":
        _l("Choose an active secretary (or, for a township, a staff member) of that unit."),
    "unknown": _l("Choose from the list."),
    "not later": _l("The new date must be later than the current deadline."),
    "wrong unit": _l("The observation is not of this unit."),
    "not a township or village": _l("Problems are recorded against a township or a village."),
    # ledger.supervision.acts
    "too long": _l("This text is too long."),
    "not in future": _l("Choose a date after today."),
    "in the future": _l("The date lies in the future."),
    "invalid datetime": _l("Enter a date and time like 2026-12-31 09:30."),
    "too many": _l("Select at most 200 items at once."),
    # ledger.calendar.bounds
    "date out of range": _l("Enter a date from 1 January 2000 to ten years from today."),
    # ledger.observations
    "not a number": _l("Enter a number."),
    "out of range": _l("Enter a number from 0 to 100."),
    "unknown result": _l("Choose 符合, 基本符合, 不符合 or 不适用."),
    "not in the checklist": _l("This standard is not on this record's checklist."),
    "already recorded": _l("This observation already has a ledger item for this standard."),
    "unknown member": _l("Choose members from the list."),
    "outside the period": _l("The date lies outside the cycle's period."),
    "not county staff of this county": _l("Choose a staff member of the township's county."),
    "in use": _l("It is used by an observation that has started."),
    "already used": _l("This name is already used."),
    "already submitted or confirmed": _l("Submitted and confirmed observations keep their "
                                         "group and date."),
}


def field_message(code: str) -> str:
    """The message beside a field for a service's field code (or the code's own text)."""
    msg = FIELD_MESSAGES.get(code) or MESSAGES.get(code)
    return str(msg) if msg else _("This value is not accepted.")


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Field name → translated message, for showing beside form fields."""
    if isinstance(exc, EvidenceRejected):
        return {name: explain(exc) for name in exc.fields}
    return {name: field_message(code) for name, code in exc.fields.items()}


def apply_field_errors(form, exc: ValidationError) -> None:
    """Put the messages of ``exc`` beside the form's fields (uploads: the ``files`` field)."""
    for name, message in field_errors(exc).items():
        target = getattr(form, "files" if name in ("file", "evidence") else name, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*list(target.errors), message]


def explain(exc: DomainError) -> str:
    """One sentence for the user about why ``exc`` happened."""
    known = MESSAGES.get(exc.message)
    if known:
        return str(known)
    if isinstance(exc, Conflict):
        return _("Someone else changed this item meanwhile. Its current state is shown below; "
                 "what you typed is kept so you can try again.")
    if isinstance(exc, NotFound):
        return _("Not found.")
    if isinstance(exc, EvidenceRejected):
        code = getattr(exc, "code", "")
        if code == "evidence_too_large":
            mb = int(exc.details.get("max_bytes", 0)) / 1024 / 1024
            return _("The file is larger than the limit of %(mb).0f MB.", mb=mb)
        if code == "evidence_empty":
            return _("The file is empty.")
        if code == "evidence_name_mismatch":
            return _("The file name ends in .%(extension)s, but the file is a .%(detected)s "
                     "file; it was not stored. Check the file, or rename it, and upload it "
                     "again.", extension=exc.details.get("extension", ""),
                     detected=exc.details.get("detected", ""))
        if code == "evidence_office_unsafe":
            return _("This Office document contains macros, programs, embedded objects or "
                     "archives, or is too large once unpacked; it was not stored. Save it "
                     "as PDF or as a plain document and upload it again.")
        return _("This type of file is not accepted; upload a photo (JPEG, PNG, GIF, WebP, "
                 "HEIC), a PDF or an Office document.")
    if isinstance(exc, PermissionDenied):
        return _("You may not do this.")
    if isinstance(exc, InvalidTransition):
        return _("This is not possible in the item's current state.")
    if isinstance(exc, ValidationError):
        if exc.message.startswith("required input is missing"):
            return _("Please fill in the required fields.")
        if len(exc.fields) == 1:
            return field_message(next(iter(exc.fields.values())))
        return _("Please correct the marked fields.")
    return _("This could not be done.")
