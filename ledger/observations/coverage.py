"""Coverage (全覆盖、无遗漏): who has and has not been observed, reminders before a
period ends, and late marking after it.

``coverage`` counts a cycle's targets per observing unit (or rolled up per
county) in one grouped query: planned (all targets), scheduled (given a
batch), in progress, submitted, confirmed and late.  An observation is late
when it is not confirmed and either the period is over or the daily sweep
marked it (``late_at``).

The daily sweep (``schedules.jobs.observation_sweep``) calls ``mark_late``
and ``remind_unfinished``.  Reminders go to the observing unit's staff N
working days before the period's last day, once per observation, reminder
point and person (the notification's ``dedupe_key``), through the same
notifications and deliveries as the ledger's reminders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields

from sqlalchemy import DateTime, Integer, String, and_, case, cast, func, literal, select, true
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session, aliased

from ledger.calendar.dates import chinese_date
from ledger.core.actors import Actor
from ledger.core.db import dialect_insert
from ledger.core.errors import NotFound, PermissionDenied, ValidationError
from ledger.core.models import (
    Cycle,
    CycleKind,
    Delivery,
    Notification,
    Observation,
    ObservationStatus,
    Role,
    Unit,
    User,
)
from ledger.core.uow import UnitOfWork
from ledger.notify.reminders import SweepResult, notify_settings, queue_deliveries
from ledger.observations.cycles import OBSERVING_LEVEL, period_bounds

#: working days before the period's last day at which the unfinished are reminded
OFFSETS = (10, 5, 1)
BY = ("observing_unit", "county")
CONFIRMED = ObservationStatus.CONFIRMED.value
STATUS_WORDS = {"planned": "未开始", "in_progress": "进行中", "submitted": "待确认"}
#: the staff of the observing level who get the reminders
STAFF_OF = {"township": Role.TOWNSHIP_STAFF.value, "county": Role.COUNTY_STAFF.value}


@dataclass
class CoverageRow:
    """One observing unit's (or county's) targets of a cycle, counted by progress."""

    unit_id: int | None
    unit_code: str
    unit_name: str
    planned: int = 0
    scheduled: int = 0
    in_progress: int = 0
    submitted: int = 0
    confirmed: int = 0
    late: int = 0

    @property
    def unfinished(self) -> int:
        return self.planned - self.confirmed

    def as_dict(self) -> dict:
        """The row without the unit id (what ``sanhu observations coverage --json`` prints)."""
        out = asdict(self)
        del out["unit_id"]
        return out


COUNTS = tuple(f.name for f in fields(CoverageRow))[3:]


def total_of(rows: list[CoverageRow], name: str = "合计") -> CoverageRow:
    """The sum of ``rows`` as one more row (no unit)."""
    return CoverageRow(None, "", name, **{c: sum(getattr(r, c) for r in rows) for c in COUNTS})


def _rows(session: Session, cycle: Cycle, where: list, today: dt.date,
          by: str) -> list[CoverageRow]:
    """One grouped query: SUM(CASE ...) per count, per observing unit or county."""
    if by not in BY:
        raise ValidationError("coverage is by observing unit or by county",
                              fields={"by": "unknown"})
    over = period_bounds(cycle.kind, cycle.period)[1] < today
    o = Observation
    unconfirmed = o.status != CONFIRMED
    late = unconfirmed if over else and_(unconfirmed, o.late_at.is_not(None))

    def count(condition):
        return func.sum(case((condition, 1), else_=0))

    key = o.observing_unit_id if by == "observing_unit" else o.county_id
    counted = (select(key.label("unit_id"), func.count().label("planned"),
                      count(o.batch_id.is_not(None)).label("scheduled"),
                      count(o.status == ObservationStatus.IN_PROGRESS.value).label("in_progress"),
                      count(o.status == ObservationStatus.SUBMITTED.value).label("submitted"),
                      count(o.status == CONFIRMED).label("confirmed"),
                      count(late).label("late"))
               .where(o.cycle_id == cycle.id, *where).group_by(key).subquery())
    rows = session.execute(
        select(Unit.id, Unit.code, Unit.name, *(counted.c[c] for c in COUNTS))
        .join(counted, counted.c.unit_id == Unit.id).order_by(Unit.code))
    return [CoverageRow(uid, code, name, *(int(n or 0) for n in counts))
            for uid, code, name, *counts in rows]


def _cycle(session: Session, cycle_id: object) -> Cycle:
    try:
        cycle = session.get(Cycle, int(cycle_id))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        cycle = None
    if cycle is None:
        raise NotFound("no such cycle")
    return cycle


def coverage(session: Session, cycle_id: object, actor: Actor, today: dt.date, *,
             by: str = "observing_unit") -> list[CoverageRow]:
    """The cycle's coverage in the actor's scope, per observing unit (or per county).

    The city's staff and supervisors see every unit, a county's staff their
    townships (village cycles) or their own county (township cycles), a
    township's staff their own unit.  Village secretaries see none.
    """
    if actor.role == Role.VILLAGE_SECRETARY.value:
        raise PermissionDenied("coverage is for staff and supervisors", event="coverage")
    cycle = _cycle(session, cycle_id)
    if actor.role == Role.TOWNSHIP_STAFF.value:
        where = [Observation.observing_unit_id == actor.unit_id]
    else:
        where = [actor.scope_clause(Observation)]
    return _rows(session, cycle, where, today, by)


def coverage_of_all(session: Session, cycle_id: object, today: dt.date, *,
                    by: str = "observing_unit") -> list[CoverageRow]:
    """The whole database's coverage (the command line and the benchmark: no actor)."""
    return _rows(session, _cycle(session, cycle_id), [], today, by)


