"""Sanhu load figure: the served application under concurrent users (issue 8 point 7).

Run from the repository root::

    .venv/bin/python -m bench.load --db postgres --users 50 --seconds 60
    .venv/bin/python -m bench.load --db sqlite --sqlite-path /tmp/kept.sqlite

For the database asked for, it

1. builds a province-shaped ledger with ``bench.build.build_database`` (a tenth
   of a province by default), or reuses one kept by ``bench.benchmark --keep``;
   every user of it signs in with ``bench.build.PASSWORD``;
2. starts the server as a real process on a free port: on PostgreSQL gunicorn
   with ``deploy/gunicorn.conf.py`` (its workers: 2 × cores + 1), on SQLite
   ``sanhu run`` (waitress, one process, the scheduler inside), as each is
   deployed;
3. runs locust headless (``bench/locustfile.py``) for ``--seconds``: ``--users``
   distinct township staff and village secretaries sign in once, then repeat
   the daily mix of ``bench.load_mix.CYCLE`` with a think time;
4. stops the server and prints p50/p95 per request kind and overall, requests
   per second and errors (``bench.load_mix.outcome``), with the load average.

SPEC §14 asks p95 ≤ 500 ms and no errors.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.benchmark import DEFAULT_PG_URL, _admin_engine, _with_database, in_child
from bench.build import PASSWORD, build_database
from bench.common import log
from bench.load_mix import after_sign_ins, summarise
from bench.report import code_version, machine
from ledger.core.db import normalise_url

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TARGET_P95_MS = 500


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def database(args: argparse.Namespace, workdir: Path):
    """The URL of a built (or the given, kept) database; a built one is removed unless --keep."""
    dbdir = None
    if args.db == "sqlite":
        if not args.sqlite_path:
            dbdir = Path(tempfile.mkdtemp(prefix="sanhu_load_db_"))
        path = Path(args.sqlite_path or dbdir / "bench.sqlite").resolve()
        url, name = f"sqlite:///{path}", str(path)
    else:
        name = args.pg_db or f"sanhu_bench_{uuid.uuid4().hex[:10]}"
        url = _with_database(args.pg_url, name)
        if not args.pg_db:
            admin = _admin_engine(args.pg_url)
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            admin.dispose()
    build = not (args.sqlite_path or args.pg_db)
    try:
        if build:
            log(f"{args.db}: building {args.villages:,} villages, {args.items:,} items in {name}")
            b = in_child(build_database, args.db, url, args.villages, args.items, 20_000,
                         args.seed, str(workdir))
            log(f"{args.db}: built in {b['seconds']:.0f} s")
        yield url, name
    finally:
        if build and args.keep:
            log(f"{args.db}: kept {name}")
        elif dbdir is not None:
            shutil.rmtree(dbdir, ignore_errors=True)
        elif build:
            admin = _admin_engine(args.pg_url)
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def accounts(url: str) -> list[list[str]]:
    """Township staff and village secretaries, alternating, so both roles are in the crowd."""
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT username, role FROM users WHERE active AND role IN "
            "('township_staff', 'village_secretary') ORDER BY id")).all()
    engine.dispose()
    towns = [list(r) for r in rows if r.role == "township_staff"]
    secretaries = [list(r) for r in rows if r.role == "village_secretary"]
    return [a for pair in zip(towns, secretaries, strict=False) for a in pair]


@contextmanager
def server(db: str, url: str, workdir: Path):
    """The server as deployed, on a free port; yields its base URL once /healthz answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANHU_")}
    env.update(SANHU_DATABASE_URL=url, SANHU_EVIDENCE_DIR=str(workdir / "evidence"),
               SANHU_SECRET_KEY=uuid.uuid4().hex, SANHU_INSTANCE_DIR=str(workdir))
    if db == "postgres":
        cmd = [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
               "-b", f"127.0.0.1:{port}", "web.wsgi:app"]
    else:
        cmd = [str(BIN / "sanhu"), "run", "--host", "127.0.0.1", "--port", str(port)]
    logfile = workdir / "server.log"
    with open(logfile, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).close()
                break
            except OSError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{logfile.read_text()}") from exc
                time.sleep(0.3)
        log(f"{db}: {' '.join(cmd[:3])}… answers at {base}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_locust(base: str, args: argparse.Namespace, users: list, workdir: Path) -> dict:
    """Run locust headless against ``base``; its samples, CPU time and the load averages."""
    users_file, samples_file = workdir / "users.json", workdir / "samples.json"
    users_file.write_text(json.dumps(users))
    env = dict(os.environ, SANHU_LOAD_USERS=str(users_file), SANHU_LOAD_PASSWORD=PASSWORD,
               SANHU_LOAD_SAMPLES=str(samples_file), SANHU_LOAD_THINK=args.think,
               SANHU_LOAD_SEED=str(args.seed), PYTHONPATH=str(ROOT))
    cmd = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
           "--host", base, "-u", str(args.users), "-r", str(args.spawn_rate),
           "-t", f"{args.seconds}s", "--stop-timeout", "10", "--only-summary",
           "--loglevel", "WARNING"]
    loads: list[float] = []
    done = threading.Event()

    def sample_load() -> None:
        while not done.wait(5):
            loads.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample_load, daemon=True)
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    sampler.start()
    with open(workdir / "locust.log", "wb") as out:
        subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                       timeout=args.seconds + 120, check=False)
    done.set()
    wall = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    data = json.loads(samples_file.read_text())
    return {**data, "wall_s": wall, "load_during": loads,
            "locust_cpu_s": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)}


