"""The dashboards' summary tables, rebuilt as a whole by a scheduled job (SPEC §11, §14).

Counting a province's two million items for every dashboard view would take
seconds; instead the job ``dashboard_refresh`` (every ``REFRESH_MINUTES``) reads
the ledger in a few grouped queries at the finest grain (village, or township
for township-level items), adds the groups up every level of the tree in
Python, and replaces the tables in one transaction. A dashboard reads a unit's
row and its children's, and says when they were counted ("数据更新于 …"): the
figures lag the ledger by at most the refresh interval plus its run time.

Every figure is defined by the same SQL the ledger list filters with
(``ledger.items.queries``: status, ``outcome_clause``, ``on_time_clause``, the
open-and-past-deadline predicate, ``month_bounds`` / ``local_month``), so a bar's
number equals the count of the list it links to (tested).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import aliased

from ledger.core.db import dialect_insert
from ledger.core.models import (
    AppSetting,
    CalendarDay,
    Cycle,
    Item,
    ItemEvent,
    Observation,
    Unit,
    UnitClass,
    status_of,
)
from ledger.core.uow import UnitOfWork
from ledger.dashboard.models import DashMonth, DashStandard, DashUnit
from ledger.items.queries import (
    days_between,
    local_date,
    local_month,
    on_time_clause,
    open_predicate,
    outcome_clause,
)

REFRESH_MINUTES = 10
REFRESHED_KEY = "dashboard.refreshed_at"
LEVELS = ("city_id", "county_id", "township_id", "village_id")
#: months kept for the trend
MONTHS = 24
STATUS_COLUMNS = ("found", "assigned", "rectifying", "submitted", "verified", "closed")


@dataclass
class RefreshResult:
    units: int
    months: int
    standards: int
    seconds: float


def _chain(row) -> list[int]:
    """The unit ids a finest-grain group counts for: each of its ancestors and itself."""
    return [u for u in row[:4] if u is not None]


def _upper(row) -> list[int]:
    """Only the city, county and township of a group (the levels with trends)."""
    return [u for u in row[:3] if u is not None]


def refresh(uow: UnitOfWork) -> RefreshResult:
    """Recount every unit's figures from the ledger and replace the tables; commits."""
    started = uow.now()
    session, zone, today = uow.session, uow.settings.zone, uow.today()
    anc = [getattr(Item, c) for c in LEVELS]
    units: dict[int, Counter] = defaultdict(Counter)
    close_days: dict[int, Counter] = defaultdict(Counter)

    # statuses, valid, rectified and on-time problems: one pass, grouped at the finest grain
    valid = outcome_clause(session, "valid", zone)
    rectified = outcome_clause(session, "rectified", zone)
    on_time = on_time_clause(session, zone)
    for row in session.execute(
            select(*anc, Item.state, Item.submitted, func.count(),
                   func.sum(case((valid, 1), else_=0)),
                   func.sum(case((rectified, 1), else_=0)),
                   func.sum(case((on_time, 1), else_=0)))
            .group_by(*anc, Item.state, Item.submitted)):
        state, submitted, n, v, r, t = row[4:]
        for unit_id in _chain(row):
            c = units[unit_id]
            c[status_of(state, bool(submitted))] += n
            c["valid"] += int(v or 0)
            c["rectified"] += int(r or 0)
            c["on_time"] += int(t or 0)

    # overdue: open and past the deadline, with the calendar days overdue
    late = days_between(session, today, Item.deadline)
    for row in session.execute(
            select(*anc, func.count(), func.sum(late), func.max(late))
            .where(open_predicate(session), Item.deadline < today).group_by(*anc)):
        n, total, most = row[4:]
        for unit_id in _chain(row):
            c = units[unit_id]
            c["overdue"] += n
            c["overdue_days"] += int(total or 0)
            c["overdue_max"] = max(c["overdue_max"], int(most or 0))

    # working days from the first assignment to 销号, as a histogram per unit
    assigned = (select(ItemEvent.item_id, func.min(ItemEvent.at).label("at"))
                .join(Item, Item.id == ItemEvent.item_id)
                .where(rectified, ItemEvent.to_status == "assigned")
                .group_by(ItemEvent.item_id).subquery())
    start_day, end_day = aliased(CalendarDay), aliased(CalendarDay)
    days = end_day.workday_seq - start_day.workday_seq
    for row in session.execute(
            select(*anc, days, func.count())
            .select_from(Item).join(assigned, assigned.c.item_id == Item.id)
            .join(start_day, start_day.day == local_date(session, assigned.c.at, zone))
            .join(end_day, end_day.day == local_date(session, Item.closed_at, zone))
            .group_by(*anc, days)):
        d, n = int(row[4]), row[5]
        for unit_id in _chain(row):
            close_days[unit_id][max(d, 0)] += n

    # months: found (valid) and closed (rectified) per month, at the upper levels
    first_month = (today.replace(day=1) - dt.timedelta(days=31 * (MONTHS - 1))).replace(day=1)
    since = dt.datetime.combine(first_month, dt.time(), zone).astimezone(dt.UTC)
    months: dict[tuple[int, str], Counter] = defaultdict(Counter)
    found_month = local_month(session, Item.created_at, zone)
    for row in session.execute(
            select(*anc[:3], found_month, func.count(), func.sum(case((rectified, 1), else_=0)))
            .where(valid, Item.created_at >= since).group_by(*anc[:3], found_month)):
        month, n, closed = row[3:]
        for unit_id in _upper(row):
            months[unit_id, month]["found"] += n
            months[unit_id, month]["found_closed"] += int(closed or 0)
    closed_month = local_month(session, Item.closed_at, zone)
    for row in session.execute(
            select(*anc[:3], closed_month, func.count(), func.sum(case((on_time, 1), else_=0)))
            .where(rectified, Item.closed_at >= since).group_by(*anc[:3], closed_month)):
        month, n, in_time = row[3:]
        for unit_id in _upper(row):
            months[unit_id, month]["closed"] += n
            months[unit_id, month]["on_time"] += int(in_time or 0)

    # the standards problems concern (not dismissed), at the upper levels
    standards: dict[tuple[int, int], int] = Counter()
    for row in session.execute(
            select(*anc[:3], Item.standard_id, func.count())
            .where(valid, Item.standard_id.is_not(None))
            .group_by(*anc[:3], Item.standard_id)):
        for unit_id in _upper(row):
            standards[unit_id, row[3]] += row[4]

    observed = _observed(session)

    session.execute(delete(DashUnit))
    session.execute(delete(DashMonth))
    session.execute(delete(DashStandard))
    unit_rows = [{"unit_id": u, **{k: c[k] for k in (*STATUS_COLUMNS, "valid", "rectified",
                                                     "on_time", "overdue", "overdue_days",
                                                     "overdue_max")},
                  "close_days": {str(d): n for d, n in sorted(close_days[u].items())},
                  "observed": observed.pop(u, {})}
                 for u, c in units.items()]
    unit_rows += [{"unit_id": u, **dict.fromkeys((*STATUS_COLUMNS, "valid", "rectified",
                                                  "on_time", "overdue", "overdue_days",
                                                  "overdue_max"), 0),
                   "close_days": {}, "observed": o} for u, o in observed.items()]
    for chunk in _chunks(unit_rows):
        session.execute(insert(DashUnit), chunk)
    month_rows = [{"unit_id": u, "month": m, "found": c["found"], "closed": c["closed"],
                   "on_time": c["on_time"], "found_closed": c["found_closed"]}
                  for (u, m), c in months.items() if m]
    for chunk in _chunks(month_rows):
        session.execute(insert(DashMonth), chunk)
    standard_rows = [{"unit_id": u, "standard_id": s, "n": n} for (u, s), n in standards.items()]
    for chunk in _chunks(standard_rows):
        session.execute(insert(DashStandard), chunk)
    finished = uow.now()
    ins = dialect_insert(session, AppSetting.__table__).values(
        key=REFRESHED_KEY, value=finished.isoformat(), updated_at=finished)
    session.execute(ins.on_conflict_do_update(index_elements=["key"], set_={
        "value": ins.excluded.value, "updated_at": ins.excluded.updated_at}))
    uow.commit()
    return RefreshResult(len(unit_rows), len(month_rows), len(standard_rows),
                         (finished - started).total_seconds())


