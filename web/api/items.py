"""Items over the API: list (filters, cursor, ``updated_since``), read, record,
fire any workflow event, evidence up and down.

Every call goes through the same ``ledger.items`` services and queries as the
pages: scope (404 outside it), roles and guards (403/409), validation (422)
and the version check (412) are theirs.
"""

from __future__ import annotations

import datetime as dt
import inspect

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from ledger.core.errors import Conflict, DomainError, NotFound, ValidationError
from ledger.core.evidence import KEPT_MAX_AGE
from ledger.core.models import Evidence, ItemEvent, User
from ledger.items import services as svc
from ledger.items.queries import (
    ItemFilter,
    default_responsible,
    evidence_for_download,
    get_item,
    item_rows,
    items_after,
)
from web.api import schemas as s
from web.api.auth import actor, caller
from web.api.etag import ETAG_HEADER, IF_MATCH, etag, expected_version, stale
from web.api.paging import aware, decode_id, decode_key, encode_id, encode_key
from web.core.extensions import sanhu
from web.core.files import send_private
from web.core.uploads import keep, kept_files

blp = Blueprint("api_items", __name__, url_prefix="/api/v1",
                description="Ledger items (台账): read, record, and the workflow events")

#: the service inputs each event accepts, read from the services' signatures
EVENT_INPUTS: dict[str, frozenset[str]] = {
    event: frozenset(name for name, p in inspect.signature(fn).parameters.items()
                     if p.kind is p.KEYWORD_ONLY and name != "expected_version")
    for event, fn in svc.EVENT_SERVICES.items()
}
#: the inputs each event cannot do without (keyword-only, no default)
EVENT_REQUIRED: dict[str, frozenset[str]] = {
    event: frozenset(name for name, p in inspect.signature(fn).parameters.items()
                     if p.kind is p.KEYWORD_ONLY and p.default is p.empty)
    for event, fn in svc.EVENT_SERVICES.items()
}


# --- representations -----------------------------------------------------------------


def _summary(row: dict) -> dict:
    return {**row, "unit": {"id": row["unit_id"], "name": row["unit_name"]},
            "updated_at": aware(row["updated_at"])}


def item_body(uow, item_id: int) -> dict:
    """The item as the API shows it: its row, history, evidence and what the caller may do."""
    who = actor()
    session = uow.session
    item = get_item(session, who, item_id)
    app = sanhu()
    row = item_rows(session, [item.id], uow.today(), app.settings.warning_days)[0]
    events = list(session.scalars(select(ItemEvent).where(ItemEvent.item_id == item.id)
                                  .order_by(ItemEvent.seq)))
    files = list(session.scalars(select(Evidence).where(Evidence.item_id == item.id)
                                 .order_by(Evidence.id)))
    people = {h.actor_id for h in events} | {e.uploaded_by_id for e in files}
    names = {row.id: (row.display_name, row.role) for row in session.execute(
        select(User.id, User.display_name, User.role).where(User.id.in_(people)))}

    def user_ref(user_id: int, role: str | None = None) -> dict:
        name, own_role = names.get(user_id, ("", None))
        return {"id": user_id, "name": name, "role": role or own_role}

    history = [{"seq": h.seq, "event": h.event, "from_status": h.from_status,
                "to_status": h.to_status, "actor": user_ref(h.actor_id, h.actor_role),
                "at": aware(h.at), "note": h.note, "changes": h.changes}
               for h in events]
    seqs = {h.id: h.seq for h in events}
    evidence = [{"id": e.id, "name": e.original_name, "mime": e.mime, "size": e.size,
                 "kind": e.kind, "sha256": e.sha256, "history_seq": seqs.get(e.event_id),
                 "uploaded_by": user_ref(e.uploaded_by_id), "uploaded_at": aware(e.uploaded_at),
                 "download": url_for("api_items.EvidenceFile", evidence_id=e.id)}
                for e in files]
    return {
        **_summary(row),
        "source": item.source, "severity": item.severity, "measures": item.measures,
        "responsible_user_id": item.responsible_user_id,
        "observation_id": item.observation_id, "resolution": item.resolution,
        "extension_count": item.extension_count, "pending_extension": item.pending_extension,
        "supervision": item.supervision, "created_at": aware(item.created_at),
        "verified_at": aware(item.verified_at), "closed_at": aware(item.closed_at),
        "events": svc.available_events(uow, item.id, who),
        "history": history, "evidence": evidence,
    }


