"""Supervision acts (督办, SPEC §10) on overdue items.

The ladder is 提示 → 催办 → 通报 → 约谈 → 挂牌督办 (提示 are the automatic reminders).

Supervisors record, on one or many items at once: 催办 (``urge``: a reminder now,
also in the responsible person's inbox), 约谈 (``record_interview``), 函询 and its
reply (``record_inquiry``, ``record_inquiry_reply``), 挂牌督办 (``place_listing``;
lifting is requested by a supervisor and approved by somebody else:
``request_lift``, ``approve_lift``) and 通报 (``issue_notice``, numbered per
year and quarter).  Who may do what is the table ``ACTIONS``.

Every act appends a history entry to each item it covers, bumps the item's
version with a version-checked UPDATE (a concurrent change is a ``Conflict``)
and keeps the item's ``supervision`` marks (``{"urged": 2, "interviews": 1,
"listed": true, "listed_until": "…", "notices": ["2026年第4季度第3号"]}``) in
the same transaction.  One record covers all the items it succeeded on; the
others are reported per item, like ``services.bulk``; when no item succeeds,
nothing is written and the first item's error is raised.

The read side (the overdue board, the ladder's suggestions, records and
notices) is ``ledger.supervision.board``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from ledger.calendar import bounds
from ledger.calendar.dates import chinese_date
from ledger.core.actors import Actor
from ledger.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.models import (
    Item,
    Notice,
    NoticeItem,
    Notification,
    Role,
    State,
    SupervisionRecord,
    SupervisionRecordItem,
    User,
    status_of,
)
from ledger.core.uow import UnitOfWork
from ledger.items.queries import item_rows
from ledger.items.services import BulkResult, ItemResult, _history, _next_number
from ledger.notify.reminders import notify_settings, queue_deliveries

SUPERVISOR = Role.SUPERVISOR.value
STAFF_ABOVE = frozenset({Role.COUNTY_STAFF.value, Role.CITY_STAFF.value})
OVERDUE_ABLE = frozenset({State.ASSIGNED.value, State.RECTIFYING.value})
NOT_CLOSED = frozenset(s.value for s in State) - {State.CLOSED.value}
#: most items one act covers (the board shows 50 a page)
MAX_ITEMS = 200
#: why an act on a closed (销号) item is refused
CLOSED_MESSAGE = "the item is closed; supervision acts no longer apply"
#: 催办 again within this many natural (calendar) days asks for confirmation: an item
#: urged today, yesterday or the day before (Asia/Shanghai dates)
REURGE_DAYS = 3


@dataclass(frozen=True)
class ActionRule:
    """One supervision act: who may do it, on items in which states, which history event."""

    action: str
    roles: frozenset[str]
    event: str
    #: item states it applies to; None: any state
    states: frozenset[str] | None = None


#: who may do what: the one place for the role rules of supervision
ACTIONS: dict[str, ActionRule] = {r.action: r for r in (
    ActionRule("urge", frozenset({SUPERVISOR, *STAFF_ABOVE}), "urge", OVERDUE_ABLE),
    ActionRule("interview", frozenset({SUPERVISOR}), "interview", NOT_CLOSED),
    ActionRule("inquiry", frozenset({SUPERVISOR}), "inquiry", NOT_CLOSED),
    ActionRule("inquiry_reply", frozenset({SUPERVISOR}), "inquiry_reply"),
    ActionRule("listing", frozenset({SUPERVISOR}), "listing", NOT_CLOSED),
    ActionRule("request_lift", frozenset({SUPERVISOR}), "lift_requested"),
    ActionRule("approve_lift", frozenset({SUPERVISOR, *STAFF_ABOVE}), "listing_lifted"),
    ActionRule("deny_lift", frozenset({SUPERVISOR, *STAFF_ABOVE}), "lift_denied"),
    ActionRule("notice", frozenset({SUPERVISOR}), "notice", NOT_CLOSED),
)}
#: the acts started from the board on selected items
BOARD_ACTIONS = ("urge", "interview", "inquiry", "listing", "notice")
#: who sees the board: everybody who may do any of the acts
BOARD_ROLES = frozenset().union(*(r.roles for r in ACTIONS.values()))
RECORD_KINDS = ("urge", "interview", "inquiry", "listing")
LISTING_LIVE = ("active", "lift_requested")


def may(actor: Actor, action: str) -> bool:
    """Whether the actor's role may do ``action`` (scope is checked per item)."""
    return actor.role in ACTIONS[action].roles


