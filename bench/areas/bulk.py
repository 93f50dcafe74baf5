"""The bulk writes: ``services.bulk_assign`` of found items, and
``cycles.open_cycle`` for all villages (then the same call again)."""

from __future__ import annotations

import time
from collections import defaultdict

from sqlalchemy import func, select, text

from bench.common import log
from bench.harness import Measurer
from bench.shape import quarter_of, shift_quarter
from ledger.core.models import Cycle, Observation
from ledger.items import services
from ledger.observations import cycles


def bulk_assign(m: Measurer) -> dict:
    n = m.args.bulk
    with m.app.uow() as uow:
        s = uow.session
        level, unit_id, found = "township", None, 0
        row = s.execute(text(
            "SELECT township_id, count(*) FROM items WHERE state = 'found' "
            "GROUP BY township_id ORDER BY count(*) DESC LIMIT 1")).first()
        if row and row[1] >= n:
            unit_id, found = row
        else:
            level = "county"
            unit_id, found = s.execute(text(
                "SELECT county_id, count(*) FROM items WHERE state = 'found' "
                "GROUP BY county_id ORDER BY count(*) DESC LIMIT 1")).first()
        rows = s.execute(text(
            f"SELECT id, village_id FROM items WHERE state = 'found' AND {level}_id = :u "
            "ORDER BY id LIMIT :n"), {"u": unit_id, "n": n}).all()
    actor = m.by_role[f"{level}_staff"][unit_id]
    sec = m.by_role["village_secretary"]
    groups: dict[int, list[int]] = defaultdict(list)
    for item_id, village_id in rows:
        groups[village_id].append(item_id)
    # one bulk_assign per village: the responsible person must belong to the item's unit
    t0 = time.perf_counter()
    results = []
    for village_id, ids in groups.items():
        results += services.bulk_assign(m.app.uow, ids, actor,
                                        responsible_user_id=sec[village_id].id,
                                        category="deadline", deadline="10w")
    total = time.perf_counter() - t0
    ok = sum(r.ok for r in results)
    errors = sorted({str(r.error) for r in results if not r.ok})[:3]
    res = {"actor": f"{level}_staff", "items": len(results), "ok": ok, "seconds": total,
           "per_s": len(results) / total if total else 0, "calls": len(groups),
           "errors": errors}
    log(f"  {m.db}: bulk assign: {ok}/{len(results)} items by {level} staff in "
        f"{len(groups)} bulk_assign calls, {total:.2f} s = {res['per_s']:,.0f} items/s")
    if m.profile_dir:
        with m.app.uow() as uow:
            more = uow.session.execute(text(
                f"SELECT id, village_id FROM items WHERE state = 'found' AND {level}_id = :u "
                "ORDER BY id LIMIT 200"), {"u": unit_id}).all()

        def run(i):
            item_id, village_id = more[i]
            services.bulk_assign(m.app.uow, [item_id], actor,
                                 responsible_user_id=sec[village_id].id,
                                 category="deadline", deadline="10w")

        m._profile("bulk assign", run, len(more))
    return res


def open_cycle(m: Measurer) -> dict:
    with m.app.uow() as uow:
        have = set(uow.session.scalars(select(Cycle.period).where(
            Cycle.kind == "village_quarterly")))
    y, q = shift_quarter(*quarter_of(m.today), 1)
    while f"{y}Q{q}" in have:
        y, q = shift_quarter(y, q, 1)
    period = f"{y}Q{q}"
    with m.app.uow() as uow:
        t0 = time.perf_counter()
        first = cycles.open_cycle(uow, "village_quarterly", period)
        t_first = time.perf_counter() - t0
    with m.app.uow() as uow:
        in_db = uow.session.scalar(select(func.count(Observation.id)).where(
            Observation.cycle_id == first.cycle_id))
    with m.app.uow() as uow:
        t0 = time.perf_counter()
        again = cycles.open_cycle(uow, "village_quarterly", period)
        t_again = time.perf_counter() - t0
    with m.app.uow() as uow:
        in_db_again = uow.session.scalar(select(func.count(Observation.id)).where(
            Observation.cycle_id == first.cycle_id))
    res = {"period": period, "seconds": t_first, "observations": in_db,
           "reported": [first.created, first.observations_created],
           "rerun_seconds": t_again, "rerun_new": in_db_again - in_db,
           "rerun_reported": [again.created, again.observations_created]}
    log(f"  {m.db}: open_cycle {period}: {t_first:.2f} s, {in_db:,} observations in the "
        f"database (open_cycle reported created={first.created}, "
        f"observations_created={first.observations_created}); re-run {t_again:.3f} s, "
        f"{in_db_again - in_db} new")
    if in_db != first.observations_created:
        log(f"  {m.db}: WARNING: open_cycle's OpenedCycle disagrees with the database")
    return res
