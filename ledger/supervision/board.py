"""The read side of supervision: the overdue board and the escalation ladder.

``board`` lists the overdue items in scope, filtered and sorted in SQL over the
overdue partial indexes, with the rung of the ladder (提示 → 催办 → 通报 → 约谈 →
挂牌督办) each item is due for (``suggestions``, thresholds from ``ladder``).
The records and notices the acts wrote are read here too (``record_view``,
``get_notice``, ``list_notices``, ``item_supervision``).

One act may cover items of several units.  Whoever sees every item of it reads
all of it; whoever sees only some (the secretary of one of two villages
interviewed about together) reads its kind, dates and terms and their own
items, not its free texts, which may name the others: ``SHARED_DETAILS`` on
the record, ``withheld_notes`` for the history entries the act wrote.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace

from sqlalchemy import and_, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from ledger.core.actors import Actor
from ledger.core.errors import (
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.models import (
    AppSetting,
    CalendarDay,
    Cycle,
    Item,
    Notice,
    NoticeItem,
    NoticeRanking,
    Role,
    SupervisionRecord,
    SupervisionRecordItem,
    Unit,
    UnitClass,
    User,
    WeakReview,
    status_of,
)
from ledger.items.queries import COUNT_CAP, ItemFilter, Page, page_rows, scoped_items
from ledger.supervision.acts import ACTIONS, BOARD_ROLES, LISTING_LIVE


@dataclass(frozen=True)
class Ladder:
    """Thresholds of the escalation suggestions (app setting ``ladder_<name>`` overrides)."""

    urge_workdays: int = 1
    notice_workdays: int = 10
    notice_rejections: int = 2
    interview_workdays: int = 20
    listing_workdays: int = 30
    #: with a repeat finding
    listing_rejections: int = 2


#: the rungs after the automatic reminders (提示), lowest first
RUNGS = ("urge", "notice", "interview", "listing")
BOARD_SORTS = ("days_overdue", "workdays", "rejections", "unit")


def ladder(session: Session) -> Ladder:
    """The thresholds in force: stored ``ladder_*`` app settings over the defaults."""
    stored = dict(session.execute(select(AppSetting.key, AppSetting.value)
                                  .where(AppSetting.key.like("ladder_%"))).all())
    values = {f.name: int(stored[f"ladder_{f.name}"]) for f in fields(Ladder)
              if isinstance(stored.get(f"ladder_{f.name}"), int | str)}
    return replace(Ladder(), **values)


def suggestions(workdays: int | None, rejections: int, repeat: bool, marks: dict | None,
                thresholds: Ladder, lagging: bool = False) -> list[str]:
    """The rungs an item is due for and has not reached yet (above the highest done).

    ``lagging``: the item's unit was 后进 in its last k published cycles in a row
    (SPEC §6: flagged for 软弱涣散 review and 挂牌督办), which suggests listing.
    """
    w = workdays or 0
    marks = marks or {}
    due = {
        "urge": w >= thresholds.urge_workdays,
        "notice": w >= thresholds.notice_workdays or rejections >= thresholds.notice_rejections,
        "interview": w >= thresholds.interview_workdays or repeat,
        "listing": w >= thresholds.listing_workdays
        or (repeat and rejections >= thresholds.listing_rejections) or lagging,
    }
    done = {"urge": bool(marks.get("urged")), "notice": bool(marks.get("notices")),
            "interview": bool(marks.get("interviews")), "listing": bool(marks.get("listed"))}
    top = max((n for n, rung in enumerate(RUNGS) if done[rung]), default=-1)
    return [rung for n, rung in enumerate(RUNGS) if n > top and due[rung]]


def repeat_clause(item=Item):
    """True when the unit failed the same standard in an earlier cycle of the same kind."""
    earlier, this_cycle, other_cycle = aliased(Item), aliased(Cycle), aliased(Cycle)
    return exists(
        select(earlier.id)
        .join(other_cycle, other_cycle.id == earlier.cycle_id)
        .join(this_cycle, this_cycle.id == item.cycle_id)
        .where(earlier.unit_id == item.unit_id, earlier.standard_id == item.standard_id,
               earlier.cycle_id != item.cycle_id, other_cycle.kind == this_cycle.kind,
               other_cycle.period < this_cycle.period,
               or_(earlier.resolution.is_(None), earlier.resolution != "dismissed")))


#: the app setting of k (set on the result settings page; ``ledger.results.classes``)
WEAK_KEY = "weak_after_cycles"


def weak_after(session: Session) -> int:
    stored = session.scalar(select(AppSetting.value).where(AppSetting.key == WEAK_KEY))
    return int(stored) if isinstance(stored, int) and stored >= 1 else 2


def lagging_clause(k: int, item=Item):
    """True when the item's unit was 后进 in each of its k most recent published cycles."""
    uc, c = aliased(UnitClass), aliased(Cycle)
    kth = (select(c.period).join(uc, uc.cycle_id == c.id).where(uc.unit_id == item.unit_id)
           .order_by(c.period.desc()).limit(1).offset(k - 1).correlate(item)
           .scalar_subquery())
    uc2, c2 = aliased(UnitClass), aliased(Cycle)
    other = exists(select(uc2.unit_id).join(c2, c2.id == uc2.cycle_id).where(
        uc2.unit_id == item.unit_id, c2.period >= kth, uc2.klass != "lagging")
        .correlate(item))
    return and_(kth.is_not(None), ~other)


