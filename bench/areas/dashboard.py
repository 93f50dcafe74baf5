"""Dashboards (SPEC §11, §14): one recount of the summary tables (the job
``dashboard_refresh``), then the p95 of ``figures.build`` — what a dashboard page
reads — for a county and for the province (the city unit)."""

from __future__ import annotations

import time

from bench.common import log
from bench.harness import Measurer
from ledger.dashboard import figures, summary


def refresh(m: Measurer) -> dict:
    t0 = time.perf_counter()
    with m.app.uow() as uow:
        done = summary.refresh(uow)
    seconds = time.perf_counter() - t0
    log(f"  {m.db}: dashboard refresh: {seconds:.2f} s ({done.units:,} units, "
        f"{done.months:,} month rows, {done.standards:,} standard rows)")
    return {"seconds": seconds, "units": done.units, "months": done.months,
            "standards": done.standards}


def pages(m: Measurer) -> dict:
    """``figures.build`` for every county in turn, and for the province."""
    counties = m.counties

    def county(i: int) -> None:
        actor = counties[i % len(counties)]
        with m.app.uow() as uow:
            figures.build(uow.session, actor, None, m.today)

    def province(_i: int) -> None:
        with m.app.uow() as uow:
            figures.build(uow.session, m.city, None, m.today)

    return {"county": m.latency("dashboard of a county", county, runs=m.args.runs),
            "province": m.latency("dashboard of the province", province, runs=m.args.runs)}


def dashboard(m: Measurer) -> dict:
    """The refresh first (the pages read what it wrote), then the pages."""
    return {"refresh": refresh(m), **pages(m)}
