"""Ledger list pages (``queries.list_items``: scopes, filters, sorts, text search,
per-status counts) and the overdue board (``queries.overdue_items``)."""

from __future__ import annotations

import random

from sqlalchemy import select

from bench.harness import Measurer
from bench.shape import SEARCH_WORDS
from ledger.core.models import Unit
from ledger.items import queries


def list_cases(m: Measurer) -> list[tuple[str, str, object]]:
    """(key, label, make(rng) -> (actor, filter, sort, with_counts))."""
    F = queries.ItemFilter
    statuses = ("rectifying", "submitted", "closed", "assigned", "found", "verified")

    def village_code_fragment(rng):
        # what people type to find an item by number: the village part of the code
        v = rng.randrange(len(m.secretaries))
        with m.app.uow() as uow:
            return uow.session.scalar(select(Unit.code).where(
                Unit.id == m.secretaries[v].unit_id))

    codes = [village_code_fragment(m.rng) for _ in range(20)]
    return [
        ("list_city", "list: city-wide, no filter (newest)",
         lambda rng: (m.city, F(), "newest", False)),
        ("list_county_status", "list: county + status filter",
         lambda rng: (rng.choice(m.counties), F(status=rng.choice(statuses)), "newest",
                      False)),
        ("list_township_text", "list: township + text search",
         lambda rng: (rng.choice(m.townships), F(text=rng.choice(SEARCH_WORDS)), "newest",
                      False)),
        ("list_village", "list: village (secretary)",
         lambda rng: (rng.choice(m.secretaries), F(), "newest", False)),
        ("list_county_overdue", "list: county, overdue=True",
         lambda rng: (rng.choice(m.counties), F(overdue=True), "newest", False)),
        ("list_county_deadline", "list: county, sort by deadline",
         lambda rng: (rng.choice(m.counties), F(), "deadline", False)),
        ("list_city_deadline", "list: city-wide, sort by deadline",
         lambda rng: (m.city, F(), "deadline", False)),
        ("list_city_status", "list: city-wide + status filter",
         lambda rng: (m.city, F(status=rng.choice(statuses)), "newest", False)),
        ("list_city_overdue", "list: city-wide, overdue=True",
         lambda rng: (m.city, F(overdue=True), "newest", False)),
        ("list_city_text", "list: city-wide text search (number / word)",
         lambda rng: (m.city, F(text=rng.choice(codes + list(SEARCH_WORDS))),
                      "newest", False)),
        ("list_county_counts", "list: county + per-status counts (with_counts)",
         lambda rng: (rng.choice(m.counties), F(), "newest", True)),
        ("list_city_counts", "list: city-wide + per-status counts (with_counts)",
         lambda rng: (m.city, F(), "newest", True)),
    ]


def lists(m: Measurer) -> dict:
    out = {}
    for key, label, make in list_cases(m):
        rng = random.Random(f"{m.args.seed}-{key}")

        def run(i, make=make, rng=rng):
            actor, flt, sort, counts = make(rng)
            with m.app.uow() as uow:
                page = queries.list_items(uow.session, actor, flt, today=m.today,
                                          sort=sort, per_page=50, with_counts=counts)
                assert len(page.rows) <= 50

        res = m.latency(label, run, m.args.runs)
        res["label"] = label
        out[key] = res
    return out


def overdue(m: Measurer) -> dict:
    out = {}
    for key, label, pick in (
        ("overdue_city", "overdue board: city", lambda rng: m.city),
        ("overdue_county", "overdue board: county", lambda rng: rng.choice(m.counties)),
    ):
        rng = random.Random(f"{m.args.seed}-{key}")

        def run(i, pick=pick, rng=rng):
            actor = pick(rng)
            with m.app.uow() as uow:
                queries.overdue_items(uow.session, actor, today=m.today, per_page=50)

        res = m.latency(label, run, m.args.runs)
        res["label"] = label
        out[key] = res
    return out