def _with_etag(body: dict, status: int = 200, headers: dict | None = None):
    return body, status, {"ETag": etag(body["version"]), **(headers or {})}


def _standard_category(raw: str | None) -> dict:
    """``basic-3`` → category 3 of the basic standards (as the ledger list reads it)."""
    if not raw:
        return {}
    set_, _, number = raw.partition("-")
    return {"standard_set": set_, "standard_category": int(number)}


# --- cursors ---------------------------------------------------------------------------


def _encode_cursor(key: tuple) -> str:
    """``(id,)`` or ``(updated_at, id)``, as ``items_after`` keys its pages."""
    return encode_key([key[0].isoformat(), key[1]]) if len(key) == 2 else encode_id(key[0])


def _stamp_and_id(raw) -> tuple:
    stamp, last_id = raw
    return dt.datetime.fromisoformat(stamp).astimezone(dt.UTC), int(last_id)


def _decode_cursor(cursor: str, by_update: bool) -> tuple:
    return decode_key(cursor, _stamp_and_id) if by_update else (decode_id(cursor),)


# --- views ---------------------------------------------------------------------------------


@blp.route("/items")
class Items(MethodView):
    @blp.arguments(s.ItemListArgs, location="query")
    @blp.response(200, s.ItemList)
    def get(self, args):
        """List the items in your area: the ledger list's filters, cursor pages.

        With ``updated_since`` only items changed since then come, oldest change
        first: remember the time you pulled and pass it next time (overlap by a
        few minutes to be safe; an item appears again only if it changed again)."""
        since = args.get("updated_since")
        flt = ItemFilter(status=args.get("status"), unit_id=args.get("unit"),
                         cycle_id=args.get("cycle"), standard_id=args.get("standard"),
                         category=args.get("category"), overdue=args.get("overdue"),
                         light=args.get("light"), outcome=args.get("outcome"),
                         responsible_user_id=args.get("responsible_user"),
                         found_month=args.get("found_month"),
                         closed_month=args.get("closed_month"),
                         text=args.get("q"), **_standard_category(args.get("standard_category")))
        after = _decode_cursor(args["cursor"], since is not None) if args.get("cursor") else None
        app = sanhu()
        with app.uow() as uow:
            rows, last = items_after(uow.session, actor(), flt, today=uow.today(),
                                     limit=args["limit"], after=after, updated_since=since,
                                     warning_days=app.settings.warning_days)
        return {"items": [_summary(r) for r in rows],
                "next_cursor": _encode_cursor(last) if last else None}

    @blp.arguments(s.RecordInput)
    @blp.response(201, s.Item, headers=ETAG_HEADER)
    @blp.alt_response(200, schema=s.Item, headers=ETAG_HEADER,
                      description="Sent before with this idempotency_key: the item it recorded")
    def post(self, data):
        """Record a problem (登记) against a township or village below you.

        ``idempotency_key`` makes a retry safe: the same key again answers with
        the item it recorded (200) instead of a second problem."""
        with sanhu().uow() as uow:
            result = svc.record_finding(
                uow, actor(), unit_id=data["unit_id"], description=data["description"],
                standard_id=data.get("standard_id"), cycle_id=data.get("cycle_id"),
                default_cycle=data.get("cycle_id") is None, source=data["source"],
                severity=data["severity"], form_token=data.get("idempotency_key"))
            body = item_body(uow, result.id)
        location = url_for("api_items.Item", item_id=result.id)
        return _with_etag(body, 200 if result.existing else 201, {"Location": location})


@blp.route("/items/<int:item_id>")
class Item(MethodView):
    @blp.response(200, s.Item, headers=ETAG_HEADER)
    def get(self, item_id: int):
        """One item with its history, evidence and the events you may fire now."""
        with sanhu().uow() as uow:
            return _with_etag(item_body(uow, item_id))


@blp.route("/items/<int:item_id>/events")
class ItemEvents(MethodView):
    @blp.response(200, s.AvailableEvents, headers=ETAG_HEADER)
    def get(self, item_id: int):
        """The workflow events you may fire on this item now."""
        with sanhu().uow() as uow:
            item = get_item(uow.session, actor(), item_id)
            body = {"item_id": item.id, "version": item.version,
                    "events": svc.available_events(uow, item.id, actor())}
        return _with_etag(body)


@blp.route("/items/<int:item_id>/events/<event>", parameters=[
    {"in": "path", "name": "event", "required": True,
     "description": "A workflow event (GET /api/v1/items/{item_id}/events lists yours)",
     "schema": {"type": "string", "enum": sorted(EVENT_INPUTS)}}])
