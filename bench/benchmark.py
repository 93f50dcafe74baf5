"""Sanhu benchmark: build a province-shaped ledger and report the SPEC §14 figures.

Run from the repository root::

    .venv/bin/python -m bench.benchmark                       # a tenth of a province, both DBs
    .venv/bin/python -m bench.benchmark --db sqlite --db postgres \\
        --villages 25000 --items 2000000 --json bench-full.json

For every database the benchmark

1. builds the data (setup, timed but not a target): migrates a fresh database
   with ``ledger.instance.migrate.upgrade``, bulk-inserts the organisation (city →
   counties → townships → villages, ancestor ids filled as ``ledger.org.directory.add_unit``
   does), one user per unit and role (one argon2 hash reused), twelve quarterly
   and six half-yearly cycles with their observations, and the ledger items
   with about five history entries each and their evidence rows.  Secondary
   indexes and constraints of the three big tables are dropped before the load
   and re-created afterwards (from the database's own DDL, or from the model
   for PostgreSQL's partial indexes), and checked to equal the migrated ones.
   ``ANALYZE`` (PostgreSQL: ``VACUUM ANALYZE``) runs at the end;
2. measures, in a fresh process, the operations of SPEC §14 that exist so far,
   through the real services and queries (one unit of work per call, as a web
   request would use them).

See ``bench/README.md`` for what each figure means, the figures measured and the
modules of this package (section Layout).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine

from bench.build import build_database
from bench.common import log
from bench.measure import measure_database
from bench.report import code_version, machine, markdown, report_rows
from bench.shape import build_shape
from ledger.core.db import normalise_url

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def in_child(fn, *args):
    """Run ``fn`` in a fresh process, so that its peak memory is its own."""
    ctx = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        return ex.submit(fn, *args).result()


def _admin_engine(url: str):
    return create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")


def _with_database(url: str, name: str) -> str:
    base, _, _ = normalise_url(url).rpartition("/")
    return f"{base}/{name}"


def run_database(db: str, args: argparse.Namespace) -> dict:
    workdir = tempfile.mkdtemp(prefix="sanhu_bench_")
    out: dict = {"db": db}
    name = None
    build = True
    if db == "sqlite":
        if args.sqlite_path:
            path, build = Path(args.sqlite_path).resolve(), False
        else:
            path = Path(workdir) / "bench.sqlite"
        url = f"sqlite:///{path}"
        out["location"] = str(path)
    else:
        if args.pg_db:
            name, build = args.pg_db, False
        else:
            name = f"sanhu_bench_{uuid.uuid4().hex[:10]}"
            admin = _admin_engine(args.pg_url)
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            admin.dispose()  # no open connection may be inherited by the child processes
        url = _with_database(args.pg_url, name)
        out["location"] = name
    try:
        if build:
            log(f"{db}: building {args.villages:,} villages, {args.items:,} items in "
                f"{out['location']}")
            out["build"] = in_child(build_database, db, url, args.villages, args.items,
                                    args.chunk, args.seed, workdir)
            b = out["build"]
            log(f"{db}: built in {b['seconds']:.1f} s: {b['items']:,} items, {b['events']:,} "
                f"history rows, {b['evidence']:,} evidence rows, "
                f"{b['db_bytes'] / 2**30:.2f} GiB; steps: "
                + ", ".join(f"{k} {v:.1f} s" for k, v in b["steps"].items()))
        out.update(in_child(measure_database, db, url, args, workdir))
    finally:
        keep = args.keep or not build
        if db == "sqlite":
            if keep:
                log(f"{db}: kept {out['location']}")
            if not (build and keep):  # the built file lives in workdir; a reused one does not
                shutil.rmtree(workdir, ignore_errors=True)
        else:
            if keep:
                log(f"{db}: kept database {name}")
            else:
                admin = _admin_engine(args.pg_url)
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()
                log(f"{db}: dropped database {name}")
            shutil.rmtree(workdir, ignore_errors=True)
    return out


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.benchmark",
                                description=__doc__.split("\n")[0])
    p.add_argument("--db", action="append", choices=("sqlite", "postgres"),
                   help="database to measure (repeatable; default: both)")
    p.add_argument("--villages", type=int, default=2500,
                   help="villages (counties = villages/250, townships = villages/16.7)")
    p.add_argument("--items", type=int, default=200_000, help="ledger items")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL,
                   help="a database on the PostgreSQL server; a fresh sanhu_bench_* is created")
    p.add_argument("--keep", action="store_true", help="keep the built databases")
    p.add_argument("--sqlite-path", help="measure this already built SQLite file (no build)")
    p.add_argument("--pg-db", help="measure this already built PostgreSQL database (no build)")
    p.add_argument("--json", help="write the results as JSON to this path")
    p.add_argument("--profile", metavar="DIR",
                   help="also write cProfile stats and query plans of every case to DIR")
    p.add_argument("--runs", type=int, default=50, help="runs per list / overdue case")
    p.add_argument("--item-pages", type=int, default=200, help="item pages to read")
    p.add_argument("--transitions", type=int, default=2000, help="transitions to fire")
    p.add_argument("--threads", type=int, default=4,
                   help="workers for the concurrent-transitions figure (1: skip it)")
    p.add_argument("--bulk", type=int, default=1000, help="items in the bulk assign")
    p.add_argument("--line-saves", type=int, default=400, help="checklist lines to save")
    p.add_argument("--confirms", type=int, default=20,
                   help="65-line observations to confirm")
    p.add_argument("--coverage-runs", type=int, default=50, help="coverage reads")
    p.add_argument("--export-rows", type=int, default=100_000,
                   help="rows of the .xlsx export figure (the city's newest items)")
    p.add_argument("--import-rows", type=int, default=50_000,
                   help="rows of the ledger import figure (into the first county; 0: skip)")
    p.add_argument("--sweep-only", action="store_true",
                   help="measure only the daily reminder sweep (after the build, if any)")
    p.add_argument("--chunk", type=int, default=20_000, help="items per load transaction")
    p.add_argument("--seed", type=int, default=2026)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    dbs = list(dict.fromkeys(args.db or ["sqlite", "postgres"]))
    results: dict[str, dict] = {}
    t0 = time.perf_counter()
    version = code_version()
    log(f"code: commit {version['commit']}"
        + (f", uncommitted changes in {len(version['ledger_dirty'])} ledger/ file(s)"
           if version["ledger_dirty"] else ""))
    for db in dbs:
        results[db] = run_database(db, args)
        one = report_rows({db: results[db]})
        print(markdown(one, [db]), flush=True)
    rows = report_rows(results)
    info = machine()
    shape = build_shape(args.villages)
    print()
    print(f"Scale: {shape['counties']:,} counties, {shape['townships']:,} townships, "
          f"{shape['villages']:,} villages, {args.items:,} items; machine: {info['cpus']} CPUs "
          f"({info['cpu']}), {info['mem_mb']} MB RAM, Python {info['python']}; code "
          f"{version['commit']}"
          f"{' (+ uncommitted ledger/ changes)' if version['ledger_dirty'] else ''}"
          f"; total {time.perf_counter() - t0:.0f} s")
    print()
    print(markdown(rows, dbs), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"args": {k: v for k, v in vars(args).items()}, "shape": shape, "machine": info,
             "code": version,
             "results": results, "table": rows,
             "markdown": markdown(rows, dbs)}, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
