"""A unit's dashboard: its figures and its child units', from the summary tables, plus
the observation and ranking figures, all counted by the last refresh.

Scope: the unit must lie in the actor's subtree (``NotFound`` otherwise); every
figure counts the unit's subtree only. Definitions (also on the page):

- items by status as the ledger list counts them (销号 includes 撤销);
- rectification rate = closed as rectified ÷ problems (not dismissed); on-time
  rate = rectified by the end of the deadline's day ÷ rectified;
- overdue = open (assigned or rectifying, not submitted) and past the deadline,
  with the average and the most calendar days overdue;
- the trend by month: problems recorded in the month, closed in the month, and
  the share of the month's problems closed by now;
- working days from the first assignment to 销号: mean and 90th percentile;
- the standards most problems concern (the common weaknesses);
- observations: the current cycle's coverage, the last published classes and
  the average score per cycle.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from ledger.core.actors import Actor
from ledger.core.errors import NotFound, PermissionDenied
from ledger.core.models import (
    Role,
    Standard,
    Unit,
)
from ledger.dashboard.models import DashMonth, DashStandard, DashUnit
from ledger.dashboard.summary import (
    STATUS_COLUMNS,
    mean,
    percentile,
    refreshed_at,
)

COUNTS = (*STATUS_COLUMNS, "valid", "rectified", "on_time", "overdue", "overdue_days",
          "overdue_max")
READERS = frozenset({Role.CITY_STAFF.value, Role.COUNTY_STAFF.value, Role.TOWNSHIP_STAFF.value,
                     Role.SUPERVISOR.value, Role.VILLAGE_SECRETARY.value})
TREND_MONTHS = 12
TOP_STANDARDS = 10
SCORE_CYCLES = 6


@dataclass
class Figures:
    """One unit's counted figures and the rates derived from them."""

    unit_id: int
    name: str
    code: str
    level: str
    counts: dict

    @property
    def rate(self) -> float | None:
        v = self.counts["valid"]
        return round(100.0 * self.counts["rectified"] / v, 1) if v else None

    @property
    def on_time_rate(self) -> float | None:
        r = self.counts["rectified"]
        return round(100.0 * self.counts["on_time"] / r, 1) if r else None

    @property
    def overdue_mean(self) -> float | None:
        n = self.counts["overdue"]
        return round(self.counts["overdue_days"] / n, 1) if n else None

    @property
    def open(self) -> int:
        c = self.counts
        return c["assigned"] + c["rectifying"] + c["submitted"]


@dataclass
class Dashboard:
    unit: Unit
    refreshed_at: dt.datetime | None
    own: Figures
    children: list[Figures]
    months: list[dict]
    standards: list[dict]
    close_mean: float | None
    close_p90: int | None
    close_n: int
    coverage: list[dict] = field(default_factory=list)
    classes: list[dict] = field(default_factory=list)
    scores: list[dict] = field(default_factory=list)


def _figures(unit: Unit, row: DashUnit | None) -> Figures:
    counts = {k: int(getattr(row, k) or 0) if row is not None else 0 for k in COUNTS}
    return Figures(unit.id, unit.name, unit.code, unit.level, counts)


def dashboard_unit(session, actor: Actor, unit_id: object) -> Unit:
    """The unit a dashboard shows: the actor's own, or one in its subtree."""
    if actor.role not in READERS:
        raise PermissionDenied("dashboards are for the ledger's users", event="dashboard")
    if unit_id in (None, ""):
        return session.get(Unit, actor.unit_id)
    unit = session.get(Unit, int(unit_id)) if str(unit_id).isdigit() else None
    if unit is None or not actor.sees(unit):
        raise NotFound("no such unit")
    return unit


def month_keys(today: dt.date, n: int = TREND_MONTHS) -> list[str]:
    """The last ``n`` months up to this one, oldest first (``2026-01`` …)."""
    keys, year, month = [], today.year, today.month
    for _ in range(n):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return keys[::-1]


def build(session, actor: Actor, unit_id: object, today: dt.date) -> Dashboard:
    unit = dashboard_unit(session, actor, unit_id)
    children = session.execute(select(Unit).where(Unit.parent_id == unit.id,
                                                  Unit.active.is_(True))
                               .order_by(Unit.code)).scalars().all()
    rows = {r.unit_id: r for r in session.scalars(select(DashUnit).where(
        DashUnit.unit_id.in_([unit.id, *(c.id for c in children)])))}
    own_row = rows.get(unit.id)
    hist = (own_row.close_days if own_row is not None else None) or {}
    observed = (own_row.observed if own_row is not None else None) or {}
    keys = month_keys(today)
    stored = {m.month: m for m in session.scalars(select(DashMonth).where(
        DashMonth.unit_id == unit.id, DashMonth.month.in_(keys)))}
    months = []
    for key in keys:
        m = stored.get(key)
        found, closed = (m.found, m.closed) if m else (0, 0)
        found_closed, on_time = (m.found_closed, m.on_time) if m else (0, 0)
        months.append({"month": key, "found": found, "closed": closed, "on_time": on_time,
                       "found_closed": found_closed,
                       "rate": round(100.0 * found_closed / found, 1) if found else None})
    standards = [{"standard_id": s.id, "set": s.set, "number": s.number, "title": s.title,
                  "category": s.category_number, "n": n}
                 for s, n in session.execute(
                     select(Standard, DashStandard.n)
                     .join(DashStandard, DashStandard.standard_id == Standard.id)
                     .where(DashStandard.unit_id == unit.id)
                     .order_by(DashStandard.n.desc(), Standard.set, Standard.number)
                     .limit(TOP_STANDARDS))]
    return Dashboard(
        unit=unit, refreshed_at=refreshed_at(session), own=_figures(unit, own_row),
        children=[_figures(c, rows.get(c.id)) for c in children], months=months,
        standards=standards, close_mean=round(mean(hist), 1) if mean(hist) is not None
        else None, close_p90=percentile(hist, 0.9), close_n=sum(hist.values()),
        coverage=observed.get("coverage", []), classes=observed.get("classes", []),
        scores=observed.get("scores", []))
