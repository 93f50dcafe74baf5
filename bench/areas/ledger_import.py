"""The ledger import (``ledger.items.ledger_import``): preview and import of a large
sheet, measured in a fresh spawned interpreter: time and that process's own peak RSS.

In the full benchmark it runs last (it adds items to the measured database).  On its
own it builds a small organisation in an empty database and imports into it::

    .venv/bin/python -m bench.areas.ledger_import --rows 50000            # SQLite
    .venv/bin/python -m bench.areas.ledger_import --rows 50000 \\
        --url postgresql://postgres@127.0.0.1:5432/postgres               # a new database
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import multiprocessing
import random
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, select, text

from bench.common import _settings, log
from bench.harness import Measurer, own_peak_rss_mb
from ledger.core.actors import Actor
from ledger.core.models import Unit, User
from ledger.instance.bootstrap import bootstrap

STATUSES = ("已发现", "已交办", "整改中", "待验收", "已验收", "已销号", "已整改")


def ledger_import(m: Measurer) -> dict:
    """Preview and import ``--import-rows`` rows into one county (SPEC-style target:
    ≤ 60 s and ≤ 300 MB), in a fresh spawned process."""
    res = run_spawned(m.url, m.workdir, m.args.import_rows)
    report(m.db, res)
    return res


def report(db: str, res: dict) -> None:
    log(f"  {db}: ledger import: {res['rows']:,} rows ({res['bytes'] / 2**20:.1f} MiB .xlsx): "
        f"preview {res['preview_seconds']:.1f} s, import {res['import_seconds']:.1f} s "
        f"(this process's CPU: {res['preview_cpu_seconds']:.1f} s, "
        f"{res['import_cpu_seconds']:.1f} s; on SQLite all the work), "
        f"peak RSS {res['peak_rss_mb']:.0f} MB ({res['rss_before_mb']:.0f} MB before)")


def run_spawned(url: str, workdir: str, n_rows: int) -> dict:
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        return ex.submit(import_case, url, workdir, n_rows).result()


def make_sheet(path: Path, places: list[tuple[str, str]], n_rows: int, seed: int = 2026) -> None:
    """An .xlsx of ``n_rows`` ledger rows over ``places`` (unit code, person name)."""
    from ledger.core.xlsx import workbook
    from ledger.items.ledger_columns import HEADERS

    rng = random.Random(seed)
    book = workbook(path, constant_memory=True, tmpdir=str(path.parent))
    sheet = book.add_worksheet("台账")
    sheet.write_row(0, 0, HEADERS)
    tag = uuid.uuid4().hex[:6]
    for r in range(1, n_rows + 1):
        code, person = places[r % len(places)]
        status = rng.choice(STATUSES)
        deadline = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(700))
        sheet.write_row(r, 0, [
            str(r), f"IMP-{tag}-{r:06d}", "观摩", "", code, f"基本标准 {1 + r % 42}",
            f"第{r}号问题：村务公开栏内容未及时更新，党员活动室管理不规范", "按要求整改",
            "限期整改", person, deadline.strftime("%Y/%m/%d"), status,
            "2026-10-28 16:00" if status == "已销号" else "", "", "", ""])
    book.close()


def import_case(url: str, workdir: str, n_rows: int) -> dict:
    """Write a sheet for the first county, then preview it and import it, as the pages do."""
    from ledger.items.ledger_import import Sheet, import_ledger, preview

    app = bootstrap(_settings(url, Path(workdir) / "evidence"))
    with app.uow() as uow:
        s = uow.session
        uid, unit_id, username = s.execute(
            select(User.id, User.unit_id, User.username)
            .where(User.role == "county_staff").order_by(User.id).limit(1)).one()
        actor = Actor(uid, "county_staff", unit_id, "county", username)
        villages = s.execute(select(Unit.id, Unit.code).where(
            Unit.county_id == unit_id, Unit.level == "village")).all()
        names = dict(s.execute(select(User.unit_id, User.display_name).where(
            User.unit_id.in_([v.id for v in villages]),
            User.role == "village_secretary")).all())
    places = [(v.code, names.get(v.id, "某某")) for v in villages]
    path = Path(tempfile.mkdtemp(prefix="sanhu_import_", dir=workdir)) / "ledger.xlsx"
    make_sheet(path, places, n_rows)
    data = path.read_bytes()
    rss_before = own_peak_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    with app.uow() as uow:
        checked = preview(uow.session, actor, path.name, data)
        errors, kept = checked.errors[:5], checked.sheet.to_json()  # as the page stages it
        del checked
        uow.rollback()
    preview_seconds, preview_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert not errors, errors  # the page keeps nothing of the preview either
    t0, c0 = time.perf_counter(), time.process_time()
    with app.uow() as uow:
        result = import_ledger(uow, actor, path.name, data, zone=app.settings.zone,
                               sheet=Sheet.from_json(kept))
    import_seconds, import_cpu = time.perf_counter() - t0, time.process_time() - c0
    app.dispose()
    return {"rows": len(result.created), "bytes": len(data), "preview_seconds": preview_seconds,
            "import_seconds": import_seconds, "preview_cpu_seconds": preview_cpu,
            "import_cpu_seconds": import_cpu, "rss_before_mb": rss_before,
            "peak_rss_mb": own_peak_rss_mb()}


def _small_world(url: str, workdir: str, townships: int, villages: int) -> None:
    from ledger.instance.migrate import upgrade
    from ledger.org.directory import add_unit, add_user

    app = bootstrap(_settings(url, Path(workdir) / "evidence"))
    upgrade(app)
    with app.uow() as uow:
        s = uow.session
        city = add_unit(s, code="B", name="市", level="city")
        county = add_unit(s, code="BK", name="县", level="county", parent=city)
        add_user(s, username="bench_county", display_name="县委组织部", role="county_staff",
                 unit=county, password="bench-password-1")
        for t in range(townships):
            town = add_unit(s, code=f"BK{t:02d}", name=f"乡{t}", level="township",
                            parent=county)
            for v in range(villages):
                add_unit(s, code=f"BK{t:02d}{v:03d}", name=f"村{t}-{v}", level="village",
                         parent=town)
        uow.commit()
    app.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=50_000)
    p.add_argument("--url", help="a PostgreSQL server URL (a new database is made); "
                                 "default: a new SQLite file")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="sanhu_bench_import_") as workdir:
        if args.url:
            name = f"sanhu_bench_import_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = args.url.rsplit("/", 1)[0] + f"/{name}"
        else:
            url, admin = f"sqlite:///{workdir}/bench.sqlite", None
        try:
            _small_world(url, workdir, townships=20, villages=15)
            res = run_spawned(url, workdir, args.rows)
            report("postgresql" if admin else "sqlite", res)
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
