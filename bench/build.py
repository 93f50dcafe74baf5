"""Building one database: capture, drop and restore the big tables' indexes and
constraints around the load, and ``build_database`` (migrate, organisation, users,
cycles, observations, the ledger rows, ANALYZE)."""

from __future__ import annotations

import datetime as dt
import random
import resource
import time
from pathlib import Path

from sqlalchemy import create_engine, insert, select

from bench.common import UTC, ZONE, _settings, log
from bench.generator import (
    EVENT_COLS,
    EVIDENCE_COLS,
    ITEM_COLS,
    Generator,
    PgFormat,
    SqliteFormat,
)
from bench.shape import Org, local_midnight_utc, quarter_start, recent_quarters
from ledger.catalog.standards import current_catalog
from ledger.core.db import normalise_url
from ledger.core.models import (
    Cycle,
    Evidence,
    Item,
    ItemEvent,
    NumberSequence,
    Observation,
    ObservationLine,
    Standard,
    Unit,
    User,
)
from ledger.instance.bootstrap import bootstrap
from ledger.instance.migrate import upgrade
from ledger.org.directory import hash_password

BIG_TABLES = ("items", "item_events", "evidence")
#: every user the builder creates signs in with this password (``bench.load`` does)
PASSWORD = "bench-password-1"


def _capture_ddl(conn, dialect: str) -> dict:
    """Secondary indexes and constraints of the big tables, as the database defines them."""
    if dialect == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('items', 'item_events', 'evidence') ORDER BY name").all()
        return {"indexes": [(n, s) for n, s in rows], "constraints": []}
    cons = conn.exec_driver_sql(
        "SELECT c.conname, c.conrelid::regclass::text, c.contype, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c WHERE c.conrelid IN ('items'::regclass, "
        "'item_events'::regclass, 'evidence'::regclass) AND c.contype IN ('f', 'u') "
        "ORDER BY c.conname").all()
    idx = conn.exec_driver_sql(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename IN ('items', 'item_events', 'evidence') AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u')) "
        "ORDER BY indexname").all()
    return {"indexes": [tuple(r) for r in idx], "constraints": [tuple(r) for r in cons]}


def _drop_ddl(conn, dialect: str, ddl: dict) -> None:
    for name, table, _kind, _ in sorted(ddl["constraints"], key=lambda c: c[2] != "f"):
        conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in ddl["indexes"]:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')


def _restore_ddl(conn, dialect: str, ddl: dict) -> None:
    for name, table, kind, definition in ddl["constraints"]:
        if kind == "u":
            conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    # PostgreSQL deparses partial-index predicates into a form that, re-parsed, is not the
    # same tree (and might no longer match the queries' predicate): re-create the indexes
    # the model declares from the model, as the migration did; the caller compares the result.
    declared = {ix.name: ix for table in (Item.__table__, ItemEvent.__table__,
                                          Evidence.__table__) for ix in table.indexes}
    for name, sql in ddl["indexes"]:
        if dialect == "postgresql" and name in declared:
            declared[name].create(conn)
        else:
            conn.exec_driver_sql(sql)
    for name, table, kind, definition in ddl["constraints"]:
        if kind == "f":
            conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')