def recognised_clause(item=Item):
    """True when the county recognised the item's unit as 软弱涣散 (认定)."""
    return exists(select(WeakReview.id).where(WeakReview.unit_id == item.unit_id,
                                              WeakReview.decision == "recognised"))


def listed_clause(item=Item):
    """True when the item has a live listing (挂牌督办 not yet lifted)."""
    return exists(
        select(SupervisionRecordItem.record_id)
        .join(SupervisionRecord, SupervisionRecord.id == SupervisionRecordItem.record_id)
        .where(SupervisionRecordItem.item_id == item.id, SupervisionRecord.kind == "listing",
               SupervisionRecord.status.in_(LISTING_LIVE)))


def _workday_cutoff(session: Session, today: dt.date, n: int) -> dt.date | None:
    """The latest deadline at least ``n`` working days before today (None: none is)."""
    today_seq = select(CalendarDay.workday_seq).where(CalendarDay.day == today)\
        .scalar_subquery()
    return session.scalar(select(func.max(CalendarDay.day))
                          .where(CalendarDay.workday_seq <= today_seq - n))


@dataclass
class BoardPage(Page):
    """A page of the board, with the thresholds its suggestions used."""

    thresholds: Ladder = field(default_factory=Ladder)


def board(session: Session, actor: Actor, today: dt.date, *, unit_id: int | None = None,
          min_days: int | None = None, min_workdays: int | None = None,
          min_rejections: int | None = None, repeat_only: bool = False,
          lagging_only: bool = False,
          listed_only: bool = False, sort: str = "days_overdue", page: int = 1,
          per_page: int = 50, warning_days: int = 3,
          thresholds: Ladder | None = None) -> BoardPage:
    """One page of the overdue items in the actor's scope, with escalation suggestions.

    The rows are found through the overdue partial indexes (``scoped_items`` with
    ``overdue=True``); day thresholds become deadline bounds, so they narrow the
    same index range.  Working days overdue only grow as the deadline gets
    earlier, so both "days" sorts are the deadline order.  Repeat flags, unit
    paths and listings of the page's rows come in one batched query each.
    """
    if actor.role not in BOARD_ROLES:
        raise PermissionDenied("only supervisors and staff above see the board", event="board")
    if sort not in BOARD_SORTS:
        raise ValidationError(f"unknown sort {sort!r}", fields={"sort": "unknown"})
    thresholds = thresholds or ladder(session)
    per_page = max(1, min(per_page, 200))
    page = max(1, page)
    base = scoped_items(session, actor, ItemFilter(overdue=True, unit_id=unit_id), today,
                        warning_days)
    if min_days:
        base = base.where(Item.deadline <= today - dt.timedelta(days=min_days))
    if min_workdays:
        cutoff = _workday_cutoff(session, today, min_workdays)
        base = base.where(Item.deadline <= cutoff if cutoff else false())
    if min_rejections:
        base = base.where(Item.rejection_count >= min_rejections)
    if repeat_only:
        base = base.where(repeat_clause())
    if lagging_only:
        base = base.where(lagging_clause(weak_after(session)))
    if listed_only:
        base = base.where(listed_clause())
    order = {
        "days_overdue": (Item.deadline.asc(), Item.id.asc()),
        "workdays": (Item.deadline.asc(), Item.id.asc()),
        "rejections": (Item.rejection_count.desc(), Item.deadline.asc(), Item.id.asc()),
        "unit": (Unit.code.asc(), Item.deadline.asc(), Item.id.asc()),
    }[sort]
    rows, total = page_rows(
        session, base, order, today=today, warning_days=warning_days, page=page,
        per_page=per_page, columns=(Item.supervision, Item.county_id, Item.township_id,
                                    Item.village_id, Unit.code.label("unit_code")),
        ids_from=base.join(Unit, Unit.id == Item.unit_id) if sort == "unit" else None)
    _enrich(session, rows, thresholds)
    return BoardPage(rows, min(total, COUNT_CAP), total > COUNT_CAP, page, per_page,
                     cap=COUNT_CAP, thresholds=thresholds)