def board_actions(actor: Actor, state: str | None = None) -> list[str]:
    """The board's acts the actor may start, in ladder order; with ``state``, only those
    possible on an item in that state (none on a closed item)."""
    return [a for a in BOARD_ACTIONS if may(actor, a)
            and (state is None or ACTIONS[a].states is None or state in ACTIONS[a].states)]


def record_changes(record: SupervisionRecord, actor: Actor) -> list[str]:
    """The changes the actor's role may make to a record in its current status: an
    inquiry's ``reply``; a listing's ``lift_request``, or ``lift_approve`` and
    ``lift_deny`` (never by whoever requested the lifting).  The actor must also see
    every item of the record, which the caller checks."""
    details = record.details or {}
    changes = []
    if record.kind == "inquiry" and record.status == "open" and may(actor, "inquiry_reply"):
        changes.append("reply")
    if record.kind == "listing" and record.status == "active" and may(actor, "request_lift"):
        changes.append("lift_request")
    if (record.kind == "listing" and record.status == "lift_requested"
            and may(actor, "approve_lift") and details.get("lift_requested_by") != actor.id):
        changes += ["lift_approve", "lift_deny"]
    return changes


def _require_role(actor: Actor, action: str) -> ActionRule:
    rule = ACTIONS[action]
    if actor.role not in rule.roles:
        raise PermissionDenied(f"the role {actor.role} may not do {action}", event=action)
    return rule


# --- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class ActResult:
    """What one act did: its record (or notice) and the outcome for each item."""

    record_id: int | None
    items: list[BulkResult]
    notice_id: int | None = None
    number: str | None = None

    @property
    def done(self) -> list[int]:
        return [r.item_id for r in self.items if r.ok]

    @property
    def refused(self) -> list[BulkResult]:
        return [r for r in self.items if not r.ok]


# --- input checks --------------------------------------------------------------------


def _text(inputs: dict[str, object], required: Sequence[str], limits: dict[str, int]) -> dict:
    """Stripped texts; missing required ones and overlong ones as field errors."""
    out, errors = {}, {}
    for name, limit in limits.items():
        value = inputs.get(name)
        value = value.strip() if isinstance(value, str) else value
        if value in (None, ""):
            if name in required:
                errors[name] = "required"
            out[name] = None
            continue
        if len(str(value)) > limit:
            errors[name] = "too long"
        out[name] = str(value)
    if errors:
        raise ValidationError("required input is missing: " + ", ".join(errors)
                              if "required" in errors.values() else "input is too long",
                              fields=errors)
    return out


def _date(value: object, name: str, *, today: dt.date, required: bool,
          after: dt.date | None = None):
    """A date given as a date or ``2026-12-31``, within ``bounds`` of ``today``."""
    if value in (None, ""):
        if required:
            raise ValidationError(f"required input is missing: {name}", fields={name: "required"})
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError("a date looks like 2026-12-31",
                                  fields={name: "invalid date"}) from None
    bounds.within(value, today, name)
    if after is not None and value <= after:
        raise ValidationError(f"{name} must lie in the future", fields={name: "not in future"})
    return value


