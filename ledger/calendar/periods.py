"""Observation periods: a village's quarter (``2026Q4``), a township's half-year
(``2026H2``).  The cycles (``ledger.observations.cycles``) and the items' default
cycle (``ledger.items.services.open_cycle_of``) both name periods with this rule."""

from __future__ import annotations

import datetime as dt

from ledger.core.models import CycleKind


def period_for(kind: str, day: dt.date) -> str:
    """The period of ``kind`` containing ``day``: ``2026Q4`` or ``2026H2``."""
    if CycleKind(kind) is CycleKind.VILLAGE_QUARTERLY:
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}H{1 if day.month <= 6 else 2}"