def _enrich(session: Session, rows: list[dict], thresholds: Ladder) -> None:
    """Repeat flags and unit paths of one page's rows (one query each), then suggestions."""
    if not rows:
        return
    ids = [r["id"] for r in rows]
    repeats = set(session.scalars(select(Item.id).where(Item.id.in_(ids), repeat_clause())))
    lagging = set(session.scalars(select(Item.id).where(
        Item.id.in_(ids), lagging_clause(weak_after(session)))))
    weak = set(session.scalars(select(Item.id).where(Item.id.in_(ids), recognised_clause())))
    unit_ids = {r[c] for r in rows for c in ("county_id", "township_id", "village_id") if r[c]}
    names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all())
    for r in rows:
        r["repeat"] = r["id"] in repeats
        r["lagging"] = r["id"] in lagging
        r["weak"] = r["id"] in weak
        r["marks"] = r.pop("supervision") or {}
        r["unit_path"] = [names[u] for u in (r["county_id"], r["township_id"], r["village_id"])
                          if u in names]
        r["suggestions"] = suggestions(r["workdays_overdue"], r["rejection_count"],
                                       r["repeat"], r["marks"], thresholds, r["lagging"])


# --- reading records and notices -------------------------------------------------------


def _visible(session: Session, actor: Actor, link, key, key_id: int) -> list[int]:
    """Ids of the items of one record or notice that the actor sees."""
    return list(session.scalars(
        select(link.item_id).join(Item, Item.id == link.item_id)
        .where(key == key_id, actor.scope_clause(Item)).order_by(link.item_id)))


#: what a reader who sees only some of an act's items reads of its details: the dates
#: and terms.  The free texts (who was interviewed, where, why, the minutes and the
#: outcome; questions and replies; reasons for listing and lifting) may name the other
#: units and stay with those who see every item.  A 催办 message is shared: it went to
#: every responsible person's inbox.
SHARED_DETAILS: dict[str, frozenset[str]] = {
    "urge": frozenset({"note"}),
    "interview": frozenset({"held_at", "follow_up_deadline"}),
    "inquiry": frozenset({"reply_due", "replied_at"}),
    "listing": frozenset({"term_until", "lift_requested_by", "lift_requested_at",
                          "lift_approved_by", "lift_approved_at"}),
}
#: history events whose note repeats an act's free text (not 催办's message, nor the
#: number and title of a 通报, which is published)
PRIVATE_EVENTS = frozenset(rule.event for name, rule in ACTIONS.items()
                           if name not in ("urge", "notice"))


@dataclass(frozen=True)
class RecordView:
    """A supervision record as one reader may read it."""

    record: SupervisionRecord
    #: the record's items the reader sees
    item_ids: list[int]
    #: the reader sees every item of the act, so reads all of it
    complete: bool
    #: the details the reader may read (all of them when ``complete``)
    details: dict