class FireEvent(MethodView):
    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(s.EventInput)
    @blp.response(200, s.Item, headers=ETAG_HEADER)
    @blp.alt_response(412, schema=s.Problem, content_type="application/problem+json",
                      description="Stale If-Match: the current item is in ``current``")
    @blp.alt_response(428, schema=s.Problem, content_type="application/problem+json",
                      description="If-Match is missing")
    def post(self, data, item_id: int, event: str):
        """Fire a workflow event (交办, 签收, 申请销号, 验收, 退回, 销号 …) with the inputs
        its form asks for; ``If-Match`` carries the version you read."""
        if event not in EVENT_INPUTS:
            raise NotFound("no such event")
        who = actor()
        with sanhu().uow() as uow:
            item = get_item(uow.session, who, item_id)  # 404 outside the scope, first
            version, refusal = expected_version()
            if refusal is not None:
                return refusal
            if item.version != version:  # the client decided on a state that is gone
                body = item_body(uow, item_id)
                return stale(s.Item().dump(body), body["version"])
            svc.check_event(uow, item_id, who, event)
            kwargs = _event_kwargs(uow, event, data, item_id)
            try:
                svc.EVENT_SERVICES[event](uow, item_id, who, expected_version=version,
                                          **kwargs)
            except Conflict:
                uow.rollback()
                body = item_body(uow, item_id)
                return stale(s.Item().dump(body), body["version"])
            except DomainError:
                uow.rollback()
                raise
            return _with_etag(item_body(uow, item_id))


def _event_kwargs(uow, event: str, data: dict, item_id: int) -> dict:
    """The service's keyword arguments from the request, refusing inputs it does not take."""
    accepted = EVENT_INPUTS[event]
    extra = sorted(k for k in data if k not in accepted and k != "uploads")
    if extra or ("uploads" in data and "uploads" not in accepted):
        unused = extra + (["uploads"] if "uploads" in data and "uploads" not in accepted else [])
        raise ValidationError(f"{event} does not take these inputs",
                              fields={k: "not_used_by_this_event" for k in unused})
    kwargs = {k: (v.strip() or None) if isinstance(v, str) else v
              for k, v in data.items() if k != "uploads"}
    if "uploads" in accepted:
        missing: list[str] = []
        staged = kept_files(uow, data.get("uploads", []), caller().user.id, missing)
        if missing:
            raise ValidationError("an upload token is unknown, expired or not yours",
                                  fields={"uploads": "unknown_upload"})
        kwargs["uploads"] = [svc.Upload(f, f.name) for f in staged]
    if event == "reassign" and not kwargs.get("responsible_user_id"):
        item = get_item(uow.session, actor(), item_id)
        person = default_responsible(uow.session, actor(), kwargs.get("unit_id") or item.unit_id)
        kwargs["responsible_user_id"] = person.id if person else None
    missing = sorted(EVENT_REQUIRED[event] - kwargs.keys())
    if missing:  # the services would fail on a call without them: say which are needed
        raise ValidationError(f"{event} needs these inputs",
                              fields={k: "required" for k in missing})
    return kwargs


@blp.route("/uploads")
class Uploads(MethodView):
    @blp.arguments(s.UploadInput, location="files")
    @blp.response(201, s.UploadResult)
    def post(self, files):
        """Upload one file (photo, PDF, Office document) for a later event's ``uploads``.

        The file is checked by content and size now and kept for a day; it enters
        the item's evidence only when the event is accepted."""
        storage = files["file"]
        with sanhu().uow() as uow:
            staged = uow.evidence.stage(storage.stream, storage.filename or "upload")
            kept = keep(uow, staged, caller().user.id)
        return {"upload": kept.token, "name": kept.name, "size": kept.size, "mime": kept.mime,
                "expires_in_seconds": int(KEPT_MAX_AGE.total_seconds())}, 201


@blp.route("/evidence/<int:evidence_id>")
class EvidenceFile(MethodView):
    @blp.response(200, content_type="application/octet-stream",
                  description="The file, as uploaded (its detected type)")
    def get(self, evidence_id: int):
        """Download an evidence file (only of items in your area)."""
        with sanhu().uow() as uow:
            ev = evidence_for_download(uow.session, actor(), evidence_id)
            path = uow.evidence.path_for(ev.sha256)
            mime, name = ev.mime, ev.original_name
        return send_private(path, mime, name)