# --- late marking and reminders -------------------------------------------------------


def mark_late(uow: UnitOfWork, today: dt.date) -> int:
    """Stamp ``late_at`` on the unconfirmed observations of periods that ended before
    ``today``; idempotent (stamped ones keep their time).  Commits; returns the count."""
    ended = [c.id for c in uow.session.scalars(select(Cycle))
             if period_bounds(c.kind, c.period)[1] < today]
    if not ended:
        return 0
    table = Observation.__table__
    # a plain UPDATE: being late is not a lifecycle event and does not bump the version
    count = uow.session.execute(
        sql_update(table).where(table.c.cycle_id.in_(ended), table.c.status != CONFIRMED,
                                table.c.late_at.is_(None))
        .values(late_at=uow.now())).rowcount
    uow.commit()
    return max(count, 0)


def _text(value: str):
    return literal(value, String)


def _remind(uow: UnitOfWork, cycle: Cycle, offset: int, left: int, last: dt.date,
            now: dt.datetime) -> int:
    """``INSERT … SELECT``: one notification per unfinished observation and staff member."""
    o, u, target = Observation, aliased(User), aliased(Unit)
    staff = STAFF_OF[OBSERVING_LEVEL[CycleKind(cycle.kind)].value]
    rows = (select(u.id.label("user_id"), o.id.label("observation_id"), o.status,
                   target.name.label("target"), target.code)
            .join(u, and_(u.unit_id == o.observing_unit_id, u.active == true(),
                          u.role == staff))
            .join(target, target.id == o.unit_id)
            .where(o.cycle_id == cycle.id, o.status != CONFIRMED)).subquery("due")
    status = case(*((rows.c.status == s, _text(w)) for s, w in STATUS_WORDS.items()),
                  else_=rows.c.status)
    title = (_text(f"观摩提醒:{cycle.period} 还有 {left} 个工作日结束,") + rows.c.target
             + _text(" 尚未完成观摩"))
    body = (_text(f"请于 {chinese_date(last)} 前完成对 ") + rows.c.target + _text("(")
            + rows.c.code + _text(")的观摩并确认记录。当前状态:") + status + _text("。"))
    key = (_text("obs:") + cast(rows.c.observation_id, String) + _text(f":{offset}:")
           + cast(rows.c.user_id, String))
    source = select(rows.c.user_id, _text("observation"), _text("observer"),
                    rows.c.observation_id, literal(last), literal(left, Integer),
                    func.substr(title, 1, 200), body, key,
                    literal(now, DateTime(timezone=True))).where(true())
    ins = dialect_insert(uow.session, Notification.__table__).from_select(
        ["user_id", "kind", "audience", "observation_id", "deadline", "offset_days", "title",
         "body", "dedupe_key", "created_at"], source)
    ins = ins.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return max(uow.session.execute(ins.execution_options(preserve_rowcount=True)).rowcount, 0)


def _webhook_once(uow: UnitOfWork, now: dt.datetime) -> int:
    """The group robot gets each observation's reminder once, not once per staff member."""
    n = Notification
    at = literal(now, DateTime(timezone=True))
    source = (select(func.min(n.id), _text("webhook"), _text("queued"), at, at)
              .where(n.created_at == at, n.kind == "observation")
              .group_by(n.observation_id, n.offset_days))
    ins = dialect_insert(uow.session, Delivery.__table__).from_select(
        ["notification_id", "channel", "status", "created_at", "next_attempt_at"], source
    ).on_conflict_do_nothing(index_elements=["notification_id", "channel"])
    return max(uow.session.execute(ins.execution_options(preserve_rowcount=True)).rowcount, 0)


def remind_unfinished(uow: UnitOfWork, today: dt.date,
                      offsets: tuple[int, ...] = OFFSETS) -> SweepResult:
    """Remind the observing units' staff of unfinished observations before periods end.

    A reminder point is due when at most ``offset`` working days are left to
    the period's last day (a day the scheduler was down is caught up by the
    next point still ahead); each observation, point and person is reminded
    once however often this runs.  Inbox and e-mail per person, the webhook
    once per observation.  Commits.
    """
    points = sorted({int(o) for o in offsets})
    settings = notify_settings(uow)
    now = uow.now()
    result = SweepResult()
    for cycle in uow.session.scalars(select(Cycle).order_by(Cycle.id)):
        first, last = period_bounds(cycle.kind, cycle.period)
        if not first <= today <= last:
            continue
        left = uow.calendar.workdays_between(today, last)
        due = [p for p in points if p >= left]
        if due:
            result.notifications[f"{cycle.kind}:{cycle.period}:{due[0]}"] = _remind(
                uow, cycle, due[0], left, last, now)
    if result.total:
        result.deliveries = queue_deliveries(uow, settings, now)
        if settings.webhook_enabled:
            result.deliveries["webhook"] = (result.deliveries.get("webhook", 0)
                                            + _webhook_once(uow, now))
    uow.commit()
    return result