def _partial_records(session: Session, actor: Actor, record_ids: Iterable[int]) -> set[int]:
    """The records among ``record_ids`` with items outside the actor's scope."""
    wanted = sorted(set(record_ids))
    if not wanted:
        return set()
    link = SupervisionRecordItem
    total = dict(session.execute(select(link.record_id, func.count()).where(
        link.record_id.in_(wanted)).group_by(link.record_id)).all())
    seen = dict(session.execute(select(link.record_id, func.count())
                                .join(Item, Item.id == link.item_id)
                                .where(link.record_id.in_(wanted), actor.scope_clause(Item))
                                .group_by(link.record_id)).all())
    return {r for r in wanted if seen.get(r, 0) < total.get(r, 0)}


def record_view(session: Session, actor: Actor, record_id: int) -> RecordView:
    """A record as the actor may read it (``NotFound`` when they see none of its items)."""
    record = session.get(SupervisionRecord, record_id)
    if record is None:
        raise NotFound("no such record")
    ids = _visible(session, actor, SupervisionRecordItem, SupervisionRecordItem.record_id,
                   record.id)
    if not ids:
        raise NotFound("no such record")
    details = dict(record.details or {})
    complete = not _partial_records(session, actor, [record.id])
    if not complete:
        shared = SHARED_DETAILS.get(record.kind, frozenset())
        details = {k: v for k, v in details.items() if k in shared}
    return RecordView(record, ids, complete, details)


def records_after(session: Session, actor: Actor, *, kind: str | None = None,
                  status: str | None = None, item_id: int | None = None,
                  before_id: int | None = None, limit: int = 50) -> list[RecordView]:
    """The records with at least one item in the actor's scope, newest first, each as
    the actor may read it (``record_view``'s rules), older than ``before_id``."""
    link = SupervisionRecordItem
    mine = exists(select(link.item_id).join(Item, Item.id == link.item_id)
                  .where(link.record_id == SupervisionRecord.id, actor.scope_clause(Item)))
    query = (select(SupervisionRecord).where(mine).order_by(SupervisionRecord.id.desc())
             .limit(max(1, min(limit, 500))))
    if kind is not None:
        query = query.where(SupervisionRecord.kind == kind)
    if status is not None:
        query = query.where(SupervisionRecord.status == status)
    if item_id is not None:
        query = query.where(exists(select(link.item_id).where(
            link.record_id == SupervisionRecord.id, link.item_id == item_id)))
    if before_id is not None:
        query = query.where(SupervisionRecord.id < before_id)
    records = list(session.scalars(query))
    if not records:
        return []
    ids = [r.id for r in records]
    seen: dict[int, list[int]] = {}
    for record_id, seen_item in session.execute(
            select(link.record_id, link.item_id).join(Item, Item.id == link.item_id)
            .where(link.record_id.in_(ids), actor.scope_clause(Item))
            .order_by(link.record_id, link.item_id)):
        seen.setdefault(record_id, []).append(seen_item)
    partial = _partial_records(session, actor, ids)
    views = []
    for record in records:
        details = dict(record.details or {})
        if record.id in partial:
            shared = SHARED_DETAILS.get(record.kind, frozenset())
            details = {k: v for k, v in details.items() if k in shared}
        views.append(RecordView(record, seen.get(record.id, []), record.id not in partial,
                                details))
    return views


def get_record(session: Session, actor: Actor, record_id: int
               ) -> tuple[SupervisionRecord, list[int]]:
    """A record and the ids of its items the actor sees (``NotFound`` when none).

    The record's details are all there: show them through ``record_view``.
    """
    view = record_view(session, actor, record_id)
    return view.record, view.item_ids


def withheld_notes(session: Session, actor: Actor, events: Sequence) -> set[int]:
    """Ids of the history entries (of items the actor sees) whose note the actor may not
    read: those a supervision act wrote that also covers items outside the actor's scope."""
    def record_of(event) -> int | None:
        changes = event.changes if isinstance(event.changes, dict) else {}
        if event.event in PRIVATE_EVENTS and event.note and changes.get("record_id"):
            return int(changes["record_id"])
        return None

    partial = _partial_records(session, actor, filter(None, map(record_of, events)))
    return {e.id for e in events if record_of(e) in partial}


