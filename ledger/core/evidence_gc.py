"""Garbage collection of the evidence store (the daily ``evidence_gc`` job).

Uploads enter the blob tree only inside the transaction that records them
(``EvidenceStore.stage``/``commit``), but a few can still be left behind: a
transaction that lost a race or failed after its files were moved in, a worker
killed in the middle of an upload, a file kept for a retry that never came.
:func:`collect_garbage` removes

* blobs that no row references (``evidence``, ``observation_files``) and that
  are older than :data:`MIN_AGE` — the age keeps a blob whose reference is
  being committed right now (``commit`` refreshes a blob's time);
* files kept for a retry older than ``KEPT_MAX_AGE`` (their tokens have expired);
* uploads in progress (``tmp/``) older than :data:`MIN_AGE`.

It is idempotent: a second run finds nothing more to remove.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select

from ledger.core.evidence import KEPT_MAX_AGE
from ledger.core.models import Evidence, ObservationFile, PairVisitPhoto
from ledger.core.uow import UnitOfWork

#: an unreferenced blob or an unfinished upload is removed once older than this
MIN_AGE = dt.timedelta(days=1)
#: every column that references a blob by digest (add new ones here)
REFERENCES = (Evidence.sha256, ObservationFile.sha256, PairVisitPhoto.sha256)
_BATCH = 500


def collect_garbage(uow: UnitOfWork) -> dict[str, int]:
    """Remove unreferenced old blobs and stale staging files; counts of what went.

    Returns ``blobs`` (and their ``bytes``), ``kept`` and ``tmp`` removed.
    """
    now = uow.now().timestamp()
    store = uow.evidence
    done = {"blobs": 0, "bytes": 0, "kept": 0, "tmp": 0}
    old_blob = now - MIN_AGE.total_seconds()
    batch: list[tuple[str, Path]] = []
    for digest, path in store.blob_files():
        if _mtime(path) < old_blob:
            batch.append((digest, path))
        if len(batch) >= _BATCH:
            _remove_unreferenced(uow, batch, old_blob, done)
            batch = []
    _remove_unreferenced(uow, batch, old_blob, done)
    done["kept"] = _remove_older(store.kept_dir, now - KEPT_MAX_AGE.total_seconds())
    done["tmp"] = _remove_older(store.tmp_dir, old_blob)
    return done


def _referenced(uow: UnitOfWork, digests: list[str]) -> set[str]:
    found: set[str] = set()
    for column in REFERENCES:
        found.update(uow.session.scalars(select(column).where(column.in_(digests)).distinct()))
    return found


def _remove_unreferenced(uow: UnitOfWork, batch: list[tuple[str, Path]], older_than: float,
                         done: dict[str, int]) -> None:
    if not batch:
        return
    used = _referenced(uow, [digest for digest, _ in batch])
    for digest, path in batch:
        # the time is read again: a commit of the same content may have refreshed it
        if digest in used or _mtime(path) >= older_than:
            continue
        size = path.stat().st_size
        if _unlink(path):
            done["blobs"] += 1
            done["bytes"] += size


def _remove_older(folder: Path, older_than: float) -> int:
    if not folder.is_dir():
        return 0
    return sum(_unlink(p) for p in _files(folder.iterdir()) if _mtime(p) < older_than)


def _files(paths: Iterable[Path]) -> Iterable[Path]:
    return (p for p in paths if p.is_file())


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")  # gone meanwhile: nothing to do


def _unlink(path: Path) -> bool:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        return True
    return False