def _datetime(value: object, name: str, *, today: dt.date) -> dt.datetime:
    """A local (Asia/Shanghai) date and time, kept naive as the user gave it, within
    ``bounds`` of ``today``."""
    if value in (None, ""):
        raise ValidationError(f"required input is missing: {name}", fields={name: "required"})
    if isinstance(value, dt.datetime):
        when = value.replace(tzinfo=None, second=0, microsecond=0)
    elif isinstance(value, dt.date):
        when = dt.datetime.combine(value, dt.time())
    else:
        try:
            when = dt.datetime.fromisoformat(str(value).strip()).replace(tzinfo=None)
        except ValueError:
            raise ValidationError("a time looks like 2026-12-31 09:30",
                                  fields={name: "invalid datetime"}) from None
    return bounds.within(when, today, name)


def _ids(item_ids: Iterable[object]) -> list[int]:
    ids: list[int] = []
    for raw in item_ids:
        try:
            ids.append(int(raw))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationError("choose items from the list",
                                  fields={"ids": "invalid choice"}) from None
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ValidationError("select at least one item", fields={"ids": "required"})
    if len(ids) > MAX_ITEMS:
        raise ValidationError(f"select at most {MAX_ITEMS} items", fields={"ids": "too many"})
    return ids


# --- one item ------------------------------------------------------------------------

ITEMS = Item.__table__
_SNAPSHOT = ("id", "number", "state", "submitted", "unit_id", "city_id", "county_id",
             "township_id", "village_id", "version", "supervision", "responsible_user_id",
             "deadline", "description")


class _Item:
    """An item as read for one act (plain attributes; ``status`` for the history row)."""

    __slots__ = _SNAPSHOT

    def __init__(self, row) -> None:
        for key in self.__slots__:
            setattr(self, key, row[key])

    @property
    def status(self) -> str:
        return status_of(self.state, self.submitted)


def _load(uow: UnitOfWork, item_id: int, actor: Actor, rule: ActionRule) -> _Item:
    row = uow.session.connection().execute(
        select(*(ITEMS.c[k] for k in _SNAPSHOT)).where(ITEMS.c.id == item_id)
    ).mappings().first()
    if row is None or not actor.sees(row_item := _Item(row)):
        raise NotFound("no such item")
    if rule.states is not None and row_item.state not in rule.states:
        if row_item.state == State.CLOSED.value:
            raise InvalidTransition(CLOSED_MESSAGE, event=rule.action, status=row_item.status)
        raise InvalidTransition("not possible in the item's current state",
                                event=rule.action, status=row_item.status)
    return row_item


def _touch(uow: UnitOfWork, item: _Item, actor: Actor, rule: ActionRule, note: str,
           changes: dict, mark: Callable[[dict], None]) -> ItemResult:
    """Update the marks with a version-checked UPDATE and append the history entry."""
    marks = dict(item.supervision or {})
    mark(marks)
    moved = uow.session.connection().execute(
        update(ITEMS).where(ITEMS.c.id == item.id, ITEMS.c.version == item.version)
        .values(supervision=marks, version=item.version + 1, updated_at=uow.now()))
    if moved.rowcount != 1:
        raise Conflict("the item was changed by someone else; reload and try again",
                       status=item.status)
    item.version += 1
    item.supervision = marks
    _history(uow, item, actor, rule.event, item.status, note, changes)
    return ItemResult(item.id, item.number, item.status, item.version)


def _visible_ids(uow: UnitOfWork, item_ids: Iterable[object], actor: Actor,
                 states: frozenset[str] | None = None) -> list[int]:
    """The ones of ``item_ids`` in the actor's area (and in one of ``states``)."""
    query = select(Item.id).where(Item.id.in_(_ids(item_ids)), actor.scope_clause(Item))
    if states is not None:
        query = query.where(Item.state.in_(sorted(states)))
    return list(uow.session.scalars(query))


def _deepest_shared_unit(items: Sequence[_Item]) -> int:
    for level in ("village_id", "township_id", "county_id", "city_id"):
        ids = {getattr(i, level) for i in items}
        if len(ids) == 1 and None not in ids:
            return ids.pop()
    return items[0].unit_id  # pragma: no cover - every item has a city


