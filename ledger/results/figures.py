"""The ledger figures of a period and subtree, as reports and ranking notices print them.

For a unit (a township or a county) and a period (its first and last day,
Asia/Shanghai), per child unit (the township's villages, the county's
townships) and in total:

- **found** (发现): items of the subtree created in the period;
- **closed** (销号): of those, items closed as rectified (dismissed ones, 撤销,
  are neither counted as found nor as closed);
- **rate** (整改率): closed ÷ found, in percent with one decimal, ``None``
  when nothing was found;
- **overdue** (逾期): items of the subtree, found in any period, still open and
  past their deadline on the day the figures are read;
- **reopened** (回头看重开): reopen events in the period on items of the subtree.

One grouped query for the first four and one for the reopen events, both
limited to the child units' ancestor column (``township_id IN (…)``), so a
county's half-year reads its own items once, through an index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ledger.core.models import ANCESTOR_COLUMNS, Item, ItemEvent, Unit
from ledger.items.queries import open_predicate

CHILD_LEVEL = {"city": "county", "county": "township", "township": "village"}


@dataclass
class Figures:
    found: int = 0
    closed: int = 0
    overdue: int = 0
    reopened: int = 0

    @property
    def rate(self) -> float | None:
        return round(100.0 * self.closed / self.found, 1) if self.found else None

    def add(self, other: Figures) -> None:
        self.found += other.found
        self.closed += other.closed
        self.overdue += other.overdue
        self.reopened += other.reopened

    def as_dict(self) -> dict:
        return {**asdict(self), "rate": self.rate}


def day_start(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The first instant of a local day, in UTC."""
    return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)


def figures_of(session: Session, unit: Unit, first: dt.date, last: dt.date, today: dt.date,
               zone: dt.tzinfo) -> tuple[Figures, dict[int, Figures]]:
    """The subtree's figures in total and per child unit (keyed by the child's id)."""
    child = CHILD_LEVEL.get(unit.level)
    if child is None:
        raise ValueError(f"a {unit.level} has no child units to count")
    by = getattr(Item, ANCESTOR_COLUMNS[child])
    # the children's ids, not the unit's own column: so both databases read the
    # subtree through the child level's index instead of scanning for the grouping
    children = list(session.scalars(select(Unit.id).where(Unit.parent_id == unit.id)))
    if not children:
        return Figures(), {}
    start, end = day_start(first, zone), day_start(last + dt.timedelta(days=1), zone)
    in_period = and_(Item.created_at >= start, Item.created_at < end,
                     Item.resolution.is_distinct_from("dismissed"))
    rows = session.execute(
        select(by,
               func.sum(case((in_period, 1), else_=0)),
               func.sum(case((and_(in_period, Item.resolution == "rectified"), 1), else_=0)),
               func.sum(case((and_(open_predicate(session), Item.deadline < today), 1),
                             else_=0)))
        .where(by.in_(children)).group_by(by))
    per: dict[int, Figures] = {}
    for child_id, found, closed, overdue in rows:
        if child_id is not None:
            per[child_id] = Figures(int(found or 0), int(closed or 0), int(overdue or 0))
    reopened = session.execute(
        select(by, func.count())
        .select_from(Item).join(ItemEvent, ItemEvent.item_id == Item.id)
        .where(by.in_(children), ItemEvent.event == "reopen",
               ItemEvent.at >= start, ItemEvent.at < end)
        .group_by(by))
    for child_id, n in reopened:
        if child_id is not None:
            per.setdefault(child_id, Figures()).reopened = int(n)
    total = Figures()
    for figures in per.values():
        total.add(figures)
    return total, per