def get_notice(session: Session, actor: Actor, notice_id: int) -> tuple[Notice, list[dict]]:
    """A notice and its items the actor sees, as printed (``NotFound`` when none)."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound("no such notice")
    rows = session.execute(
        select(Item.id, Item.number, Item.description, Item.unit_id, Item.county_id,
               Item.township_id, Item.village_id, NoticeItem.days_overdue,
               NoticeItem.workdays_overdue)
        .join(NoticeItem, NoticeItem.item_id == Item.id)
        .where(NoticeItem.notice_id == notice.id, actor.scope_clause(Item))
        .order_by(Item.county_id, Item.township_id, Item.village_id, Item.number)).all()
    if not rows:
        raise NotFound("no such notice")
    out = [dict(r._mapping) for r in rows]
    unit_ids = {r[c] for r in out for c in ("county_id", "township_id", "village_id") if r[c]}
    names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all())
    for r in out:
        r["unit_path"] = [names[u] for u in (r["county_id"], r["township_id"], r["village_id"])
                          if u in names]
    return notice, out


def notice_units(rows: list[dict]) -> list[str]:
    """The units a notice concerns (each responsible unit once, by path)."""
    return list(dict.fromkeys(" › ".join(r["unit_path"]) for r in rows))


def ranking_notice_clause(actor: Actor, notice=Notice):
    """True for a ranking notice (通报排名) the actor may read: users of the issuing
    county and above, and the staff of the townships it ranks."""
    above = exists(select(Unit.id).where(Unit.id == notice.unit_id, actor.scope_clause(Unit)))
    if actor.role == Role.TOWNSHIP_STAFF.value:
        ranked = exists(select(NoticeRanking.unit_id).where(
            NoticeRanking.notice_id == notice.id, NoticeRanking.unit_id == actor.unit_id))
        above = or_(above, ranked)
    return and_(notice.ranking_id.is_not(None), above)


def list_notices(session: Session, actor: Actor, *, page: int = 1,
                 per_page: int = 50) -> list[Notice]:
    """Notices that list at least one item in the actor's scope, and the ranking notices
    the actor may read, newest first."""
    mine = exists(select(NoticeItem.item_id).join(Item, Item.id == NoticeItem.item_id)
                  .where(NoticeItem.notice_id == Notice.id, actor.scope_clause(Item)))
    mine = or_(and_(Notice.ranking_id.is_(None), mine), ranking_notice_clause(actor))
    return list(session.scalars(select(Notice).where(mine)
                                .order_by(Notice.created_at.desc(), Notice.id.desc())
                                .limit(per_page).offset((max(1, page) - 1) * per_page)))


def item_supervision(session: Session, actor: Actor, item_id: int) -> dict[str, list]:
    """The supervision records and notices of one item (scope checked by the caller's item)."""
    records = list(session.scalars(
        select(SupervisionRecord).join(
            SupervisionRecordItem, SupervisionRecordItem.record_id == SupervisionRecord.id)
        .where(SupervisionRecordItem.item_id == item_id)
        .order_by(SupervisionRecord.created_at, SupervisionRecord.id)))
    notices = list(session.scalars(
        select(Notice).join(NoticeItem, NoticeItem.notice_id == Notice.id)
        .where(NoticeItem.item_id == item_id).order_by(Notice.created_at, Notice.id)))
    return {"records": records, "notices": notices}


def people(session: Session, ids: Iterable[int | None]) -> dict[int, User]:
    """Users by id (for showing who recorded, requested or approved)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def items_brief(session: Session, ids: Sequence[int]) -> list[dict]:
    """Number, unit and problem of the given items (already scope-filtered by the caller)."""
    if not ids:
        return []
    rows = session.execute(select(Item.id, Item.number, Item.description, Item.state,
                                  Item.submitted, Unit.name.label("unit_name"))
                           .join(Unit, Unit.id == Item.unit_id)
                           .where(Item.id.in_(list(ids))).order_by(Item.number)).all()
    return [{**dict(r._mapping), "status": status_of(r.state, r.submitted)} for r in rows]