def _act(uow: UnitOfWork, item_ids: Iterable[object], actor: Actor, action: str, *,
         create: Callable[[list[_Item]], tuple[dict, Callable[[_Item], None]]],
         note: Callable[[_Item], str], mark: Callable[[dict], None],
         after: Callable[[list[_Item]], None] | None = None,
         check: Callable[[_Item], None] | None = None) -> list[BulkResult]:
    """Load and check every item, create the record, touch each item, commit.

    ``create`` writes the record (or notice) for the items that passed the
    checks and returns the history ``changes`` and a function linking one item
    to it.  Items that fail are reported; if none is left, nothing is written
    and the first error is raised.
    """
    rule = _require_role(actor, action)
    ids = _ids(item_ids)
    results: dict[int, BulkResult] = {}
    loaded: list[_Item] = []
    for item_id in ids:
        try:
            item = _load(uow, item_id, actor, rule)
            if check is not None:
                check(item)
            loaded.append(item)
        except DomainError as exc:
            results[item_id] = BulkResult(item_id, False, error=exc)
    if not loaded:
        uow.rollback()
        raise results[ids[0]].error  # type: ignore[misc]
    changes, link = create(loaded)
    done: list[_Item] = []
    for item in loaded:
        try:
            result = _touch(uow, item, actor, rule, note(item), changes, mark)
        except DomainError as exc:
            results[item.id] = BulkResult(item.id, False, error=exc)
            continue
        link(item)
        done.append(item)
        results[item.id] = BulkResult(item.id, True, result)
    if not done:
        uow.rollback()
        raise next(r.error for r in results.values() if r.error is not None)
    if after is not None:
        after(done)
    uow.commit()
    return [results[i] for i in ids]


def _new_record(uow: UnitOfWork, actor: Actor, kind: str, items: Sequence[_Item],
                details: dict, status: str | None = None) -> SupervisionRecord:
    record = SupervisionRecord(kind=kind, status=status, unit_id=_deepest_shared_unit(items),
                               created_by_id=actor.id, created_at=uow.now(), details=details)
    uow.session.add(record)
    uow.flush()
    return record


def _linker(uow: UnitOfWork, record_id: int) -> Callable[[_Item], None]:
    def link(item: _Item) -> None:
        uow.session.execute(insert(SupervisionRecordItem.__table__),
                            [{"record_id": record_id, "item_id": item.id}])
    return link


def _count(name: str) -> Callable[[dict], None]:
    def mark(marks: dict) -> None:
        marks[name] = int(marks.get(name) or 0) + 1
    return mark


def _record_act(uow, item_ids, actor, kind: str, details: dict, summary: str, mark,
                status: str | None = None, after=None) -> ActResult:
    holder: dict[str, int] = {}

    def create(items):
        record = _new_record(uow, actor, kind, items, details, status)
        holder["id"] = record.id
        return {"record_id": record.id}, _linker(uow, record.id)

    results = _act(uow, item_ids, actor, kind, create=create, note=lambda item: summary,
                   mark=mark, after=after)
    return ActResult(holder["id"], results)


# --- 催办 -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LastUrge:
    """An item's latest 催办: when (local date) and by whom."""

    item_id: int
    number: str
    on: dt.date
    by: str


class RecentlyUrged(DomainError):
    """Some items were urged within ``REURGE_DAYS``: urge again only when confirmed.

    ``urged`` lists each such item's latest 催办 (``LastUrge``); nothing was written.
    """

    code = "recently_urged"

    def __init__(self, urged: list[LastUrge]) -> None:
        super().__init__("the item was urged recently; confirm to urge it again",
                         items=[{"item_id": u.item_id, "number": u.number,
                                 "on": u.on.isoformat(), "by": u.by} for u in urged])
        self.urged = urged


