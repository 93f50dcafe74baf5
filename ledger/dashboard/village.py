"""The village secretary's own figures for the home page: open items, the on-time rate,
and the village's score and class over the last cycles.

The same ``figures.build`` as the dashboard (the summary tables, so the same lag),
with the class each cycle's published ranking gave the village.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from ledger.core.actors import Actor
from ledger.core.models import Cycle, UnitClass
from ledger.dashboard.figures import SCORE_CYCLES, Figures, build


@dataclass
class VillagePanel:
    figures: Figures
    refreshed_at: dt.datetime | None
    #: newest last: ``{"period", "kind", "score" (or None), "klass" (or None)}``
    cycles: list[dict]


def village_panel(session, actor: Actor, today: dt.date) -> VillagePanel:
    """The panel of the actor's own unit (a village secretary's village)."""
    board = build(session, actor, None, today)
    rows: dict[tuple[str, str], dict] = {
        (s["period"], s["kind"]): {"period": s["period"], "kind": s["kind"],
                                   "score": s["score"], "klass": None}
        for s in board.scores}
    for period, kind, klass in session.execute(
            select(Cycle.period, Cycle.kind, UnitClass.klass)
            .join(UnitClass, UnitClass.cycle_id == Cycle.id)
            .where(UnitClass.unit_id == board.unit.id)
            .order_by(Cycle.period.desc()).limit(SCORE_CYCLES)):
        rows.setdefault((period, kind), {"period": period, "kind": kind, "score": None,
                                         "klass": None})["klass"] = klass
    cycles = sorted(rows.values(), key=lambda r: (r["period"], r["kind"]))[-SCORE_CYCLES:]
    return VillagePanel(board.own, board.refreshed_at, cycles)
