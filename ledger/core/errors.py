"""Domain errors raised by services; the web and API map them to HTTP answers.

Every error carries a stable machine-readable ``code`` and a human message in
English (the web layer translates by code).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of all errors a service raises on purpose."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def as_dict(self) -> dict[str, object]:
        """A structured form for the API and logs."""
        return {"error": self.code, "message": self.message, **self.details}


class NotFound(DomainError):
    """The object does not exist, or lies outside the actor's scope (never say which)."""

    code = "not_found"


class PermissionDenied(DomainError):
    """The actor sees the object but their role may not do this."""

    code = "forbidden"


class InvalidTransition(DomainError):
    """The workflow does not allow this event in the item's current state."""

    code = "invalid_transition"


class ValidationError(DomainError):
    """Input is missing or wrong; ``fields`` maps field names to messages."""

    code = "invalid"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, **kw: object):
        super().__init__(message, **kw)
        self.fields = fields or {}

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "fields": self.fields}


class Conflict(DomainError):
    """Someone else changed the object meanwhile; reload and retry."""

    code = "conflict"


class EvidenceRejected(ValidationError):
    """An uploaded file is too large, empty, or of a refused type."""

    code = "evidence_rejected"