def recent_urges(uow: UnitOfWork, item_ids: Iterable[object],
                 days: int = REURGE_DAYS) -> list[LastUrge]:
    """The latest 催办 of each of the items urged on one of the last ``days`` dates
    (today included, in the configured zone), in the order of ``item_ids``."""
    ids = _ids(item_ids)
    zone = uow.settings.zone
    first_day = uow.today() - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first_day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    rows = uow.session.execute(
        select(SupervisionRecordItem.item_id, Item.number, SupervisionRecord.created_at,
               User.display_name)
        .join(SupervisionRecord, SupervisionRecord.id == SupervisionRecordItem.record_id)
        .join(Item, Item.id == SupervisionRecordItem.item_id)
        .join(User, User.id == SupervisionRecord.created_by_id)
        .where(SupervisionRecord.kind == "urge", SupervisionRecordItem.item_id.in_(ids),
               SupervisionRecord.created_at >= since)
        .order_by(SupervisionRecord.created_at.desc(), SupervisionRecord.id.desc())).all()
    latest: dict[int, LastUrge] = {}
    for item_id, number, at, name in rows:
        at = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
        on = at.astimezone(zone).date()
        if item_id not in latest and on >= first_day:
            latest[item_id] = LastUrge(item_id, number, on, name)
    return [latest[i] for i in ids if i in latest]


def urge(uow: UnitOfWork, item_ids: Iterable[int], actor: Actor,
         note: str | None = None, *, confirmed: bool = False) -> ActResult:
    """催办: remind now; the responsible person of each item gets it in the inbox (and the
    configured e-mail or group robot).

    An item already urged on one of the last ``REURGE_DAYS`` dates is urged again only
    when ``confirmed``; otherwise ``RecentlyUrged`` says when and by whom (only about
    items the actor sees) and nothing is written.
    """
    text = _text({"note": note}, (), {"note": 2000})["note"]
    today = uow.today()
    if not confirmed:
        _require_role(actor, "urge")
        visible = _visible_ids(uow, item_ids, actor, ACTIONS["urge"].states)
        recent = recent_urges(uow, visible) if visible else []
        if recent:
            uow.rollback()
            raise RecentlyUrged(recent)

    def mark(marks: dict) -> None:
        _count("urged")(marks)
        marks["last_urged"] = today.isoformat()

    def notify(items: list[_Item]) -> None:
        now = uow.now()
        rows = [{
            "user_id": item.responsible_user_id, "kind": "urge", "audience": "responsible",
            "item_id": item.id, "deadline": item.deadline, "offset_days": None,
            "title": f"催办:{item.number}"[:200],
            "body": (text + "\n" if text else "") + f"{item.number} {item.description[:300]}"
                    + (f"(整改时限 {chinese_date(item.deadline)})" if item.deadline else ""),
            "dedupe_key": f"u:{holder['record']}:{item.id}:{item.responsible_user_id}",
            "created_at": now,
        } for item in items if item.responsible_user_id]
        if rows:
            uow.session.execute(insert(Notification.__table__), rows)
            queue_deliveries(uow, notify_settings(uow), now)

    holder: dict[str, int] = {}

    def create(items):
        record = _new_record(uow, actor, "urge", items, {"note": text})
        holder["record"] = record.id
        return {"record_id": record.id}, _linker(uow, record.id)

    results = _act(uow, item_ids, actor, "urge", create=create,
                   note=lambda item: text or "催办", mark=mark, after=notify)
    return ActResult(holder["record"], results)


# --- 约谈 -----------------------------------------------------------------------------

INTERVIEW_TEXTS = {"place": 200, "interviewer": 200, "interviewee": 200,
                   "interviewee_post": 200, "reason": 2000, "minutes": 10000, "outcome": 2000}
INTERVIEW_REQUIRED = ("place", "interviewer", "interviewee", "interviewee_post", "reason")