def build_database(db: str, url: str, villages: int, n_items: int, chunk: int,
                   seed: int, workdir: str) -> dict:
    """Migrate and fill one database; returns timings and counts (runs in a child process)."""
    t_all = time.perf_counter()
    app = bootstrap(_settings(url, Path(workdir) / "evidence"))
    dialect = app.engine.dialect.name
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    upgrade(app)
    timings["migrate"] = time.perf_counter() - t0
    now = dt.datetime.now(UTC)
    today = now.astimezone(ZONE).date()
    org = Org(villages)
    with app.uow() as uow:
        catalog = current_catalog(uow.session)
        standards = [tuple(r) for r in uow.session.execute(
            select(Standard.id, Standard.category_number, Standard.title)
            .where(Standard.catalog_version_id == catalog.id).order_by(Standard.id))]
    quarters = recent_quarters(today)
    halves = sorted({(y, 1 if q <= 2 else 2) for y, q in quarters})
    fmt = SqliteFormat if dialect == "sqlite" else PgFormat

    # organisation, users, cycles, observations: Core executemany
    t0 = time.perf_counter()
    pw_hash = hash_password(PASSWORD)
    with app.engine.begin() as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        conn.execute(insert(Unit), org.unit_rows())
        conn.execute(insert(User), org.user_rows(pw_hash, now))
        cycle_rows, cycle_ids = [], {}
        for k, (y, q) in enumerate(quarters):
            period = f"{y}Q{q}"
            cycle_ids[period] = k + 1
            cycle_rows.append(dict(id=k + 1, kind="village_quarterly", period=period,
                                   catalog_version_id=catalog.id, theme=None,
                                   opened_at=local_midnight_utc(quarter_start(y, q))))
        for k, (y, h) in enumerate(halves):
            cycle_rows.append(dict(id=len(quarters) + k + 1, kind="township_half_yearly",
                                   period=f"{y}H{h}", catalog_version_id=catalog.id, theme=None,
                                   opened_at=local_midnight_utc(dt.date(y, 1 if h == 1 else 7, 1))))
        conn.execute(insert(Cycle), cycle_rows)
    obs_id = 0
    obs_rows = []

    def flush_obs(force=False):
        nonlocal obs_rows
        if obs_rows and (force or len(obs_rows) >= chunk):
            with app.engine.begin() as conn:
                conn.execute(insert(Observation), obs_rows)
            obs_rows = []

    obs_rng = random.Random(f"{seed}-observations")
    # the current quarter is under way (a spread of states for coverage); earlier ones
    # are confirmed with a frozen score
    current = [("planned", 0.35), ("in_progress", 0.2), ("submitted", 0.1), ("confirmed", 0.35)]

    def obs_status(latest: bool) -> str:
        if not latest:
            return "confirmed"
        r, acc = obs_rng.random(), 0.0
        for status, share in current:
            acc += share
            if r < acc:
                return status
        return "confirmed"

    def obs_row(cycle_id, unit_id, observer_id, status, ancestors):
        return dict(id=obs_id, cycle_id=cycle_id, unit_id=unit_id, observing_unit_id=observer_id,
                    status=status, version=1, mode="focused", demonstration=False,
                    score=round(obs_rng.uniform(60, 98), 2) if status == "confirmed" else None,
                    **ancestors)

    for k in range(len(quarters)):
        for v in range(org.nv):
            obs_id += 1
            t = org.township_of_v[v]
            ancestors = dict(city_id=org.city, county_id=org.county_ids[org.county_of_t[t]],
                             township_id=org.township_ids[t], village_id=org.village_ids[v])
            obs_rows.append(obs_row(k + 1, org.village_ids[v], org.township_ids[t],
                                    obs_status(k == len(quarters) - 1), ancestors))
            flush_obs()
    for k, _ in enumerate(halves):
        for t in range(org.nt):
            obs_id += 1
            c = org.county_of_t[t]
            ancestors = dict(city_id=org.city, county_id=org.county_ids[c],
                             township_id=org.township_ids[t], village_id=None)
            obs_rows.append(obs_row(len(quarters) + k + 1, org.township_ids[t],
                                    org.county_ids[c], obs_status(k == len(halves) - 1),
                                    ancestors))
            flush_obs()
    flush_obs(force=True)
    timings["organisation, users, cycles, observations"] = time.perf_counter() - t0

    # last quarter's records in full (42 basic lines each), for ranking that cycle
    t0 = time.perf_counter()
    basic = [sid for sid, _cat, _title in standards][:42]
    first_prev = (len(quarters) - 2) * org.nv + 1
    line_rows = []
    for oid in range(first_prev, first_prev + org.nv):
        for sid in basic:
            r = obs_rng.random()
            line_rows.append({"observation_id": oid, "standard_id": sid, "version": 2,
                              "result": "fail" if r < 0.06 else "partial" if r < 0.15
                              else "conform"})
        if len(line_rows) >= chunk * 2:
            with app.engine.begin() as conn:
                conn.execute(insert(ObservationLine), line_rows)
            line_rows = []
    if line_rows:
        with app.engine.begin() as conn:
            conn.execute(insert(ObservationLine), line_rows)
    timings["last quarter's checklist lines"] = time.perf_counter() - t0

    # the ledger: drop secondary indexes/constraints, load, re-create them
    with app.engine.begin() as conn:
        ddl = _capture_ddl(conn, dialect)
        _drop_ddl(conn, dialect, ddl)
    gen = Generator(org, n_items, standards, quarters, cycle_ids, now, today, fmt, seed)
    t0 = time.perf_counter()
    n_done = 0
    last_log = time.perf_counter()
    if dialect == "sqlite":
        sql = {t: f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))})"
               for t, c in (("items", ITEM_COLS), ("item_events", EVENT_COLS),
                            ("evidence", EVIDENCE_COLS))}
        with app.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            # the search index is rebuilt once after the load, not row by row
            fts_trigger = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'items_fts_insert'").scalar()
            conn.exec_driver_sql("DROP TRIGGER items_fts_insert")
            conn.commit()
            for items, events, evidence in gen.chunks(chunk):
                conn.exec_driver_sql(sql["items"], items)
                conn.exec_driver_sql(sql["item_events"], events)
                if evidence:
                    conn.exec_driver_sql(sql["evidence"], evidence)
                conn.commit()
                n_done += len(items)
                if time.perf_counter() - last_log > 30:
                    last_log = time.perf_counter()
                    log(f"  {db}: {n_done:,} items loaded ({n_done / (last_log - t0):,.0f}/s)")
            t_fts = time.perf_counter()
            conn.exec_driver_sql("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")
            conn.exec_driver_sql(fts_trigger)
            conn.commit()
            timings["search index (FTS5 rebuild)"] = time.perf_counter() - t_fts
            conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
    else:
        raw = app.engine.raw_connection()
        try:
            with raw.cursor() as cur:
                cur.execute("SET synchronous_commit = off")
            raw.commit()
            copies = {t: f"COPY {t} ({', '.join(c)}) FROM STDIN"
                      for t, c in (("items", ITEM_COLS), ("item_events", EVENT_COLS),
                                   ("evidence", EVIDENCE_COLS))}
            for items, events, evidence in gen.chunks(chunk):
                with raw.cursor() as cur:
                    for table, rows in (("items", items), ("item_events", events),
                                        ("evidence", evidence)):
                        if rows:
                            with cur.copy(copies[table]) as cp:
                                for row in rows:
                                    cp.write_row(row)
                raw.commit()
                n_done += len(items)
                if time.perf_counter() - last_log > 30:
                    last_log = time.perf_counter()
                    log(f"  {db}: {n_done:,} items loaded ({n_done / (last_log - t0):,.0f}/s)")
        finally:
            raw.close()
    timings["items + history + evidence rows"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    seq_rows = [{"prefix": p, "last": n} for p, n in gen.sequences]
    for i in range(0, len(seq_rows), chunk * 5):
        with app.engine.begin() as conn:
            conn.execute(insert(NumberSequence), seq_rows[i:i + chunk * 5])
    timings["number sequences"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with app.engine.begin() as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        else:
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
        _restore_ddl(conn, dialect, ddl)
        if _capture_ddl(conn, dialect) != ddl:
            raise RuntimeError("re-created indexes differ from the migrated schema")
        if dialect == "postgresql":
            for table in ("units", "users", "cycles", "observations", *BIG_TABLES):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))")
    timings["indexes and constraints"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if dialect == "sqlite":
        with app.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        auto = app.engine.execution_options(isolation_level="AUTOCOMMIT")
        with auto.connect() as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    timings["ANALYZE" if dialect == "sqlite" else "VACUUM ANALYZE"] = time.perf_counter() - t0
    app.dispose()
    total = time.perf_counter() - t_all
    size = None
    if dialect == "sqlite":
        size = Path(url.split("///", 1)[1]).stat().st_size
    else:
        eng = create_engine(normalise_url(url))
        with eng.connect() as conn:
            size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
        eng.dispose()
    return {
        "seconds": total, "steps": timings,
        "units": 1 + org.nc + org.nt + org.nv, "counties": org.nc, "townships": org.nt,
        "villages": org.nv, "users": 3 + org.nc + org.nt + org.nv,
        "observations": obs_id, "items": gen.item_id, "events": gen.events_total,
        "evidence": gen.evidence_total, "overdue": gen.overdue,
        "states": dict(gen.state_counts), "db_bytes": size,
        "items_per_s": gen.item_id / timings["items + history + evidence rows"],
        "rows_per_s": (gen.item_id + gen.events_total + gen.evidence_total)
        / timings["items + history + evidence rows"],
        "build_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
