"""The API's marshmallow schemas: they validate requests, serialise responses and
generate the OpenAPI document (one definition each)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields as f
from marshmallow import validate as v

from ledger.items.queries import OUTCOMES, STATUSES
from ledger.items.services import CATEGORIES, DISMISS_REASONS, SEVERITIES, SOURCES
from ledger.items.workflow import EVENTS

STRICT = {"unknown": ma.RAISE}


class Problem(ma.Schema):
    """An error, RFC 9457 problem details."""

    type = f.String(required=True, metadata={"description": "A stable URI per kind of error"})
    title = f.String(required=True)
    status = f.Integer(required=True)
    detail = f.String()
    instance = f.String()
    code = f.String(metadata={"description": "The domain error's code"})
    errors = f.Dict(keys=f.String(), values=f.List(f.String()),
                    metadata={"description": "Field → messages (validation)"})
    current = f.Dict(metadata={"description": "The current representation (412)"})


class Ref(ma.Schema):
    id = f.Integer(required=True)
    name = f.String(required=True)


class UserRef(ma.Schema):
    id = f.Integer(required=True)
    name = f.String(required=True)
    role = f.String()


class CursorPage(ma.Schema):
    next_cursor = f.String(allow_none=True, required=True,
                           metadata={"description": "Pass as ``cursor`` for the next page; "
                                                    "null on the last page"})


# --- items ---------------------------------------------------------------------------


class ItemListArgs(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    status = f.String(validate=v.OneOf(STATUSES))
    unit = f.Integer(validate=v.Range(min=1, max=2**31 - 1),
                     metadata={"description": "Only items of this unit's subtree"})
    cycle = f.Integer(validate=v.Range(min=1, max=2**31 - 1))
    standard = f.Integer(validate=v.Range(min=1, max=2**31 - 1))
    category = f.String(validate=v.OneOf(CATEGORIES))
    overdue = f.Boolean()
    light = f.String(validate=v.OneOf(("red", "yellow", "green")))
    outcome = f.String(validate=v.OneOf(OUTCOMES))
    standard_category = f.String(
        validate=v.Regexp(r"^(basic|demonstration)-[1-9][0-9]?$"),
        metadata={"description": "One category of one set of standards, e.g. basic-3"})
    found_month = f.String(validate=v.Regexp(r"^[0-9]{4}-(0[1-9]|1[0-2])$"),
                           metadata={"description": "Recorded in this month, e.g. 2026-11"})
    closed_month = f.String(validate=v.Regexp(r"^[0-9]{4}-(0[1-9]|1[0-2])$"),
                            metadata={"description": "Closed in this month, e.g. 2026-11"})
    responsible_user = f.Integer(validate=v.Range(min=1, max=2**31 - 1))
    q = f.String(validate=v.Length(max=100), metadata={"description": "Text search"})
    updated_since = f.AwareDateTime(
        metadata={"description": "Only items changed at or after this instant (ISO 8601 "
                                 "with zone); results then come oldest change first"})
    limit = f.Integer(load_default=50, validate=v.Range(min=1, max=500))
    cursor = f.String(validate=v.Length(max=200))


class ItemSummary(ma.Schema):
    id = f.Integer(required=True)
    number = f.String(required=True)
    status = f.String(required=True, metadata={"description": "state, with rectifying split "
                                                               "into rectifying/submitted"})
    state = f.String(required=True)
    unit = f.Nested(Ref, required=True)
    description = f.String(required=True)
    responsible_person = f.String(allow_none=True)
    category = f.String(allow_none=True)
    deadline = f.Date(allow_none=True)
    deadline_provisional = f.Boolean()
    overdue = f.Boolean(required=True)
    days_overdue = f.Integer(allow_none=True)
    workdays_overdue = f.Integer(allow_none=True)
    light = f.String(allow_none=True)
    rejection_count = f.Integer()
    cycle_id = f.Integer(allow_none=True)
    standard_id = f.Integer(allow_none=True)
    version = f.Integer(required=True)
    updated_at = f.AwareDateTime(required=True)


class ItemList(CursorPage):
    items = f.List(f.Nested(ItemSummary), required=True)


class HistoryEntry(ma.Schema):
    seq = f.Integer(required=True)
    event = f.String(required=True)
    from_status = f.String(allow_none=True)
    to_status = f.String(required=True)
    actor = f.Nested(UserRef, required=True)
    at = f.AwareDateTime(required=True)
    note = f.String(allow_none=True)
    changes = f.Dict(allow_none=True)


class EvidenceMeta(ma.Schema):
    id = f.Integer(required=True)
    name = f.String(required=True)
    mime = f.String(required=True)
    size = f.Integer(required=True)
    kind = f.String(required=True)
    sha256 = f.String(required=True)
    history_seq = f.Integer(allow_none=True)
    uploaded_by = f.Nested(UserRef, required=True)
    uploaded_at = f.AwareDateTime(required=True)
    download = f.String(required=True, metadata={"description": "URL of the file"})


class Item(ItemSummary):
    source = f.String(required=True)
    severity = f.String(required=True)
    measures = f.String(allow_none=True)
    responsible_user_id = f.Integer(allow_none=True)
    observation_id = f.Integer(allow_none=True)
    resolution = f.String(allow_none=True)
    extension_count = f.Integer()
    pending_extension = f.Dict(allow_none=True)
    supervision = f.Dict(allow_none=True)
    created_at = f.AwareDateTime(required=True)
    verified_at = f.AwareDateTime(allow_none=True)
    closed_at = f.AwareDateTime(allow_none=True)
    events = f.List(f.String(), required=True,
                    metadata={"description": "The events you may fire now"})
    history = f.List(f.Nested(HistoryEntry), required=True)
    evidence = f.List(f.Nested(EvidenceMeta), required=True)


class RecordInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    unit_id = f.Integer(required=True, validate=v.Range(min=1, max=2**31 - 1))
    description = f.String(required=True, validate=v.Length(min=1, max=4000))
    standard_id = f.Integer(allow_none=True, validate=v.Range(min=1, max=2**31 - 1))
    cycle_id = f.Integer(allow_none=True, validate=v.Range(min=1, max=2**31 - 1),
                         metadata={"description": "Default: the open cycle of the unit's kind"})
    source = f.String(load_default="observation",
                      validate=v.OneOf([s for s in SOURCES if s != "rectification"]))
    severity = f.String(load_default="normal", validate=v.OneOf(SEVERITIES))
    idempotency_key = f.String(
        validate=v.Regexp(r"^[A-Za-z0-9_-]{16,64}$"),
        metadata={"description": "Sending the same key again returns the item it recorded"})


class EventInput(ma.Schema):
    """The inputs of a workflow event, as its form on the item page asks for them.

    Which fields an event needs is in ``GET /api/v1/workflow``; unknown fields are
    refused."""

    class Meta:
        unknown = ma.RAISE

    responsible_user_id = f.Integer(allow_none=True, validate=v.Range(min=1, max=2**31 - 1))
    unit_id = f.Integer(allow_none=True, validate=v.Range(min=1, max=2**31 - 1))
    category = f.String(validate=v.OneOf(CATEGORIES))
    deadline = f.String(validate=v.Length(min=1, max=20),
                        metadata={"description": "2026-12-31, 12月31日, 10天, 10个工作日, 5w …"})
    note = f.String(allow_none=True, validate=v.Length(max=4000))
    reason = f.String(validate=v.Length(min=1, max=4000))
    measures = f.String(validate=v.Length(min=1, max=4000))
    method = f.String(validate=v.Length(min=1, max=100))
    kind = f.String(validate=v.OneOf(DISMISS_REASONS))
    uploads = f.List(f.String(validate=v.Length(max=1000)), validate=v.Length(max=20),
                     metadata={"description": "Tokens from POST /api/v1/uploads"})


class EventPath(ma.Schema):
    event = f.String(validate=v.OneOf(EVENTS))


class AvailableEvents(ma.Schema):
    item_id = f.Integer(required=True)
    version = f.Integer(required=True)
    events = f.List(f.String(), required=True)


class UploadInput(ma.Schema):
    file = f.Raw(required=True, metadata={"type": "string", "format": "binary"})


class UploadResult(ma.Schema):
    upload = f.String(required=True, metadata={"description": "Pass in an event's uploads"})
    name = f.String(required=True)
    size = f.Integer(required=True)
    mime = f.String(required=True)
    expires_in_seconds = f.Integer(required=True)