SCORE_CYCLES = 6


def _observed(session) -> dict[int, dict]:
    """Per unit (every level): the latest cycles' observations by progress, the classes of
    the last cycle of each kind with published classes, and the average final score of
    the confirmed observations of the last ``SCORE_CYCLES`` cycles."""
    anc = [getattr(Observation, c) for c in LEVELS]
    out: dict[int, dict] = defaultdict(lambda: {"coverage": {}, "classes": {}, "scores": {}})
    cycles = {c.id: c for c in session.scalars(select(Cycle))}
    latest = {}
    for c in cycles.values():
        if c.kind not in latest or c.period > latest[c.kind].period:
            latest[c.kind] = c
    if latest:
        for row in session.execute(
                select(Observation.cycle_id, *anc, Observation.status, func.count())
                .where(Observation.cycle_id.in_([c.id for c in latest.values()]))
                .group_by(Observation.cycle_id, *anc, Observation.status)):
            cycle_id, status, n = row[0], row[5], row[6]
            for unit_id in _chain(row[1:]):
                cov = out[unit_id]["coverage"].setdefault(str(cycle_id), {})
                cov[status] = cov.get(status, 0) + n
    uanc = [getattr(Unit, c) for c in LEVELS]
    for row in session.execute(
            select(UnitClass.cycle_id, *uanc, UnitClass.klass, func.count())
            .join(Unit, Unit.id == UnitClass.unit_id)
            .group_by(UnitClass.cycle_id, *uanc, UnitClass.klass)):
        cycle_id, klass, n = row[0], row[5], row[6]
        for unit_id in _chain(row[1:]):
            per = out[unit_id]["classes"].setdefault(str(cycle_id), {})
            per[klass] = per.get(klass, 0) + n
    for row in session.execute(
            select(Observation.cycle_id, *anc, func.sum(Observation.score), func.count())
            .where(Observation.status == "confirmed", Observation.score.is_not(None))
            .group_by(Observation.cycle_id, *anc)):
        cycle_id, total, n = row[0], float(row[5] or 0), row[6]
        for unit_id in _chain(row[1:]):
            s = out[unit_id]["scores"].setdefault(str(cycle_id), [0.0, 0])
            s[0] += total
            s[1] += n
    result = {}
    for unit_id, o in out.items():
        classes = {}
        for cycle_id, counts in o["classes"].items():  # the last cycle of each kind
            c = cycles[int(cycle_id)]
            if c.kind not in classes or c.period > classes[c.kind]["period"]:
                classes[c.kind] = {"cycle_id": c.id, "period": c.period, "kind": c.kind,
                                   **{k: counts.get(k, 0)
                                      for k in ("demonstration", "middle", "lagging")}}
        scores = sorted(({"period": cycles[int(k)].period, "kind": cycles[int(k)].kind,
                          "score": round(t / n, 2), "n": n}
                         for k, (t, n) in o["scores"].items() if n),
                        key=lambda r: r["period"])[-SCORE_CYCLES:]
        coverage = [{"cycle_id": int(k), "period": cycles[int(k)].period,
                     "kind": cycles[int(k)].kind, "total": sum(v.values()),
                     **{s: v.get(s, 0) for s in ("planned", "in_progress", "submitted",
                                                 "confirmed")}}
                    for k, v in o["coverage"].items()]
        result[unit_id] = {"coverage": sorted(coverage, key=lambda r: r["kind"]),
                           "classes": [classes[k] for k in sorted(classes)],
                           "scores": scores}
    return result


def _chunks(rows: list[dict], size: int = 5000):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def refreshed_at(session) -> dt.datetime | None:
    value = session.scalar(select(AppSetting.value).where(AppSetting.key == REFRESHED_KEY))
    return dt.datetime.fromisoformat(value) if value else None


def percentile(histogram: dict, p: float) -> int | None:
    """The ``p`` quantile (0–1) of a ``{value: count}`` histogram (nearest rank)."""
    counts = sorted((int(k), n) for k, n in (histogram or {}).items())
    total = sum(n for _, n in counts)
    if not total:
        return None
    rank, seen = max(1, math.ceil(p * total)), 0
    for value, n in counts:
        seen += n
        if seen >= rank:
            return value
    return counts[-1][0]


def mean(histogram: dict) -> float | None:
    total = sum((histogram or {}).values())
    if not total:
        return None
    return sum(int(k) * n for k, n in histogram.items()) / total

