"""The overdue board (督办) and the supervision records over the API, and the acts.

The same ``ledger.supervision`` functions as the board's pages: the board for
the roles that see it (others 403; a unit outside the caller's area 404), the
records the caller sees with the pages' privacy rules (whoever sees only some
of an act's items reads its kind, dates and terms and their own items, not its
free texts: ``complete`` is false then), and the acts with their role rules.

An act on an item (催办, 约谈, 函询, 挂牌督办, 通报) changes the item's version, so it
needs ``If-Match`` with the item's ETag (428 without, 412 with the current item
when stale), exactly like the item's workflow events.  The changes of a record
(an inquiry's reply, asking for and deciding the lifting of a listing) are
guarded by the record's status instead: a reply to an answered inquiry, or a
decision on a lifting nobody asked for, answers 409.
"""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields as f
from marshmallow import validate as v
from sqlalchemy import select

from ledger.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from ledger.core.models import Item
from ledger.items.queries import get_item, unit_path
from ledger.supervision import acts as sup
from ledger.supervision import board as sup_board
from web.api import schemas as s
from web.api.auth import actor
from web.api.errors import problem
from web.api.etag import ETAG_HEADER, IF_MATCH, etag, expected_version, stale
from web.api.items import _summary, item_body
from web.api.paging import aware
from web.core.extensions import sanhu

blp = Blueprint("api_supervision", __name__, url_prefix="/api/v1",
                description="The overdue board (督办), supervision records and acts")

ID = v.Range(min=1, max=2**31 - 1)
PROBLEM = {"schema": s.Problem, "content_type": "application/problem+json"}


# --- schemas -------------------------------------------------------------------------