def table(rows: list[dict]) -> str:
    lines = ["| request | n | p50 ms | p95 ms | max ms | /s | conflicts (409) | errors |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        name = {"overall": "overall (daily mix)",
                "steady": "daily mix after the last sign-in"}.get(r["kind"], r["kind"])
        lines.append(f"| {name} | {r['n']:,} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
                     f"{r['max_ms']:.0f} | {r['per_s']:.1f} | {r['conflict']} | {r['error']} |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="sanhu_load_"))
    out: dict = {"db": args.db, "args": vars(args), "machine": machine(),
                 "code": code_version()}
    try:
        with database(args, workdir) as (url, name):
            out["location"] = name
            users = accounts(url)
            if len(users) < args.users:
                raise SystemExit(f"only {len(users)} township / village accounts; "
                                 f"build with more villages")
            load_before = os.getloadavg()
            with server(args.db, url, workdir) as base:
                res = run_locust(base, args, users[:args.users], workdir)
            if args.db == "postgres":
                log("postgres: gunicorn stopped")
            # the figures cover the requests sent while the test ran (sign-ins included)
            samples = [s for s in res["samples"] if s[4] <= args.seconds]
            rows = summarise(samples, args.seconds)
            steady = after_sign_ins(samples)
            if steady:
                span = args.seconds - min(s[4] - s[1] / 1000 for s in steady)
                rows.append({**summarise(steady, span)[-1], "kind": "steady"})
            out.update(rows=rows, samples=samples, skipped_events=res["skipped"]["event"],
                       late_requests=len(res["samples"]) - len(samples),
                       load_before=load_before, load_during=res["load_during"],
                       load_after=os.getloadavg(), locust_cpu_s=res["locust_cpu_s"],
                       server_log_tail=(workdir / "server.log").read_text()[-2000:])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def report(out: dict) -> str:
    rows, args = out["rows"], out["args"]
    kinds = [r for r in rows if r["kind"] not in ("overall", "steady")]
    overall = next(r for r in rows if r["kind"] == "overall")
    errors = sum(r["error"] for r in kinds)  # the sign-ins' too
    verdict = ("meets" if overall["p95_ms"] <= TARGET_P95_MS and errors == 0 else "misses")
    during = out["load_during"]
    server = ("gunicorn (deploy/gunicorn.conf.py) on PostgreSQL" if out["db"] == "postgres"
              else "sanhu run (waitress, one process, scheduler inside) on SQLite")
    return "\n".join([
        f"{server}; {args['users']} users, think time {args['think']} s, {args['seconds']} s; "
        f"{out['machine']['cpus']} CPUs",
        "",
        table(rows),
        "",
        f"events skipped (no item to act on, or the form was gone): {out['skipped_events']}; "
        f"locust CPU {out['locust_cpu_s']:.0f} s; load average before "
        f"{out['load_before'][0]:.2f}, during {min(during or [0]):.2f}–{max(during or [0]):.2f}"
        f", after {out['load_after'][0]:.2f}",
        "statuses: " + "; ".join(f"{r['kind']} {r['statuses']}" for r in kinds),
        f"SPEC §14 (p95 ≤ {TARGET_P95_MS} ms over the daily mix, 0 errors): {verdict} "
        f"({errors} errors)",
    ])


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    p.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    p.add_argument("--users", type=int, default=50, help="concurrent signed-in users")
    p.add_argument("--seconds", type=int, default=60, help="how long the load runs")
    p.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    p.add_argument("--think", default="1,3",
                   help="think time between a user's requests, 'min,max' seconds")
    p.add_argument("--villages", type=int, default=2500)
    p.add_argument("--items", type=int, default=200_000)
    p.add_argument("--pg-url", default=DEFAULT_PG_URL)
    p.add_argument("--keep", action="store_true", help="keep the built database")
    p.add_argument("--sqlite-path", help="use this already built SQLite file (no build)")
    p.add_argument("--pg-db", help="use this already built PostgreSQL database (no build)")
    p.add_argument("--json", help="write the results as JSON to this path")
    p.add_argument("--seed", type=int, default=2026)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    out = run(args)
    print(report(out), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
