"""The measuring harness shared by every area: percentiles, ``summary``, the
``Measurer`` (the app, the actors, ``latency`` and the --profile helpers) and
``own_peak_rss_mb`` for the cases that run in a spawned interpreter."""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import math
import pstats
import random
import resource
import statistics
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import event, select, text

from bench.common import _settings, log
from ledger.core.actors import Actor
from ledger.core.models import Unit, User
from ledger.instance.bootstrap import bootstrap


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def summary(samples: list[float], cpu: list[float] | None = None) -> dict:
    out = {"n": len(samples), "p50_ms": pct(samples, 50) * 1000,
           "p95_ms": pct(samples, 95) * 1000, "max_ms": max(samples) * 1000,
           "mean_ms": statistics.fmean(samples) * 1000}
    if cpu:
        # this process's CPU time per call: the client side, unaffected by other load
        out["cpu_p50_ms"] = pct(cpu, 50) * 1000
        out["cpu_p95_ms"] = pct(cpu, 95) * 1000
    return out


class Measurer:
    def __init__(self, db: str, url: str, args: argparse.Namespace, workdir: str) -> None:
        self.db, self.args = db, args
        self.url, self.workdir = url, workdir  # for the export's own process
        self.app = bootstrap(_settings(url, Path(workdir) / "evidence"))
        self.rng = random.Random(args.seed + 1)
        self.profile_dir = Path(args.profile) if args.profile else None
        if self.profile_dir:
            self.profile_dir.mkdir(parents=True, exist_ok=True)
        with self.app.uow() as uow:
            s = uow.session
            self.today = uow.today()
            rows = s.execute(select(User.id, User.role, User.unit_id, Unit.level, User.username)
                             .join(Unit, Unit.id == User.unit_id)).all()
            self.by_role: dict[str, dict[int, Actor]] = defaultdict(dict)
            for uid, role, unit_id, level, username in rows:
                self.by_role[role][unit_id] = Actor(uid, role, unit_id, level, username)
            self.city = next(iter(self.by_role["city_staff"].values()))
            self.counties = sorted(self.by_role["county_staff"].values(), key=lambda a: a.id)
            self.townships = sorted(self.by_role["township_staff"].values(), key=lambda a: a.id)
            self.secretaries = sorted(self.by_role["village_secretary"].values(),
                                      key=lambda a: a.id)
            self.counts = {
                "items": s.scalar(text("SELECT count(*) FROM items")),
                "item_events": s.scalar(text("SELECT count(*) FROM item_events")),
                "evidence": s.scalar(text("SELECT count(*) FROM evidence")),
                "villages": len(self.secretaries), "townships": len(self.townships),
                "counties": len(self.counties),
            }
            self.max_item = s.scalar(text("SELECT max(id) FROM items"))
        self.plans: list[str] = []

    # helpers ---------------------------------------------------------------

    def _profile(self, name: str, fn, reps: int) -> None:
        """With --profile: run ``fn`` ``reps`` more times under cProfile and save the stats."""
        if not self.profile_dir:
            return
        prof = cProfile.Profile()
        prof.enable()
        for i in range(reps):
            fn(i)
        prof.disable()
        slug = "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")
        path = self.profile_dir / f"{self.db}_{slug}"
        prof.dump_stats(str(path) + ".pstats")
        out = io.StringIO()
        st = pstats.Stats(prof, stream=out)
        st.sort_stats("cumulative").print_stats(35)
        st.sort_stats("tottime").print_stats(25)
        Path(str(path) + ".txt").write_text(out.getvalue())

    def _explain(self, name: str, fn) -> None:
        """With --profile: the plan of every SELECT that ``fn`` sends."""
        if not self.profile_dir:
            return
        captured: list[tuple[str, object]] = []

        def grab(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT"):
                captured.append((statement, parameters))

        event.listen(self.app.engine, "before_cursor_execute", grab)
        try:
            fn(0)
        finally:
            event.remove(self.app.engine, "before_cursor_execute", grab)
        out = [f"### {self.db}: {name}"]
        raw = self.app.engine.raw_connection()
        try:
            cur = raw.cursor()
            for statement, params in captured:
                out.append(statement.strip())
                out.append(f"-- params: {params!r}")
                prefix = ("EXPLAIN QUERY PLAN " if self.db == "sqlite"
                          else "EXPLAIN (ANALYZE, BUFFERS) ")
                cur.execute(prefix + statement, params)
                out.extend("    " + " ".join(str(c) for c in row) for row in cur.fetchall())
            cur.close()
            raw.rollback()
        finally:
            raw.close()
        self.plans.append("\n".join(out))

    def latency(self, name: str, fn, runs: int, warmup: int = 3, budget_s: float = 60.0,
                profile_reps: int = 10) -> dict:
        for i in range(warmup):
            fn(-1 - i)
        samples, cpu = [], []
        t_start = time.perf_counter()
        for i in range(runs):
            c0 = time.process_time()
            t0 = time.perf_counter()
            fn(i)
            samples.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            if time.perf_counter() - t_start > budget_s and len(samples) >= 10:
                break
        res = summary(samples, cpu)
        log(f"  {self.db}: {name}: p50 {res['p50_ms']:.1f} ms, p95 {res['p95_ms']:.1f} ms "
            f"(n={res['n']}; client CPU p50 {res['cpu_p50_ms']:.1f} ms)")
        self._explain(name, fn)
        if res["p50_ms"] > 500:
            profile_reps = min(profile_reps, 3)
        self._profile(name, fn, profile_reps)
        return res


def own_peak_rss_mb() -> float:
    """This process's own peak RSS: ``VmHWM`` (kept per address space, so a fresh one
    after exec), else ``ru_maxrss``, which on Linux also carries the peak of the
    process that spawned this one."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