def record_interview(uow: UnitOfWork, item_ids: Iterable[int], actor: Actor, *,
                     held_at: dt.datetime | str, place: str, interviewer: str,
                     interviewee: str, interviewee_post: str, reason: str,
                     minutes: str | None = None, outcome: str | None = None,
                     follow_up_deadline: dt.date | str | None = None) -> ActResult:
    """约谈: record an interview held about the items (time, place, who, why, minutes, outcome,
    follow-up deadline)."""
    details = _text(dict(place=place, interviewer=interviewer, interviewee=interviewee,
                         interviewee_post=interviewee_post, reason=reason, minutes=minutes,
                         outcome=outcome), INTERVIEW_REQUIRED, INTERVIEW_TEXTS)
    when = _datetime(held_at, "held_at", today=uow.today())
    follow = _date(follow_up_deadline, "follow_up_deadline", today=uow.today(), required=False)
    details.update(held_at=when.isoformat(timespec="minutes"),
                   follow_up_deadline=follow.isoformat() if follow else None)
    summary = (f"约谈 {details['interviewee']}({details['interviewee_post']}),"
               f"{chinese_date(when.date())} {when:%H:%M} {details['place']}:{details['reason']}")

    def mark(marks: dict) -> None:
        _count("interviews")(marks)
        marks["last_interview"] = when.date().isoformat()

    return _record_act(uow, item_ids, actor, "interview", details, summary, mark)


# --- 函询 -----------------------------------------------------------------------------


def record_inquiry(uow: UnitOfWork, item_ids: Iterable[int], actor: Actor, *, question: str,
                   reply_due: dt.date | str | None = None) -> ActResult:
    """函询: a written inquiry about the items; its reply is recorded later."""
    details = _text({"question": question}, ("question",), {"question": 4000})
    due = _date(reply_due, "reply_due", today=uow.today(), required=False,
                after=uow.today() - dt.timedelta(1))
    details.update(reply_due=due.isoformat() if due else None, reply=None, replied_at=None,
                   replied_by=None)
    return _record_act(uow, item_ids, actor, "inquiry", details,
                       f"函询:{details['question']}", _count("inquiries"), status="open")


def _record_for_change(uow: UnitOfWork, record_id: int, actor: Actor, kind: str,
                       rule: ActionRule) -> tuple[SupervisionRecord, list[_Item]]:
    """The record and its items; the actor must see every item (none: ``NotFound``)."""
    record = uow.session.get(SupervisionRecord, record_id)
    if record is None or record.kind != kind:
        raise NotFound("no such record")
    item_ids = uow.session.scalars(select(SupervisionRecordItem.item_id).where(
        SupervisionRecordItem.record_id == record.id).order_by(SupervisionRecordItem.item_id))
    items, hidden = [], 0
    for item_id in item_ids:
        try:
            items.append(_load(uow, item_id, actor, rule))
        except NotFound:
            hidden += 1
    if not items:
        raise NotFound("no such record")
    if hidden:
        raise PermissionDenied("the record covers items outside your area", event=rule.action)
    return record, items


def _change_record(uow: UnitOfWork, record: SupervisionRecord, items: list[_Item],
                   actor: Actor, rule: ActionRule, note: str, mark) -> ActResult:
    """All or nothing: every item of the record gets its entry, or nothing changes."""
    results = []
    for item in items:
        try:
            results.append(BulkResult(item.id, True, _touch(
                uow, item, actor, rule, note, {"record_id": record.id}, mark)))
        except DomainError:
            uow.rollback()
            raise
    uow.flush()
    uow.commit()
    return ActResult(record.id, results)


def record_inquiry_reply(uow: UnitOfWork, record_id: int, actor: Actor, *, reply: str,
                         replied_by: str, replied_at: dt.date | str | None = None) -> ActResult:
    """函询回复: record the written reply to an inquiry (once)."""
    rule = _require_role(actor, "inquiry_reply")
    texts = _text({"reply": reply, "replied_by": replied_by}, ("reply", "replied_by"),
                  {"reply": 10000, "replied_by": 200})
    when = _date(replied_at, "replied_at", today=uow.today(), required=False) or uow.today()
    if when > uow.today():
        raise ValidationError("the reply date lies in the future",
                              fields={"replied_at": "in the future"})
    record, items = _record_for_change(uow, record_id, actor, "inquiry", rule)
    if record.status != "open":
        raise InvalidTransition("the inquiry has already been answered", event=rule.action)
    record.details = {**(record.details or {}), **texts, "replied_at": when.isoformat(),
                      "recorded_by": actor.id}
    record.status = "replied"
    return _change_record(uow, record, items, actor, rule,
                          f"函询回复({texts['replied_by']}):{texts['reply']}",
                          _count("inquiries_answered"))


