"""The item page: ``get_item`` + ``item_history`` + ``item_evidence`` of random items."""

from __future__ import annotations

import random
import statistics

from sqlalchemy import text

from bench.harness import Measurer
from ledger.items import queries


def item_pages(m: Measurer) -> dict:
    rng = random.Random(f"{m.args.seed}-pages")
    ids = [rng.randint(1, m.max_item) for _ in range(m.args.item_pages + 40)]
    id_list = ",".join(map(str, set(ids)))
    with m.app.uow() as uow:
        county_of = dict(uow.session.execute(
            text(f"SELECT id, county_id FROM items WHERE id IN ({id_list})")).all())
    county_actor = {a.unit_id: a for a in m.counties}
    sizes = []

    def run(i):
        item_id = ids[i % len(ids)]
        actor = county_actor[county_of[item_id]]
        with m.app.uow() as uow:
            s = uow.session
            item = queries.get_item(s, actor, item_id)
            hist = queries.item_history(s, actor, item_id)
            ev = queries.item_evidence(s, actor, item_id)
            sizes.append((len(hist), len(ev)))
            _ = item.number, item.status, [h.changes for h in hist]

    res = m.latency("item page (get_item + item_history + item_evidence)", run,
                       m.args.item_pages, profile_reps=100)
    res["mean_history"] = statistics.fmean(h for h, _ in sizes)
    res["mean_evidence"] = statistics.fmean(e for _, e in sizes)
    return res
