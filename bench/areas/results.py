"""Results (SPEC §14): rank and class a province cycle — every township's draft
ranking of its villages for last quarter, in one call of ``rankings.compute_all``."""

from __future__ import annotations

import time

from sqlalchemy import text

from bench.common import log
from bench.harness import Measurer
from ledger.results import rankings


def rank_province(m: Measurer) -> dict:
    with m.app.uow() as uow:
        cycle_id, period = uow.session.execute(text(
            "SELECT id, period FROM cycles WHERE kind = 'village_quarterly' "
            "ORDER BY period DESC LIMIT 1 OFFSET 1")).one()
    t0 = time.perf_counter()
    with m.app.uow() as uow:
        made = rankings.compute_all(uow, cycle_id)
    seconds = time.perf_counter() - t0
    with m.app.uow() as uow:
        rows, ranked = uow.session.execute(text(
            "SELECT count(*), count(rank) FROM ranking_rows r JOIN rankings k "
            "ON k.id = r.ranking_id WHERE k.cycle_id = :c"), {"c": cycle_id}).one()
    log(f"  {m.db}: rank and class {period}: {made:,} rankings, {rows:,} rows ({ranked:,} "
        f"ranked) in {seconds:.2f} s")
    return {"period": period, "rankings": made, "rows": rows, "ranked": ranked,
            "seconds": seconds}


def county_report(m: Measurer) -> dict:
    """A county's half-year report (报送): its published ranking of its townships, if any,
    and the ledger figures of the half-year per township — what submitting locks."""
    from ledger.core.models import Unit
    from ledger.results import reports

    with m.app.uow() as uow:
        period = reports.period_of("township_half_yearly", m.today)
        counties = [row[0] for row in uow.session.execute(text(
            "SELECT id FROM units WHERE level = 'county' ORDER BY code"))]
    found: list[int] = []

    def one(i: int) -> None:
        with m.app.uow() as uow:
            unit = uow.session.get(Unit, counties[i % len(counties)])
            snap = reports.build_snapshot(uow, unit, period)
            found.append(snap["total"]["found"])

    res = m.latency(f"county half-year report {period}", one, runs=30)
    res.update(period=period, counties=len(counties),
               found_per_county=int(sum(found) / max(1, len(found))))
    return res