# --- 挂牌督办 ---------------------------------------------------------------------------


def place_listing(uow: UnitOfWork, item_ids: Iterable[int], actor: Actor, *, reason: str,
                  term_until: dt.date | str) -> ActResult:
    """挂牌督办: list the items for supervision until ``term_until``; lifting needs approval."""
    details = _text({"reason": reason}, ("reason",), {"reason": 2000})
    until = _date(term_until, "term_until", today=uow.today(), required=True, after=uow.today())
    details.update(term_until=until.isoformat(), lift_requested_by=None,
                   lift_requested_at=None, lift_reason=None, lift_approved_by=None,
                   lift_approved_at=None)
    holder: dict[str, int] = {}

    def mark(marks: dict) -> None:
        marks.update(listed=True, listed_until=until.isoformat(), listing_id=holder["id"])
        marks.pop("lift_requested", None)

    def create(items):
        record = _new_record(uow, actor, "listing", items, details, "active")
        holder["id"] = record.id
        return {"record_id": record.id}, _linker(uow, record.id)

    rule = ACTIONS["listing"]

    def note(item: _Item) -> str:
        return f"挂牌督办至 {chinese_date(until)}:{details['reason']}"

    # one live listing per item: an item already listed is refused
    live = set(uow.session.scalars(
        select(SupervisionRecordItem.item_id).join(
            SupervisionRecord, SupervisionRecord.id == SupervisionRecordItem.record_id)
        .where(SupervisionRecord.kind == "listing",
               SupervisionRecord.status.in_(LISTING_LIVE),
               SupervisionRecordItem.item_id.in_(_ids(item_ids)))))

    def not_listed(item: _Item) -> None:
        if item.id in live:
            raise InvalidTransition("the item is already listed for supervision",
                                    event=rule.action, status=item.status)

    results = _act(uow, item_ids, actor, "listing", create=create, note=note, mark=mark,
                   check=not_listed)
    return ActResult(holder["id"], results)


def request_lift(uow: UnitOfWork, record_id: int, actor: Actor, *, reason: str) -> ActResult:
    """申请摘牌: ask for a listing to be lifted; somebody else approves."""
    rule = _require_role(actor, "request_lift")
    texts = _text({"reason": reason}, ("reason",), {"reason": 2000})
    record, items = _record_for_change(uow, record_id, actor, "listing", rule)
    if record.status != "active":
        raise InvalidTransition("the listing is not active", event=rule.action,
                                status=record.status)
    record.details = {**(record.details or {}), "lift_reason": texts["reason"],
                      "lift_requested_by": actor.id,
                      "lift_requested_at": uow.now().isoformat(timespec="seconds")}
    record.status = "lift_requested"

    def mark(marks: dict) -> None:
        marks["lift_requested"] = True

    return _change_record(uow, record, items, actor, rule, f"申请摘牌:{texts['reason']}", mark)


def approve_lift(uow: UnitOfWork, record_id: int, actor: Actor, *,
                 note: str | None = None) -> ActResult:
    """批准摘牌: lift a listing whose lifting was requested (never by the requester)."""
    rule = _require_role(actor, "approve_lift")
    texts = _text({"note": note}, (), {"note": 2000})
    record, items = _record_for_change(uow, record_id, actor, "listing", rule)
    if record.status != "lift_requested":
        raise InvalidTransition("lifting has not been requested", event=rule.action,
                                status=record.status)
    if (record.details or {}).get("lift_requested_by") == actor.id:
        raise PermissionDenied("nobody may approve their own request to lift a listing",
                               event=rule.action)
    record.details = {**(record.details or {}), "lift_approved_by": actor.id,
                      "lift_approved_at": uow.now().isoformat(timespec="seconds"),
                      "lift_note": texts["note"]}
    record.status = "lifted"

    def mark(marks: dict) -> None:
        marks.update(listed=False, listed_until=None)
        marks.pop("lift_requested", None)
        marks.pop("listing_id", None)
        _count("lifted")(marks)

    return _change_record(uow, record, items, actor, rule,
                          "摘牌" + (f":{texts['note']}" if texts["note"] else ""), mark)


