"""The daily ``evidence_gc`` job on real files and a real database (SQLite and PostgreSQL):
it removes what nothing references once it is old, and keeps everything else."""

from __future__ import annotations

import os
import time
from pathlib import Path

from samples import make_png
from sqlalchemy import select

from ledger.core.evidence import KEPT_MAX_AGE
from ledger.core.models import JobRun, ObservationFile
from ledger.items import services as svc
from ledger.items.services import Upload
from schedules import jobs
from schedules.scheduler import RUNNABLE, job_specs

DAY = 24 * 3600


def age(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


def test_the_job_removes_only_old_unreferenced_blobs_and_expired_staging_files(
        any_sanhu, any_world):
    app, store = any_sanhu, any_sanhu.evidence
    with app.uow() as uow:  # referenced by an item's evidence
        item = svc.record_finding(uow, any_world["town_T11"],
                                  unit_id=any_world.units["V111"].id, description="制度未上墙")
    with app.uow() as uow:
        svc.assign(uow, item.id, any_world["town_T11"],
                   responsible_user_id=any_world["sec_V111"].id, category="deadline",
                   deadline="10w")
    with app.uow() as uow:
        svc.accept(uow, item.id, any_world["sec_V111"], measures="m")
    with app.uow() as uow:
        svc.submit(uow, item.id, any_world["sec_V111"], note="n",
                   uploads=[Upload(make_png(red=1), "a.png")])
    in_evidence = store.path_for(store.store(make_png(red=1)).sha256)
    photo = store.store(make_png(red=2))  # referenced by an observation photo
    with app.uow() as uow:
        uow.session.add(ObservationFile(sha256=photo.sha256, size=photo.size, mime=photo.mime,
                                        kind=photo.kind, original_name="p.png",
                                        uploaded_by_id=any_world["sec_V111"].id))
        uow.commit()
    in_photos = store.path_for(photo.sha256)
    # what a transaction that lost its race (or crashed after the move) leaves behind
    orphan = store.path_for(store.store(make_png(red=3)).sha256)
    fresh = store.path_for(store.store(make_png(red=4)).sha256)
    old_kept = store.keep(store.stage(make_png(red=5), "k.png")).path
    new_kept = store.keep(store.stage(make_png(red=6), "k.png")).path
    stale_part = store.stage(make_png(red=7), "t.png").path
    for path in (in_evidence, in_photos, orphan):
        age(path, 2 * DAY)
    age(old_kept, KEPT_MAX_AGE.total_seconds() + 60)
    age(stale_part, 2 * DAY)

    assert jobs.evidence_gc(app) == "ok"

    assert not orphan.exists() and not old_kept.exists() and not stale_part.exists()
    assert in_evidence.exists() and in_photos.exists() and fresh.exists() and new_kept.exists()
    with app.uow() as uow:
        run = uow.session.scalars(select(JobRun).where(JobRun.job_id == "evidence_gc")).one()
    assert run.outcome == "ok" and "'blobs': 1" in run.detail
    assert jobs.evidence_gc(app) == "skipped"  # once a day
    assert jobs.evidence_gc(app, force=True) == "ok"  # and a forced rerun changes nothing
    assert in_evidence.exists() and in_photos.exists() and fresh.exists()


def test_the_job_is_scheduled_daily_and_can_be_run_from_the_admin_page(sanhu):
    spec = {s.id: s for s in job_specs(sanhu.settings)}["evidence_gc"]
    assert spec.func == "schedules.jobs:evidence_gc" and "evidence_gc" in RUNNABLE
    assert "hour='3'" in repr(spec.trigger) and "Asia/Shanghai" in repr(spec.trigger)
    assert jobs.RUN_KEYS["evidence_gc"]
