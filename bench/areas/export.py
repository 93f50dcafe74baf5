"""The .xlsx export (``ledger.items.export.export_ledger``), measured in a fresh spawned
interpreter: time and that process's own peak RSS."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from bench.common import _settings, log
from bench.harness import Measurer, own_peak_rss_mb
from ledger.core.actors import Actor
from ledger.core.models import User
from ledger.instance.bootstrap import bootstrap
from ledger.items import queries


def export(m: Measurer) -> dict:
    """The .xlsx export (SPEC §14): time and peak RSS, in a fresh spawned process."""
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        res = ex.submit(export_case, m.url, m.workdir, m.args.export_rows).result()
    log(f"  {m.db}: .xlsx export: {res['rows']:,} rows in {res['seconds']:.2f} s "
        f"({res['rows_per_s']:,.0f} rows/s, client CPU {res['cpu_seconds']:.2f} s), "
        f"{res['bytes'] / 2**20:.1f} MiB; peak RSS {res['peak_rss_mb']:.0f} MB "
        f"({res['rss_before_mb']:.0f} MB before the export)")
    return res


def export_case(url: str, workdir: str, n_rows: int) -> dict:
    """The .xlsx export of the city's newest ``n_rows`` items, in a fresh interpreter.

    Runs in a spawned (not forked) process, so its peak RSS is the export's own
    plus the interpreter with the ledger imported (``rss_before_mb``), never the
    measuring process's memory (see ``own_peak_rss_mb``).  As the web view does:
    one unit of work, the city staff's scope, ``ledger.items.export.export_ledger`` into a
    temporary file.
    """
    from ledger.items.export import export_ledger

    app = bootstrap(_settings(url, Path(workdir) / "evidence"))
    with app.uow() as uow:
        uid, unit_id, username = uow.session.execute(
            select(User.id, User.unit_id, User.username)
            .where(User.role == "city_staff").order_by(User.id).limit(1)).one()
        actor = Actor(uid, "city_staff", unit_id, "city", username)
    path = Path(tempfile.mkdtemp(prefix="sanhu_export_", dir=workdir)) / "ledger.xlsx"
    rss_before = own_peak_rss_mb()
    c0, t0 = time.process_time(), time.perf_counter()
    with app.uow() as uow:
        result = export_ledger(uow.session, actor, queries.ItemFilter(), path,
                               today=uow.today(), zone=app.settings.zone, sort="newest",
                               warning_days=app.settings.warning_days, limit=n_rows)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = {"rows": result.rows, "seconds": seconds, "cpu_seconds": cpu,
           "rows_per_s": result.rows / seconds if seconds else 0,
           "bytes": path.stat().st_size, "rss_before_mb": rss_before,
           "peak_rss_mb": own_peak_rss_mb()}
    shutil.rmtree(path.parent, ignore_errors=True)
    app.dispose()
    return out