def deny_lift(uow: UnitOfWork, record_id: int, actor: Actor, *, reason: str) -> ActResult:
    """驳回摘牌: keep the listing; the request is refused with a reason (never by the requester)."""
    rule = _require_role(actor, "deny_lift")
    texts = _text({"reason": reason}, ("reason",), {"reason": 2000})
    record, items = _record_for_change(uow, record_id, actor, "listing", rule)
    if record.status != "lift_requested":
        raise InvalidTransition("lifting has not been requested", event=rule.action,
                                status=record.status)
    if (record.details or {}).get("lift_requested_by") == actor.id:
        raise PermissionDenied("nobody may decide their own request to lift a listing",
                               event=rule.action)
    record.details = {**(record.details or {}), "lift_denied_by": actor.id,
                      "lift_denied_at": uow.now().isoformat(timespec="seconds"),
                      "lift_denied_reason": texts["reason"]}
    record.status = "active"

    def mark(marks: dict) -> None:
        marks.pop("lift_requested", None)

    return _change_record(uow, record, items, actor, rule, f"驳回摘牌:{texts['reason']}", mark)


# --- 通报 -----------------------------------------------------------------------------


def quarter_of(day: dt.date) -> int:
    return (day.month - 1) // 3 + 1


def notice_number(year: int, quarter: int, serial: int) -> str:
    """The official number of a notice: ``2026年第4季度第3号``."""
    return f"{year}年第{quarter}季度第{serial}号"


def issue_notice(uow: UnitOfWork, item_ids: Iterable[int], actor: Actor, *, title: str,
                 body: str) -> ActResult:
    """通报: issue a notice listing the items, numbered per year and quarter (Asia/Shanghai).

    The serial comes from ``number_sequences`` (an upsert), so two notices issued
    at once never share a number; a notice that fails leaves no gap.
    """
    texts = _text({"title": title, "body": body}, ("title", "body"),
                  {"title": 200, "body": 20000})
    today = uow.today()
    year, quarter = today.year, quarter_of(today)
    holder: dict[str, object] = {}
    late = _overdue_on(uow, today)

    def create(items):
        serial = _next_number(uow, f"notice-{year}Q{quarter}")
        number = notice_number(year, quarter, serial)
        notice = Notice(year=year, quarter=quarter, serial=serial, number=number,
                        title=texts["title"], body=texts["body"], unit_id=actor.unit_id,
                        created_by_id=actor.id, created_at=uow.now())
        uow.session.add(notice)
        uow.flush()
        holder.update(id=notice.id, number=number)
        days = late([i.id for i in items])

        def link(item: _Item) -> None:
            d, w = days.get(item.id, (None, None))
            uow.session.execute(insert(NoticeItem.__table__), [
                {"notice_id": notice.id, "item_id": item.id, "days_overdue": d,
                 "workdays_overdue": w}])
        return {"notice_id": notice.id, "number": number}, link

    def mark(marks: dict) -> None:
        marks["notices"] = [*list(marks.get("notices") or []), holder["number"]]

    results = _act(uow, item_ids, actor, "notice", create=create,
                   note=lambda item: f"通报 {holder['number']}:{texts['title']}", mark=mark)
    return ActResult(None, results, notice_id=int(holder["id"]),  # type: ignore[arg-type]
                     number=str(holder["number"]))


def _overdue_on(uow: UnitOfWork, today: dt.date):
    def late(ids: list[int]) -> dict[int, tuple[int | None, int | None]]:
        rows = item_rows(uow.session, ids, today, 0)
        return {r["id"]: (r["days_overdue"], r["workdays_overdue"]) for r in rows}
    return late
