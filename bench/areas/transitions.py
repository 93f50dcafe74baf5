"""Transitions through the service layer: single-threaded ``accept`` and
``report_progress``, then ``accept`` from several threads at once."""

from __future__ import annotations

import concurrent.futures
import time
from collections import defaultdict

from sqlalchemy import text

from bench.common import log
from bench.harness import Measurer, summary
from ledger.core.errors import DomainError
from ledger.items import services


def transitions(m: Measurer) -> dict:
    n = m.args.transitions
    half = n // 2
    warm = 20
    prof_n = 200 if m.profile_dir else 0
    with m.app.uow() as uow:
        rows = uow.session.execute(text(
            "SELECT id, village_id FROM items WHERE state = 'assigned' "
            "ORDER BY random() LIMIT :n"), {"n": half + warm + prof_n}).all()
    if len(rows) < half + warm + prof_n:
        raise RuntimeError(f"only {len(rows)} assigned items: build more items")
    sec = m.by_role["village_secretary"]
    warm_rows, rows, prof_rows = rows[:warm], rows[warm:warm + half], rows[warm + half:]
    for item_id, village_id in warm_rows:  # warm caches (compiled SQL, pool) first
        with m.app.uow() as uow:
            services.accept(uow, item_id, sec[village_id], measures="预热")
    failures = 0
    lat = {"accept": [], "report_progress": []}
    c0 = time.process_time()
    t0 = time.perf_counter()
    for item_id, village_id in rows:
        t1 = time.perf_counter()
        with m.app.uow() as uow:
            try:
                services.accept(uow, item_id, sec[village_id],
                                measures="召开支委会研究整改方案，明确责任人和时限")
            except DomainError:
                failures += 1
        lat["accept"].append(time.perf_counter() - t1)
    for item_id, village_id in rows:
        t1 = time.perf_counter()
        with m.app.uow() as uow:
            try:
                services.report_progress(uow, item_id, sec[village_id],
                                         note="整改进度过半，预计按期完成")
            except DomainError:
                failures += 1
        lat["report_progress"].append(time.perf_counter() - t1)
    total = time.perf_counter() - t0
    cpu = time.process_time() - c0
    count = 2 * len(rows)
    res = {"transitions": count, "seconds": total, "per_s": count / total,
           "failures": failures, "client_cpu_ms_each": cpu / count * 1000,
           "per_client_cpu_s": count / cpu if cpu else None,
           "accept": summary(lat["accept"]), "report_progress": summary(lat["report_progress"])}
    log(f"  {m.db}: transitions: {count} in {total:.2f} s = {res['per_s']:,.0f}/s "
        f"(accept p50 {res['accept']['p50_ms']:.2f} ms, report_progress p50 "
        f"{res['report_progress']['p50_ms']:.2f} ms, client CPU "
        f"{res['client_cpu_ms_each']:.2f} ms each, failures {failures})")
    if prof_rows:
        def run(i):
            item_id, village_id = prof_rows[i]
            with m.app.uow() as uow:
                services.accept(uow, item_id, sec[village_id], measures="剖析")

        m._profile("transition accept", run, len(prof_rows))
    return res


def concurrent_transitions(m: Measurer) -> dict:
    """``accept`` from several threads at once, as several web workers would fire them."""
    threads, n = m.args.threads, m.args.transitions
    with m.app.uow() as uow:
        rows = uow.session.execute(text(
            "SELECT id, village_id FROM items WHERE state = 'assigned' "
            "ORDER BY random() LIMIT :n"), {"n": n}).all()
    sec = m.by_role["village_secretary"]
    errors: dict[str, int] = defaultdict(int)
    done = [0]

    def worker(part):
        for item_id, village_id in part:
            try:
                with m.app.uow() as uow:
                    services.accept(uow, item_id, sec[village_id],
                                    measures="召开支委会研究整改方案")
                done[0] += 1
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors[f"{type(exc).__name__}: {str(exc).splitlines()[0][:90]}"] += 1

    parts = [rows[i::threads] for i in range(threads)]
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        list(ex.map(worker, parts))
    total = time.perf_counter() - t0
    res = {"threads": threads, "attempted": len(rows), "ok": done[0], "seconds": total,
           "per_s": done[0] / total if total else 0, "errors": dict(errors)}
    log(f"  {m.db}: {threads} concurrent workers: {done[0]}/{len(rows)} accepts in "
        f"{total:.2f} s = {res['per_s']:,.0f}/s; errors: {dict(errors) or 'none'}")
    return res
