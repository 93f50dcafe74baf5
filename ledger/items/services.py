"""The use cases of the ledger: one function per workflow event.

Every service takes a unit of work, the acting user and plain values, checks
scope (outside it: ``NotFound``), role and unit rules (``PermissionDenied``),
the workflow (``InvalidTransition``) and the input (``ValidationError``), then
changes the item through the shared machine, appends one history entry and
commits both with the version bump, or nothing at all.  A concurrent change
raises ``Conflict`` and leaves the database as the other user left it.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import bindparam, insert, select, update

from ledger.calendar import bounds
from ledger.calendar.periods import period_for
from ledger.calendar.workdays import Deadline, DeadlineSpec
from ledger.core.actors import Actor
from ledger.core.db import dialect_insert
from ledger.core.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.evidence import StagedFile
from ledger.core.models import (
    Cycle,
    CycleKind,
    Evidence,
    Item,
    ItemEvent,
    Level,
    NumberSequence,
    Observation,
    RecordToken,
    Standard,
    State,
    Unit,
    User,
    status_of,
)
from ledger.core.rulebook import require_inputs
from ledger.core.uow import UnitOfWork
from ledger.items.announce import announcements
from ledger.items.search import append_terms, terms
from ledger.items.workflow import (
    ITEM_LEVELS,
    RECORD_ROLES,
    RULEBOOK,
    RULES_BY_EVENT,
    allowed_events,
    fire,
)

#: 观摩 / 督查暗访 / 巡察 / 自查 / 其他 / 整顿 (a 软弱涣散 unit's 一村一策 task)
SOURCES = ("observation", "inspection", "patrol", "self_check", "other", "rectification")
CATEGORIES = ("immediate", "deadline", "long_term")  # 立行立改/限期整改/长期坚持
SEVERITIES = ("minor", "normal", "serious")
DISMISS_REASONS = ("duplicate", "not_a_problem", "other")


@dataclass(frozen=True)
class Upload:
    """A file handed to a service: its bytes (or a stream) and the uploader's name for it.

    ``data`` may also be a file the caller staged already (``EvidenceStore.stage``
    or ``keep``): the service then commits it when the event is accepted and
    leaves it to the caller otherwise.
    """

    data: bytes | BinaryIO | StagedFile
    filename: str | None = None


@dataclass(frozen=True)
class ItemResult:
    """What a service tells its caller about the item it changed."""

    id: int
    number: str
    status: str
    version: int
    #: recording only: the item an earlier post of the same form created
    existing: bool = False


@dataclass(frozen=True)
class BulkResult:
    """Per-item outcome of a bulk action: a result or the refusal."""

    item_id: int
    ok: bool
    result: ItemResult | None = None
    error: DomainError | None = None


# --- helpers ----------------------------------------------------------------


def _as_date(value: object, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError("a date looks like 2026-12-31", fields={field: "invalid date"}) \
            from None


def _as_id(value: object, field: str) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError("choose from the list", fields={field: "invalid choice"}) from None


#: derived columns a transition may write that are not part of the story of the item
NOT_HISTORY = frozenset({"search_terms"})

ITEMS = Item.__table__
HISTORY = ItemEvent.__table__
EVIDENCE = Evidence.__table__


class ItemSnapshot:
    """An item as read for one transition: plain attributes, fired through the machine.

    The hot path of every event uses SQLAlchemy Core (one SELECT, one
    version-checked UPDATE, one INSERT into the history): the ORM's unit of
    work costs more than the whole transaction on SQLite (see bench/README.md).
    """

    #: what the guards, the rules and the services read (not the long texts or timestamps)
    __slots__ = ("id", "number", "state", "submitted", "submitted_by_id", "unit_id",
                 "responsible_user_id",
                 "city_id", "county_id", "township_id", "village_id", "deadline",
                 "closed_at", "resolution", "pending_extension", "rejection_count",
                 "extension_count", "version", "search_terms")

    def __init__(self, row) -> None:
        for key in self.__slots__:
            setattr(self, key, row[key])

    @property
    def status(self) -> str:
        return status_of(self.state, self.submitted)


#: statements built once; executing them skips SQLAlchemy's statement construction
_SELECT_ITEM = select(*(ITEMS.c[k] for k in ItemSnapshot.__slots__)).where(
    ITEMS.c.id == bindparam("item_id"))
_UPDATE_ITEM = update(ITEMS).where(ITEMS.c.id == bindparam("b_id"),
                                   ITEMS.c.version == bindparam("b_version"))
_INSERT_HISTORY = insert(HISTORY).returning(HISTORY.c.id)


def _load_item(uow: UnitOfWork, item_id: int, actor: Actor) -> ItemSnapshot:
    row = uow.session.connection().execute(
        _SELECT_ITEM, {"item_id": _as_id(item_id, "item_id")}
    ).mappings().first()
    if row is None:
        raise NotFound("no such item")
    item = ItemSnapshot(row)
    if not actor.sees(item):
        raise NotFound("no such item")
    return item


def _check(uow: UnitOfWork, item: ItemSnapshot, actor: Actor, event: str,
           expected_version: int | None, inputs: dict[str, object]):
    if expected_version is not None and item.version != expected_version:
        raise Conflict("the item was changed by someone else; reload and try again",
                       current_version=item.version, status=item.status)
    rule = RULES_BY_EVENT[event]
    ctx = uow.context()
    RULEBOOK.require(rule, item, actor, ctx, inputs)
    return ctx


def _stage_uploads(uow: UnitOfWork, uploads: Sequence[Upload]) -> tuple[list, list]:
    """Check the files and stage them; returns (all staged, those staged here).

    Nothing enters the evidence store yet: the transition commits them only
    once its version-checked update has succeeded.
    """
    staged, own = [], []
    try:
        for up in uploads:
            if isinstance(up.data, StagedFile):
                staged.append(up.data)
            else:
                own.append(uow.evidence.stage(up.data, up.filename))
                staged.append(own[-1])
    except BaseException:
        for s in own:
            uow.evidence.discard(s)
        raise
    return staged, own


def _history(uow: UnitOfWork, item, actor: Actor, event: str, from_status: str | None,
             note: str | None, changes: dict | None, blobs: Sequence[tuple] = ()) -> int:
    """Append the history entry (seq = the item's new version) and link the evidence."""
    now = uow.now()
    conn = uow.session.connection()
    event_id = conn.execute(
        _INSERT_HISTORY,
        [{"item_id": item.id, "seq": item.version, "event": event, "from_status": from_status,
          "to_status": item.status, "actor_id": actor.id, "actor_role": actor.role, "at": now,
          "note": note, "changes": changes or None}],
    ).scalar_one()
    if blobs:
        conn.execute(insert(EVIDENCE), [
            {"item_id": item.id, "event_id": event_id, "sha256": blob.sha256, "size": blob.size,
             "mime": blob.mime, "kind": blob.kind, "original_name": name,
             "uploaded_by_id": actor.id, "uploaded_at": now}
            for blob, name in blobs
        ])
    return event_id


def _jsonable(value: object) -> object:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _transition(uow: UnitOfWork, item_id: int, actor: Actor, event: str, *,
                expected_version: int | None, inputs: dict[str, object],
                apply: Callable[[ItemSnapshot, dict], None] | None = None,
                note: str | None = None, uploads: Sequence[Upload] = ()) -> ItemResult:
    """The shared path of every event: check, fire, apply, record, commit."""
    item = _load_item(uow, item_id, actor)
    ctx = _check(uow, item, actor, event, expected_version, inputs)
    changes: dict[str, object] = {}
    if apply is not None:
        apply(item, changes)  # validates input before anything moves
    staged, own = _stage_uploads(uow, uploads)
    try:
        return _apply_transition(uow, item, actor, event, ctx, changes, note, staged)
    finally:
        for s in own:  # committed ones moved away already; refused ones go
            uow.evidence.discard(s)


def _apply_transition(uow: UnitOfWork, item: ItemSnapshot, actor: Actor, event: str, ctx,
                      changes: dict, note: str | None, staged: Sequence[StagedFile]
                      ) -> ItemResult:
    """Fire, write the version-checked update, move the staged files in, record, announce
    (``ledger.items.announce``), commit."""
    from_status, old_version = item.status, item.version
    before = {"pending_extension": item.pending_extension}
    old_state, old_submitted = item.state, item.submitted
    fire(item, event, actor, ctx)
    for name, value in changes.items():
        if name in ItemSnapshot.__slots__:
            setattr(item, name, value)
    item.version = old_version + 1
    values = {**changes, "updated_at": ctx.now, "version": item.version,
              "b_id": item.id, "b_version": old_version}
    # set the indexed columns only when they change: SQLite rewrites every index
    # on an assigned column, and most events leave the state alone
    if item.state != old_state:
        values["state"] = item.state
    if item.submitted != old_submitted:
        values["submitted"] = item.submitted
    moved = uow.session.connection().execute(_UPDATE_ITEM, values)
    if moved.rowcount != 1:  # someone committed a change since we read the item
        uow.rollback()
        raise Conflict("the item was changed by someone else; reload and try again",
                       status=from_status)
    # only now do the files enter the store; if the commit below still fails, the
    # unreferenced blobs are removed by the daily evidence_gc job
    blobs = [(uow.evidence.commit(s), s.name) for s in staged]
    event_id = _history(uow, item, actor, event, from_status, note,
                        {k: _jsonable(v) for k, v in changes.items() if k not in NOT_HISTORY},
                        blobs)
    uow.announce(announcements(uow.session, item, actor, event, event_id, note, changes,
                               before))
    uow.commit()
    return ItemResult(item.id, item.number, item.status, item.version)


def _responsible(uow: UnitOfWork, actor: Actor, item: ItemSnapshot, user_id: object,
                 unit_id: object | None, changes: dict) -> None:
    """Validate and stage a responsible unit and person (责任单位, 责任人)."""
    unit = uow.session.get(Unit, item.unit_id)
    if unit_id is not None and int(unit_id) != item.unit_id:
        unit = uow.session.get(Unit, _as_id(unit_id, "unit_id"))
        if (unit is None or not actor.sees(unit) or unit.id == actor.unit_id
                or unit.level not in ITEM_LEVELS):
            raise ValidationError("the responsible unit must be a township or village in your"
                                  " area, below your unit", fields={"unit_id": "not in scope"})
        changes["unit_id"] = unit.id
        for col in ("city_id", "county_id", "township_id", "village_id"):
            changes[col] = getattr(unit, col)
    person = uow.session.get(User, _as_id(user_id, "responsible_user_id"))
    if (person is None or not person.active or person.unit_id != unit.id
            or person.role not in RULES_BY_EVENT["accept"].roles):
        raise ValidationError("the responsible person must be an active secretary (or, for a"
                              " township, staff member) of the responsible unit",
                              fields={"responsible_user_id": "not responsible for that unit"})
    changes["responsible_user_id"] = person.id
    changes["responsible_person"] = person.display_name
    changes["search_terms"] = append_terms(item.search_terms, person.display_name)


def _deadline(uow: UnitOfWork, deadline: DeadlineSpec | dt.date | str, changes: dict) -> Deadline:
    if isinstance(deadline, str):
        deadline = DeadlineSpec.parse(deadline)
    if isinstance(deadline, dt.date):
        deadline = DeadlineSpec("date", deadline)
    result = uow.calendar.deadline(deadline, uow.today())
    changes["deadline"] = result.date
    changes["deadline_provisional"] = result.provisional
    return result


def preview_deadline(uow: UnitOfWork, deadline: DeadlineSpec | str) -> Deadline:
    """The date a deadline resolves to today, for confirmation (the rules of ``assign``).

    ``ValidationError`` when it could not be set: unreadable, past or more than
    two years ahead.
    """
    spec = DeadlineSpec.parse(deadline) if isinstance(deadline, str) else deadline
    return uow.calendar.deadline(spec, uow.today())


def _choice(value: object, allowed: Sequence[str], field: str) -> str:
    if value not in allowed:
        raise ValidationError(f"{field} must be one of {', '.join(allowed)}",
                              fields={field: "invalid choice"})
    return str(value)


#: the observation cycle a unit of each level is observed in (村: quarterly, 乡镇: half-yearly)
CYCLE_KIND_OF_LEVEL = {Level.VILLAGE.value: CycleKind.VILLAGE_QUARTERLY.value,
                       Level.TOWNSHIP.value: CycleKind.TOWNSHIP_HALF_YEARLY.value}


def open_cycle_of(uow: UnitOfWork, level: str) -> Cycle | None:
    """The cycle a unit of ``level`` is observed in now: its kind's cycle of today's
    period, when that cycle was opened (None otherwise, or for another level)."""
    kind = CYCLE_KIND_OF_LEVEL.get(level)
    if kind is None:
        return None
    return uow.session.scalar(select(Cycle).where(
        Cycle.kind == kind, Cycle.period == period_for(kind, uow.today())))


def _next_number(uow: UnitOfWork, prefix: str) -> int:
    """Atomically take the next serial for ``prefix`` (an upsert, safe under concurrency)."""
    ins = dialect_insert(uow.session, NumberSequence.__table__).values(prefix=prefix, last=1)
    ins = ins.on_conflict_do_update(
        index_elements=["prefix"], set_={"last": NumberSequence.__table__.c.last + 1}
    ).returning(NumberSequence.__table__.c.last)
    return int(uow.session.execute(ins).scalar_one())


def check_event(uow: UnitOfWork, item_id: int, actor: Actor, event: str) -> None:
    """Raise what firing ``event`` now would raise for who and when, inputs aside.

    ``NotFound`` outside the actor's scope, ``PermissionDenied`` for the wrong
    role or unit, ``InvalidTransition`` in the wrong state. Pages call it before
    reading any upload, so a refused request never writes a file.
    """
    item = _load_item(uow, item_id, actor)
    rule, ctx = RULES_BY_EVENT[event], uow.context()
    if RULEBOOK.refusal(rule, item, actor, ctx) is not None:
        RULEBOOK.require(rule, item, actor, ctx, {})


def available_events(uow: UnitOfWork, item_id: int, actor: Actor) -> list[str]:
    """What ``actor`` may do with the item now (``NotFound`` outside their scope).

    Pages offer exactly these forms; the services accept exactly these events.
    """
    return allowed_events(_load_item(uow, item_id, actor), actor, uow.context())


# --- record -----------------------------------------------------------------


#: a form's one-time token: what ``secrets.token_urlsafe`` gives, within the column
FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _recorded_with(uow: UnitOfWork, actor: Actor, token: str) -> ItemResult | None:
    """The item the actor's earlier post of the form with ``token`` recorded, if any."""
    row = uow.session.execute(
        select(Item.id, Item.number, Item.state, Item.submitted, Item.version)
        .join(RecordToken, RecordToken.item_id == Item.id)
        .where(RecordToken.user_id == actor.id, RecordToken.token == token)).first()
    if row is None:
        return None
    return ItemResult(row.id, row.number, status_of(row.state, row.submitted), row.version,
                      existing=True)


def record_finding(uow: UnitOfWork, actor: Actor, *, unit_id: int, description: str,
                   standard_id: int | None = None, source: str = "observation",
                   cycle_id: int | None = None, observation_id: int | None = None,
                   severity: str = "normal", note: str | None = None,
                   files: Sequence[tuple] = (), form_token: str | None = None,
                   default_cycle: bool = False) -> ItemResult:
    """Record a problem (one problem, one item) against a unit below the actor's own.

    With ``default_cycle`` and neither a cycle nor an observation given, the item
    belongs to the open cycle of the unit's kind (``open_cycle_of``: a village's
    quarter, a township's half-year), which also gives its number's prefix.

    ``files`` are blobs already in the evidence store, as (blob, display name):
    an observation's photos of the failed line become the item's evidence.
    An observation has at most one item per standard.

    ``form_token`` (the 登记 form's one-time token) makes recording idempotent:
    the same actor sending the same token again gets the item the first post
    recorded (``existing=True``) and nothing new is written, also when both
    arrive at once (the key of ``record_tokens`` lets only one commit).
    """
    if actor.role not in RECORD_ROLES:
        raise PermissionDenied(f"the role {actor.role} may not record findings", event="record")
    if form_token is not None:
        if not isinstance(form_token, str) or not FORM_TOKEN.fullmatch(form_token):
            raise ValidationError("the form's token is malformed; reload the form",
                                  fields={"form_token": "invalid"})
        earlier = _recorded_with(uow, actor, form_token)
        if earlier is not None:
            return earlier
    unit = uow.session.get(Unit, unit_id)
    if unit is None or not actor.sees(unit):
        raise NotFound("no such unit")
    if unit.id == actor.unit_id:
        raise PermissionDenied("findings are recorded against a unit below your own",
                               event="record")
    if unit.level not in ITEM_LEVELS:
        raise ValidationError("findings are recorded against a township or a village",
                              fields={"unit_id": "not a township or village"})
    require_inputs({"description": description}, ["description"])
    source = _choice(source, SOURCES, "source")
    severity = _choice(severity, SEVERITIES, "severity")
    category_number = None
    if standard_id is not None:
        standard = uow.session.get(Standard, standard_id)
        if standard is None:
            raise ValidationError("unknown standard", fields={"standard_id": "unknown"})
        category_number = standard.category_number
    prefix = str(uow.today().year)
    if observation_id is not None:
        obs = uow.session.get(Observation, observation_id)
        if obs is None or obs.unit_id != unit.id:
            raise ValidationError("the observation is not of this unit",
                                  fields={"observation_id": "wrong unit"})
        cycle_id = obs.cycle_id
        if standard_id is not None:
            taken = uow.session.scalar(select(Item.number).where(
                Item.observation_id == obs.id, Item.standard_id == standard_id))
            if taken is not None:
                raise ValidationError(f"this observation already has item {taken} for this "
                                      "standard", fields={"standard_id": "already recorded"},
                                      number=taken)
    elif cycle_id is None and default_cycle:
        opened = open_cycle_of(uow, unit.level)
        cycle_id = opened.id if opened is not None else None
    if cycle_id is not None:
        cycle = uow.session.get(Cycle, cycle_id)
        if cycle is None:
            raise ValidationError("unknown cycle", fields={"cycle_id": "unknown"})
        prefix = cycle.period
    prefix = f"{prefix}-{unit.code}"
    number = f"{prefix}-{_next_number(uow, prefix):03d}"
    now = uow.now()
    item = Item(number=number, source=source, cycle_id=cycle_id, observation_id=observation_id,
                standard_id=standard_id, category_number=category_number, unit_id=unit.id,
                description=description.strip(), severity=severity, state=State.FOUND.value,
                search_terms=terms(number, description),
                submitted=False, rejection_count=0, extension_count=0, created_by_id=actor.id,
                created_at=now, updated_at=now)
    item.copy_ancestors(unit)
    uow.session.add(item)
    uow.flush()
    _history(uow, item, actor, "record", None, note,
             {"number": number, "unit_id": unit.id, "standard_id": standard_id}, files)
    if form_token is not None:
        uow.session.add(RecordToken(user_id=actor.id, token=form_token, item_id=item.id,
                                    created_at=now))
    try:
        uow.commit()
    except Conflict:
        # the same form, posted at the same moment, committed first: that item stands
        earlier = _recorded_with(uow, actor, form_token) if form_token is not None else None
        if earlier is None:
            raise
        return earlier
    return ItemResult(item.id, item.number, item.status, item.version)


# --- the events ---------------------------------------------------------------


def assign(uow: UnitOfWork, item_id: int, actor: Actor, *, responsible_user_id: int,
           category: str, deadline: DeadlineSpec | dt.date | str, unit_id: int | None = None,
           note: str | None = None, expected_version: int | None = None) -> ItemResult:
    """交办: give the item a responsible unit and person, a category and a deadline."""
    def apply(item: ItemSnapshot, changes: dict) -> None:
        changes["category"] = _choice(category, CATEGORIES, "category")
        _responsible(uow, actor, item, responsible_user_id, unit_id, changes)
        _deadline(uow, deadline, changes)

    return _transition(uow, item_id, actor, "assign", expected_version=expected_version,
                       inputs={"responsible_user_id": responsible_user_id, "category": category,
                               "deadline": deadline}, apply=apply, note=note)


def reassign(uow: UnitOfWork, item_id: int, actor: Actor, *, responsible_user_id: int,
             reason: str, unit_id: int | None = None,
             deadline: DeadlineSpec | dt.date | str | None = None,
             expected_version: int | None = None) -> ItemResult:
    """改派: hand an assigned item to another responsible unit or person."""
    def apply(item: ItemSnapshot, changes: dict) -> None:
        _responsible(uow, actor, item, responsible_user_id, unit_id, changes)
        if deadline is not None:
            _deadline(uow, deadline, changes)
        changes["pending_extension"] = None  # the previous responsible's request lapses

    return _transition(uow, item_id, actor, "reassign", expected_version=expected_version,
                       inputs={"responsible_user_id": responsible_user_id, "reason": reason},
                       apply=apply, note=reason)


def accept(uow: UnitOfWork, item_id: int, actor: Actor, *, measures: str,
           expected_version: int | None = None) -> ItemResult:
    """签收: the village secretary takes the task on, stating the measures (整改措施)."""
    def apply(item: ItemSnapshot, changes: dict) -> None:
        changes["measures"] = measures.strip()
        changes["search_terms"] = append_terms(item.search_terms, changes["measures"])

    return _transition(uow, item_id, actor, "accept", expected_version=expected_version,
                       inputs={"measures": measures}, apply=apply, note=measures)


def report_progress(uow: UnitOfWork, item_id: int, actor: Actor, *, note: str,
                    uploads: Sequence[Upload] = (),
                    expected_version: int | None = None) -> ItemResult:
    """报告进展: a progress note, optionally with evidence."""
    return _transition(uow, item_id, actor, "report_progress", expected_version=expected_version,
                       inputs={"note": note}, note=note, uploads=uploads)


def submit(uow: UnitOfWork, item_id: int, actor: Actor, *, note: str,
           uploads: Sequence[Upload], expected_version: int | None = None) -> ItemResult:
    """申请销号: mark the item resolved with a completion note and at least one evidence file."""
    def apply(item: ItemSnapshot, changes: dict) -> None:
        changes["submitted_by_id"] = actor.id
        changes["pending_extension"] = None  # done early: a pending request is moot

    return _transition(uow, item_id, actor, "submit", expected_version=expected_version,
                       inputs={"note": note, "evidence": list(uploads)}, apply=apply,
                       note=note, uploads=uploads)


def verify(uow: UnitOfWork, item_id: int, actor: Actor, *, method: str, note: str,
           expected_version: int | None = None) -> ItemResult:
    """验收: confirm a submitted item is fixed (never by the submitter)."""
    def apply(item: ItemSnapshot, changes: dict) -> None:
        changes["verifier_id"] = actor.id
        changes["verified_at"] = uow.now()

    return _transition(uow, item_id, actor, "verify", expected_version=expected_version,
                       inputs={"method": method, "note": note}, apply=apply,
                       note=f"{method.strip()}: {note.strip()}" if method and note else note)


def reject(uow: UnitOfWork, item_id: int, actor: Actor, *, reason: str,
           expected_version: int | None = None) -> ItemResult:
    """退回: send a submitted item back to rectification, with a required reason."""
    def apply(item: ItemSnapshot, changes: dict) -> None:
        changes["rejection_count"] = item.rejection_count + 1
        changes["submitted_by_id"] = None

    return _transition(uow, item_id, actor, "reject", expected_version=expected_version,
                       inputs={"reason": reason}, apply=apply, note=reason)


def close(uow: UnitOfWork, item_id: int, actor: Actor, *, note: str | None = None,
          expected_version: int | None = None) -> ItemResult:
    """销号: cross a verified item off, recording the closing time."""
    def apply(item: ItemSnapshot, changes: dict) -> None:
        changes["closed_at"] = uow.now()
        changes["resolution"] = "rectified"

    return _transition(uow, item_id, actor, "close", expected_version=expected_version,
                       inputs={}, apply=apply, note=note)


def reopen(uow: UnitOfWork, item_id: int, actor: Actor, *, reason: str,
           deadline: DeadlineSpec | dt.date | str | None = None,
           expected_version: int | None = None) -> ItemResult:
    """回头看: reopen a closed item within the follow-up window."""
    def apply(item: ItemSnapshot, changes: dict) -> None:
        changes.update(closed_at=None, resolution=None, verifier_id=None, verified_at=None,
                       submitted_by_id=None)
        if deadline is not None:
            _deadline(uow, deadline, changes)

    return _transition(uow, item_id, actor, "reopen", expected_version=expected_version,
                       inputs={"reason": reason}, apply=apply, note=reason)


def request_extension(uow: UnitOfWork, item_id: int, actor: Actor, *, deadline: dt.date | str,
                      reason: str, expected_version: int | None = None) -> ItemResult:
    """申请延期: ask, before the deadline, for a later one."""
    def apply(item: ItemSnapshot, changes: dict) -> None:
        new = bounds.within(_as_date(deadline, "deadline"), uow.today(), "deadline")
        if item.deadline is not None and new <= item.deadline:
            raise ValidationError("the new deadline must be later than the current one",
                                  fields={"deadline": "not later"})
        changes["pending_extension"] = {"deadline": new.isoformat(), "reason": reason.strip(),
                                        "by": actor.id}

    return _transition(uow, item_id, actor, "request_extension",
                       expected_version=expected_version,
                       inputs={"deadline": deadline, "reason": reason}, apply=apply, note=reason)


def approve_extension(uow: UnitOfWork, item_id: int, actor: Actor, *, note: str | None = None,
                      expected_version: int | None = None) -> ItemResult:
    """批准延期: move the deadline to the requested date."""
    def apply(item: ItemSnapshot, changes: dict) -> None:
        new = dt.date.fromisoformat(item.pending_extension["deadline"])
        if item.deadline is not None and new <= item.deadline:
            raise ValidationError("the requested date is not later than the current deadline",
                                  fields={"deadline": "not later"})
        # a date given as such was not counted, so it is never provisional
        changes.update(deadline=new, deadline_provisional=False, pending_extension=None,
                       extension_count=item.extension_count + 1)

    return _transition(uow, item_id, actor, "approve_extension",
                       expected_version=expected_version, inputs={}, apply=apply, note=note)


def deny_extension(uow: UnitOfWork, item_id: int, actor: Actor, *, reason: str,
                   expected_version: int | None = None) -> ItemResult:
    """驳回延期: refuse the request; the deadline stays."""
    def apply(item: ItemSnapshot, changes: dict) -> None:
        changes["pending_extension"] = None

    return _transition(uow, item_id, actor, "deny_extension", expected_version=expected_version,
                       inputs={"reason": reason}, apply=apply, note=reason)


def dismiss(uow: UnitOfWork, item_id: int, actor: Actor, *, reason: str,
            kind: str = "other", expected_version: int | None = None) -> ItemResult:
    """撤销: close a finding that is a duplicate or not a problem (resolution "dismissed")."""
    def apply(item: ItemSnapshot, changes: dict) -> None:
        _choice(kind, DISMISS_REASONS, "kind")
        changes.update(resolution="dismissed", closed_at=uow.now())

    return _transition(uow, item_id, actor, "dismiss", expected_version=expected_version,
                       inputs={"reason": reason}, apply=apply, note=f"[{kind}] {reason}")


# --- calendar -----------------------------------------------------------------


#: items settled per transaction: other writers wait at most one short batch
SETTLE_BATCH = 500
#: SQLite: the pause after each batch, seconds.  A waiting writer polls the lock
#: (its busy handler sleeps up to 100 ms between tries); without a pause the
#: next batch takes the lock again first and the waiter starves until it times out.
SETTLE_PAUSE = 0.15


def settle_deadlines(uow: UnitOfWork, actor: Actor, years: Iterable[int], *,
                     batch: int = SETTLE_BATCH) -> int:
    """After the official schedule of ``years`` arrived: settle the provisional deadlines.

    An open item whose deadline was computed on the Monday–Friday fallback keeps
    its date when that is a working day, and moves to the next working day when
    the official schedule made it a holiday.  Either way the deadline is no
    longer provisional, and the item's history says so (event ``settle_deadline``).
    Returns how many items were settled; items outside ``actor``'s scope are left.

    A year holds tens of thousands of such items, so they are settled ``batch``
    at a time, each batch committed with its history entries: SQLite has one
    writer, and a single long transaction made users' requests time out with
    "database is locked".  Only items still provisional are taken, so the
    settle is idempotent, and an interrupted one is finished by running it
    again (re-importing the year or ``sanhu calendar import``).
    """
    years = sorted(set(years))
    if not years:
        return 0
    calendar = uow.calendar
    settled, after = 0, 0
    while True:
        ids = uow.session.scalars(
            select(Item.id).where(
                Item.id > after, Item.deadline_provisional.is_(True),
                Item.state.in_((State.ASSIGNED.value, State.RECTIFYING.value)),
                Item.deadline >= dt.date(years[0], 1, 1),
                Item.deadline <= dt.date(years[-1], 12, 31),
                actor.scope_clause(Item)).order_by(Item.id).limit(batch)).all()
        if not ids:
            return settled
        settled += _settle_batch(uow, actor, years, calendar, ids)
        uow.commit()
        after = ids[-1]
        if uow.settings.is_sqlite and not uow.shared:
            time.sleep(SETTLE_PAUSE)


def _settle_batch(uow: UnitOfWork, actor: Actor, years: list[int], calendar,
                  ids: Sequence[int]) -> int:
    now, settled = uow.now(), 0
    for item_id in ids:
        item = _load_item(uow, item_id, actor)
        if item.deadline.year not in years:
            continue
        day = item.deadline
        while not calendar.is_workday(day):
            day += dt.timedelta(days=1)
        changes = {"deadline": day, "deadline_provisional": False}
        old_version, item.deadline, item.version = item.version, day, item.version + 1
        moved = uow.session.connection().execute(_UPDATE_ITEM, {
            **changes, "updated_at": now, "version": item.version, "b_id": item.id,
            "b_version": old_version})
        if moved.rowcount != 1:
            continue  # changed meanwhile: it keeps its flag; the admin page still counts it
        _history(uow, item, actor, "settle_deadline", item.status,
                 f"official holiday schedule {', '.join(map(str, years))}",
                 {k: _jsonable(v) for k, v in changes.items()})
        settled += 1
    return settled


# --- bulk ---------------------------------------------------------------------


def bulk(uow_factory: Callable[[], UnitOfWork], item_ids: Iterable[int],
         action: Callable[..., ItemResult], actor: Actor, **kwargs) -> list[BulkResult]:
    """Run one event over many items, each in its own transaction and history entry.

    One item's refusal never blocks the others; the result says, per item,
    what happened.  Each item's announcements reach the inbox with the item;
    their e-mail and webhook copies go out at the end, one message per
    recipient and kind (``UnitOfWork.announce_digest``), so nobody gets
    hundreds of e-mails for one bulk act.
    """
    results: list[BulkResult] = []
    held: list[int] = []
    try:
        for item_id in item_ids:
            with uow_factory() as uow:
                uow.held_announcements = []
                try:
                    results.append(BulkResult(item_id, True,
                                              action(uow, item_id, actor, **kwargs)))
                except DomainError as exc:
                    results.append(BulkResult(item_id, False, error=exc))
                else:  # committed: the ids are the item's announcements
                    held += uow.held_announcements
    finally:  # also when an unexpected error stops the loop: what was done is told
        if held:
            with uow_factory() as uow:
                uow.announce_digest(held)
    return results


def bulk_assign(uow_factory, item_ids, actor: Actor, **kwargs) -> list[BulkResult]:
    """Assign many found items with the same responsible, category and deadline."""
    return bulk(uow_factory, item_ids, assign, actor, **kwargs)


def bulk_verify(uow_factory, item_ids, actor: Actor, **kwargs) -> list[BulkResult]:
    """Verify many submitted items with the same method and note."""
    return bulk(uow_factory, item_ids, verify, actor, **kwargs)


def bulk_close(uow_factory, item_ids, actor: Actor, **kwargs) -> list[BulkResult]:
    """Close (销号) many verified items."""
    return bulk(uow_factory, item_ids, close, actor, **kwargs)


#: every event's service, by event name (for pages, API and tests)
EVENT_SERVICES: dict[str, Callable[..., ItemResult]] = {
    "assign": assign, "reassign": reassign, "accept": accept,
    "report_progress": report_progress, "submit": submit, "verify": verify,
    "reject": reject, "close": close, "reopen": reopen,
    "request_extension": request_extension, "approve_extension": approve_extension,
    "deny_extension": deny_extension, "dismiss": dismiss,
}