class BoardArgs(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    unit = f.Integer(validate=ID, metadata={"description": "Only this unit's subtree"})
    min_days = f.Integer(validate=v.Range(min=1, max=3660))
    min_workdays = f.Integer(validate=v.Range(min=1, max=2500))
    min_rejections = f.Integer(validate=v.Range(min=1, max=9999))
    repeat = f.Boolean(load_default=False, metadata={"description": "Repeat findings only"})
    listed = f.Boolean(load_default=False, metadata={"description": "Listed (挂牌) only"})
    lagging = f.Boolean(load_default=False,
                        metadata={"description": "Units 后进 in their last cycles only"})
    sort = f.String(load_default="days_overdue", validate=v.OneOf(sup_board.BOARD_SORTS))
    page = f.Integer(load_default=1, validate=v.Range(min=1, max=100000))
    per_page = f.Integer(load_default=50, validate=v.Range(min=1, max=200))


class BoardRow(s.ItemSummary):
    unit_path = f.List(f.String(), required=True)
    repeat = f.Boolean(required=True)
    lagging = f.Boolean(required=True)
    weak = f.Boolean(required=True, metadata={"description": "The unit is recognised 软弱涣散"})
    marks = f.Dict(required=True, metadata={"description": "What supervision did so far"})
    suggestions = f.List(f.String(), required=True,
                         metadata={"description": "The rungs of the ladder it is due for"})


class Board(ma.Schema):
    items = f.List(f.Nested(BoardRow), required=True)
    page = f.Integer(required=True)
    per_page = f.Integer(required=True)
    total = f.Integer(required=True)
    total_capped = f.Boolean(required=True, metadata={"description": "The total is a floor"})
    thresholds = f.Dict(keys=f.String(), values=f.Integer(), required=True)
    actions = f.List(f.String(), required=True, metadata={"description": "Acts you may do"})


class RecordListArgs(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    kind = f.String(validate=v.OneOf(sup.RECORD_KINDS))
    status = f.String(validate=v.OneOf(("open", "replied", "active", "lift_requested",
                                        "lifted")))
    item = f.Integer(validate=ID, metadata={"description": "Only records of this item"})
    limit = f.Integer(load_default=50, validate=v.Range(min=1, max=500))
    cursor = f.String(validate=v.Regexp(r"^[0-9]{1,12}$"))


class Record(ma.Schema):
    id = f.Integer(required=True)
    kind = f.String(required=True)
    status = f.String(allow_none=True, required=True)
    unit_id = f.Integer(required=True)
    created_by = f.Nested(s.UserRef, required=True)
    created_at = f.AwareDateTime(required=True)
    complete = f.Boolean(required=True, metadata={
        "description": "You see every item of the act, so you read all its details"})
    details = f.Dict(required=True)
    item_ids = f.List(f.Integer(), required=True, metadata={"description": "Those you see"})
    changes = f.List(f.String(), required=True,
                     metadata={"description": "The changes you may make now"})


class RecordList(s.CursorPage):
    records = f.List(f.Nested(Record), required=True)


class ActInput(ma.Schema):
    """The inputs of an act, as its form on the board asks for them; fields the act
    does not take are refused."""

    class Meta:
        unknown = ma.RAISE

    note = f.String(allow_none=True, validate=v.Length(max=2000))
    confirm = f.Boolean(metadata={"description": "催办: urge again an item urged in the "
                                                 "last days"})
    held_at = f.String(validate=v.Length(min=1, max=30), metadata={
        "description": "约谈: local time, 2026-12-01T09:30"})
    place = f.String(validate=v.Length(max=200))
    interviewer = f.String(validate=v.Length(max=200))
    interviewee = f.String(validate=v.Length(max=200))
    interviewee_post = f.String(validate=v.Length(max=200))
    reason = f.String(validate=v.Length(max=2000))
    minutes = f.String(allow_none=True, validate=v.Length(max=10000))
    outcome = f.String(allow_none=True, validate=v.Length(max=2000))
    follow_up_deadline = f.Date(allow_none=True)
    question = f.String(validate=v.Length(max=4000))
    reply_due = f.Date(allow_none=True)
    term_until = f.Date()
    title = f.String(validate=v.Length(max=200))
    body = f.String(validate=v.Length(max=20000))


#: the inputs each act takes
ACT_INPUTS: dict[str, frozenset[str]] = {
    "urge": frozenset({"note", "confirm"}),
    "interview": frozenset({"held_at", "place", "interviewer", "interviewee",
                            "interviewee_post", "reason", "minutes", "outcome",
                            "follow_up_deadline"}),
    "inquiry": frozenset({"question", "reply_due"}),
    "listing": frozenset({"reason", "term_until"}),
    "notice": frozenset({"title", "body"}),
}
ACT_SERVICES = {"urge": sup.urge, "interview": sup.record_interview,
                "inquiry": sup.record_inquiry, "listing": sup.place_listing,
                "notice": sup.issue_notice}


class ActResult(ma.Schema):
    action = f.String(required=True)
    record_id = f.Integer(allow_none=True, required=True)
    notice_id = f.Integer(allow_none=True, required=True)
    number = f.String(allow_none=True, required=True,
                      metadata={"description": "The notice's number (通报)"})
    item = f.Nested(s.Item, required=True)


class ChangeInput(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    reply = f.String(validate=v.Length(max=10000))
    replied_by = f.String(validate=v.Length(max=200))
    replied_at = f.Date(allow_none=True)
    reason = f.String(validate=v.Length(max=2000))
    note = f.String(allow_none=True, validate=v.Length(max=2000))


#: each record change: the role rule it needs, its inputs and its service
RECORD_CHANGES = {
    "reply": ("inquiry_reply", frozenset({"reply", "replied_by", "replied_at"}),
              sup.record_inquiry_reply),
    "lift_request": ("request_lift", frozenset({"reason"}), sup.request_lift),
    "lift_approve": ("approve_lift", frozenset({"note"}), sup.approve_lift),
    "lift_deny": ("deny_lift", frozenset({"reason"}), sup.deny_lift),
}


# --- helpers -------------------------------------------------------------------------


def _record_body(session, view: sup_board.RecordView) -> dict:
    record = view.record
    who = sup_board.people(session, [record.created_by_id]).get(record.created_by_id)
    return {"id": record.id, "kind": record.kind, "status": record.status,
            "unit_id": record.unit_id,
            "created_by": {"id": record.created_by_id, "name": who.display_name if who else "",
                           "role": who.role if who else None},
            "created_at": aware(record.created_at), "complete": view.complete,
            "details": view.details, "item_ids": view.item_ids,
            "changes": sup.record_changes(record, actor()) if view.complete else []}


def _only(accepted: frozenset[str], data: dict, what: str) -> dict:
    """Every input the act takes (others refused, 422); dates as ISO text."""
    extra = sorted(k for k in data if k not in accepted)
    if extra:
        raise ValidationError(f"{what} does not take these inputs",
                              fields={k: "not_used_by_this_act" for k in extra})
    given = {k: data.get(k) for k in accepted}  # a missing required one: the service says so
    return {k: val.isoformat() if isinstance(val, dt.date) else val for k, val in given.items()}


def _recently_urged(exc: sup.RecentlyUrged):
    return problem("conflict", "The item was urged recently; send confirm: true to urge it "
                   "again.", code=exc.code,
                   urged=[{"item_id": u.item_id, "number": u.number, "on": u.on.isoformat(),
                           "by": u.by} for u in exc.urged])


# --- views ---------------------------------------------------------------------------


@blp.route("/board")
class BoardList(MethodView):
    @blp.arguments(BoardArgs, location="query")
    @blp.response(200, Board)
    def get(self, args):
        """The overdue items in your area as the board shows them (supervisors, county
        and city staff), with the rungs of the ladder each is due for; pages of up to 200."""
        who = actor()
        app = sanhu()
        with app.uow() as uow:
            if who.role not in sup.BOARD_ROLES:
                raise PermissionDenied("only supervisors and staff above see the board")
            if args.get("unit"):
                unit_path(uow.session, who, args["unit"])  # 404 outside the scope
            page = sup_board.board(
                uow.session, who, uow.today(), unit_id=args.get("unit"),
                min_days=args.get("min_days"), min_workdays=args.get("min_workdays"),
                min_rejections=args.get("min_rejections"), repeat_only=args["repeat"],
                listed_only=args["listed"], lagging_only=args["lagging"], sort=args["sort"],
                page=args["page"], per_page=args["per_page"],
                warning_days=app.settings.warning_days)
        return {"items": [_summary(r) for r in page.rows], "page": page.page,
                "per_page": page.per_page, "total": page.total,
                "total_capped": page.total_capped,
                "thresholds": dict(vars(page.thresholds)),
                "actions": sup.board_actions(who)}


@blp.route("/supervision/records")
class Records(MethodView):
    @blp.arguments(RecordListArgs, location="query")
    @blp.response(200, RecordList)
    def get(self, args):
        """The supervision records with an item in your area, newest first, as you may
        read them (``complete`` false: only the dates, terms and your own items)."""
        before = int(args["cursor"]) if args.get("cursor") else None
        with sanhu().uow() as uow:
            views = sup_board.records_after(
                uow.session, actor(), kind=args.get("kind"), status=args.get("status"),
                item_id=args.get("item"), before_id=before, limit=args["limit"])
            records = [_record_body(uow.session, view) for view in views]
        last = records[-1]["id"] if len(records) == args["limit"] else None
        return {"records": records, "next_cursor": str(last) if last else None}


@blp.route("/supervision/records/<int:record_id>")
class OneRecord(MethodView):
    @blp.response(200, Record)
    def get(self, record_id: int):
        """One record as you may read it (404 when none of its items is in your area)."""
        with sanhu().uow() as uow:
            return _record_body(uow.session, sup_board.record_view(uow.session, actor(),
                                                                   record_id))


@blp.route("/supervision/records/<int:record_id>/<change>")
class ChangeRecord(MethodView):
    @blp.arguments(ChangeInput)
    @blp.response(200, Record)
    @blp.alt_response(409, **PROBLEM, description="The record's status does not allow it now")
    def post(self, data, record_id: int, change: str):
        """Record an inquiry's reply (``reply``), ask for lifting a listing
        (``lift_request``), or decide on it (``lift_approve``, ``lift_deny``)."""
        if change not in RECORD_CHANGES:
            raise NotFound("no such change")
        rule, accepted, service = RECORD_CHANGES[change]
        who = actor()
        with sanhu().uow() as uow:
            sup_board.get_record(uow.session, who, record_id)  # 404 before 403
            if not sup.may(who, rule):
                raise PermissionDenied(f"the role {who.role} may not do {rule}")
            kwargs = _only(accepted, data, change)
            try:
                service(uow, record_id, who, **kwargs)
            except DomainError:
                uow.rollback()
                raise
            return _record_body(uow.session, sup_board.record_view(uow.session, who,
                                                                   record_id))


@blp.route("/items/<int:item_id>/supervision/<action>")
class Act(MethodView):
    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(ActInput)
    @blp.response(201, ActResult, headers=ETAG_HEADER)
    @blp.alt_response(409, **PROBLEM, description="Not possible in the item's state, or "
                                                   "urged recently (``urged``; send confirm)")
    @blp.alt_response(412, **PROBLEM, description="Stale If-Match: the current item is in "
                                                   "``current``")
    @blp.alt_response(428, **PROBLEM, description="If-Match is missing")
    def post(self, data, item_id: int, action: str):
        """Do one act of the board on one item: ``urge`` (催办), ``interview`` (约谈),
        ``inquiry`` (函询), ``listing`` (挂牌督办), ``notice`` (通报), with the inputs its
        form asks for; ``If-Match`` carries the item's version you read."""
        if action not in ACT_SERVICES:
            raise NotFound("no such act")
        who = actor()
        with sanhu().uow() as uow:
            get_item(uow.session, who, item_id)  # 404 outside the scope, first
            if not sup.may(who, action):
                raise PermissionDenied(f"the role {who.role} may not do {action}")
            version, refusal = expected_version()
            if refusal is not None:
                return refusal
            kwargs = _only(ACT_INPUTS[action], data, action)
            if action == "urge":
                kwargs["confirmed"] = bool(kwargs.pop("confirm", False))
            # the row stays locked to the end of the act: nobody changes it in between
            current = uow.session.scalar(select(Item.version).where(Item.id == item_id)
                                         .with_for_update())
            if current != version:
                return _stale(uow, item_id)
            try:
                result = ACT_SERVICES[action](uow, [item_id], who, **kwargs)
            except sup.RecentlyUrged as exc:
                uow.rollback()
                return _recently_urged(exc)
            except Conflict:
                return _stale(uow, item_id)
            except DomainError:
                uow.rollback()
                raise
            body = item_body(uow, item_id)
        headers = {"ETag": etag(body["version"])}
        if result.record_id:
            headers["Location"] = url_for("api_supervision.OneRecord", record_id=result.record_id)
        return {"action": action, "record_id": result.record_id, "notice_id": result.notice_id,
                "number": result.number, "item": body}, 201, headers


def _stale(uow, item_id: int):
    uow.rollback()
    body = item_body(uow, item_id)
    return stale(s.Item().dump(body), body["version"])
