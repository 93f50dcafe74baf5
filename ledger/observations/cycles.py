"""Observation cycles: opening one creates an observation per target unit.

``open_cycle`` is idempotent by unique keys, not by checks in Python: the
cycle is unique per (kind, period) and the observation per (cycle, unit), and
both inserts use ``ON CONFLICT DO NOTHING``.  A re-run therefore creates
nothing, except observations for units added since (full coverage).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from ledger.catalog.standards import current_catalog
from ledger.core.db import dialect_insert
from ledger.core.errors import ValidationError
from ledger.core.models import Cycle, CycleKind, Level, Observation, Unit
from ledger.core.uow import UnitOfWork

PERIOD_PATTERNS = {
    CycleKind.VILLAGE_QUARTERLY: re.compile(r"^(\d{4})Q([1-4])$"),
    CycleKind.TOWNSHIP_HALF_YEARLY: re.compile(r"^(\d{4})H([12])$"),
}
TARGET_LEVEL = {
    CycleKind.VILLAGE_QUARTERLY: Level.VILLAGE,
    CycleKind.TOWNSHIP_HALF_YEARLY: Level.TOWNSHIP,
}
#: who observes the targets: each township its villages, each county its townships
OBSERVING_LEVEL = {
    CycleKind.VILLAGE_QUARTERLY: Level.TOWNSHIP,
    CycleKind.TOWNSHIP_HALF_YEARLY: Level.COUNTY,
}


@dataclass(frozen=True)
class OpenedCycle:
    cycle_id: int
    created: bool
    observations_created: int


def validate_period(kind: str, period: str) -> CycleKind:
    try:
        kind_ = CycleKind(kind)
    except ValueError:
        raise ValidationError(f"unknown cycle kind {kind!r}", fields={"kind": "unknown"}) from None
    if not PERIOD_PATTERNS[kind_].match(period or ""):
        example = "2026Q4" if kind_ is CycleKind.VILLAGE_QUARTERLY else "2026H2"
        raise ValidationError(f"a {kind_.value} period looks like {example}",
                              fields={"period": "invalid period"})
    return kind_


def period_bounds(kind: str, period: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a period: ``2026Q4`` → 1 October to 31 December."""
    kind_ = validate_period(kind, period)
    year, part = (int(g) for g in PERIOD_PATTERNS[kind_].match(period).groups())
    months = 3 if kind_ is CycleKind.VILLAGE_QUARTERLY else 6
    first = dt.date(year, (part - 1) * months + 1, 1)
    last_month = part * months
    last = dt.date(year + (last_month == 12), last_month % 12 + 1, 1) - dt.timedelta(days=1)
    return first, last


def kind_of_period(period: str) -> CycleKind:
    """The cycle kind a period's shape names: ``2026Q4`` quarterly, ``2026H2`` half-yearly."""
    for kind, pattern in PERIOD_PATTERNS.items():
        if pattern.match(period or ""):
            return kind
    raise ValidationError("a period looks like 2026Q4 or 2026H2",
                          fields={"period": "invalid period"})


def cycle_of(session: Session, kind: str, period: str) -> Cycle | None:
    """The cycle of this kind and period, if it was opened."""
    return session.scalar(select(Cycle).where(Cycle.kind == kind, Cycle.period == period))


def open_cycle(uow: UnitOfWork, kind: str, period: str, theme: str | None = None) -> OpenedCycle:
    """Open the cycle and plan one observation per target unit; safe to call again."""
    kind_ = validate_period(kind, period)
    session = uow.session
    catalog = current_catalog(session)
    if catalog is None:
        raise ValidationError("load the standards catalog first (sanhu db upgrade)")
    ins = dialect_insert(session, Cycle.__table__).values(
        kind=kind_.value, period=period, catalog_version_id=catalog.id, theme=theme,
        opened_at=uow.now(),
    ).on_conflict_do_nothing(index_elements=["kind", "period"])
    # psycopg reports rowcount only when asked to keep it
    keep = {"preserve_rowcount": True}
    created = session.execute(ins.execution_options(**keep)).rowcount == 1
    cycle_id = session.scalar(select(Cycle.id).where(Cycle.kind == kind_.value,
                                                     Cycle.period == period))
    targets = select(
        literal(cycle_id), Unit.id, Unit.parent_id, literal("planned"),
        Unit.city_id, Unit.county_id, Unit.township_id, Unit.village_id,
    ).where(Unit.level == TARGET_LEVEL[kind_].value, Unit.active.is_(True))
    obs = dialect_insert(session, Observation.__table__).from_select(
        ["cycle_id", "unit_id", "observing_unit_id", "status",
         "city_id", "county_id", "township_id", "village_id"], targets
    ).on_conflict_do_nothing(index_elements=["cycle_id", "unit_id"])
    added = session.execute(obs.execution_options(**keep)).rowcount
    uow.commit()
    return OpenedCycle(cycle_id, created, max(added, 0))
