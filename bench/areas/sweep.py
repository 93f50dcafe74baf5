"""The daily reminder sweep (``ledger.notify.reminders.reminder_sweep``), measured in a
fresh spawned interpreter: the first sweep of the day, the same day again, peak RSS."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import time
from pathlib import Path

from bench.common import _settings, log
from bench.harness import Measurer, own_peak_rss_mb
from ledger.instance.bootstrap import bootstrap


def sweep(m: Measurer) -> dict:
    """The daily reminder sweep (SPEC §14): time and peak RSS, in a fresh spawned process."""
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        res = ex.submit(sweep_case, m.url, m.workdir).result()
    log(f"  {m.db}: reminder sweep: {res['notifications']:,} notifications "
        f"({res['by_offset']}) in {res['seconds']:.2f} s (client CPU "
        f"{res['cpu_seconds']:.2f} s); same day again {res['rerun_seconds']:.2f} s, "
        f"{res['rerun_notifications']} new; peak RSS {res['peak_rss_mb']:.0f} MB "
        f"({res['rss_before_mb']:.0f} MB before the sweep)")
    return res


def sweep_case(url: str, workdir: str) -> dict:
    """``reminders.reminder_sweep`` for today, in a fresh interpreter, as the job runs it.

    One unit of work; the first sweep of the day (one INSERT … SELECT per offset
    and one for the overdue points, then the deliveries), then the same day
    again (the unique keys make it create nothing).  Peak RSS as in ``export_case``.
    """
    from ledger.notify.reminders import reminder_sweep

    app = bootstrap(_settings(url, Path(workdir) / "evidence"))
    with app.uow() as uow:
        today = uow.today()
    rss_before = own_peak_rss_mb()
    c0, t0 = time.process_time(), time.perf_counter()
    with app.uow() as uow:
        first = reminder_sweep(uow, today)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    with app.uow() as uow:
        again = reminder_sweep(uow, today)
    out = {"today": today.isoformat(), "seconds": seconds, "cpu_seconds": cpu,
           "notifications": first.total, "by_offset": first.notifications,
           "deliveries": first.deliveries, "rerun_seconds": time.perf_counter() - t1,
           "rerun_notifications": again.total, "rss_before_mb": rss_before,
           "peak_rss_mb": own_peak_rss_mb()}
    app.dispose()
    return out
