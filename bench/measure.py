"""Measuring one database: ``run`` goes through the areas of ``bench.areas`` in
order on one ``Measurer``; ``measure_database`` is what the child process runs."""

from __future__ import annotations

import argparse
import os
import resource

from bench.areas.api import api_endpoints
from bench.areas.bulk import bulk_assign, open_cycle
from bench.areas.dashboard import dashboard
from bench.areas.export import export
from bench.areas.item_page import item_pages
from bench.areas.ledger_import import ledger_import
from bench.areas.lists import lists, overdue
from bench.areas.observations import confirm_65, coverage_reads, save_lines
from bench.areas.results import county_report, rank_province
from bench.areas.sweep import sweep
from bench.areas.transitions import concurrent_transitions, transitions
from bench.common import log
from bench.harness import Measurer


def run(m: Measurer) -> dict:
    log(f"{m.db}: measuring ({m.counts['items']:,} items, "
        f"{m.counts['item_events']:,} history rows, {m.counts['villages']:,} villages)")
    res = {"counts": m.counts, "today": m.today.isoformat(),
           "loadavg_start": os.getloadavg()}
    if m.args.sweep_only:  # e.g. on a kept database: only the reminder sweep
        res["sweep"] = sweep(m)
        res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        m.app.dispose()
        return res
    res["lists"] = lists(m)
    res["overdue"] = overdue(m)
    res["item_page"] = item_pages(m)
    res["api"] = api_endpoints(m)  # before the writes below, like the pages
    res["transitions"] = transitions(m)
    if m.args.threads > 1:
        res["concurrent"] = concurrent_transitions(m)
    res["bulk_assign"] = bulk_assign(m)
    res["save_line"] = save_lines(m)
    res["confirm_65"] = confirm_65(m)
    res["coverage"] = coverage_reads(m)
    res["rank_province"] = rank_province(m)
    res["county_report"] = county_report(m)
    res["dashboard"] = dashboard(m)  # after the writes above, so it counts them
    res["open_cycle"] = open_cycle(m)
    res["export"] = export(m)
    res["sweep"] = sweep(m)
    if getattr(m.args, "import_rows", 0):
        res["ledger_import"] = ledger_import(m)  # last: it adds items to the database
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res["loadavg_end"] = os.getloadavg()
    log(f"{m.db}: load average at start {res['loadavg_start'][0]:.1f}, "
        f"at end {res['loadavg_end'][0]:.1f} (on {os.cpu_count()} CPUs)")
    if m.profile_dir and m.plans:
        (m.profile_dir / f"{m.db}_plans.txt").write_text("\n\n".join(m.plans))
    m.app.dispose()
    return res


def measure_database(db: str, url: str, args: argparse.Namespace, workdir: str) -> dict:
    return run(Measurer(db, url, args, workdir))
