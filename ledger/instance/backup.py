"""``sanhu backup`` and ``sanhu restore``: the database, the evidence and the key, verified.

A backup is one tar archive (``.tar``, or gzip-compressed when the name ends in
``.tar.gz``/``.tgz``) holding:

* ``database.sqlite``: a consistent copy made with SQLite's online backup API
  (``sqlite3.Connection.backup``), safe while the app writes; or
  ``database.pgdump``: ``pg_dump --format=custom`` (one snapshot; the app keeps
  running), restored with ``pg_restore``;
* ``evidence/<aa>/<bb>/<sha256>``: every evidence blob (content-addressed and
  never changed once written, so copying them after the database snapshot
  captures every file the snapshot refers to);
* ``secret_key``: the generated key that signs sessions, when the instance uses
  one (a key given as ``SANHU_SECRET_KEY`` stays with the operator's settings);
* ``manifest.json``, written last: the format, the database kind, the schema
  revision, the rows per table at backup time and the SHA-256 of every member.

``restore`` verifies every hash before it changes anything, refuses an instance
that already has users or evidence unless forced, puts the database, blobs and
key in place and runs the migrations (a backup from an older version comes up
at this version's schema).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url

from ledger.instance.bootstrap import Sanhu
from ledger.instance.migrate import schema_state, upgrade

FORMAT = 1
MANIFEST = "manifest.json"
_BLOB = re.compile(r"evidence/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass(frozen=True)
class Summary:
    """What a backup holds or a restore put in place."""

    tables: dict[str, int]
    blobs: int
    secret_key: bool


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table (every table in the database, the job store included)."""
    with engine.connect() as conn:
        names = inspect(conn).get_table_names()
        return {n: conn.scalar(select(func.count()).select_from(table(n))) for n in sorted(names)}


def _blobs(sanhu: Sanhu) -> Iterator[tuple[str, Path]]:
    """(member name, path) of every evidence blob (not the staging tmp/ or kept/ files)."""
    for digest, path in sanhu.evidence.blob_files():
        yield f"evidence/{digest[:2]}/{digest[2:4]}/{digest}", path


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and an environment carrying it (not in ``ps``)."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH: install the PostgreSQL client tools "
                          f"(the same major version as the server, or newer)")
    return found


def _dump_database(sanhu: Sanhu, work: Path) -> Path:
    engine = sanhu.engine
    if engine.dialect.name == "sqlite":
        out = work / "database.sqlite"
        source = sqlite3.connect(make_url(str(engine.url)).database)
        target = sqlite3.connect(out)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()
        return out
    out = work / "database.pgdump"
    url, env = _libpq(engine)
    done = subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner",
                           "--file", str(out), "--dbname", url],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return out


def backup(sanhu: Sanhu, dest: Path) -> Summary:
    """Write the instance to the archive ``dest`` (database, evidence, key, manifest)."""
    dest = Path(dest)
    mode = "w:gz" if dest.name.endswith((".tar.gz", ".tgz")) else "w"
    current, _ = schema_state(sanhu.engine)
    counts = row_counts(sanhu.engine)
    key_file = sanhu.settings.secret_key_file
    with tempfile.TemporaryDirectory(prefix="sanhu-backup-") as tmp:
        database = _dump_database(sanhu, Path(tmp))
        members = [(database.name, database)]
        members += list(_blobs(sanhu))
        if key_file.is_file():
            members.append(("secret_key", key_file))
        partial = dest.with_name(dest.name + ".partial")
        hashes = {}
        with tarfile.open(partial, mode) as archive:
            for name, path in members:
                hashes[name] = sha256_file(path)
                archive.add(path, arcname=name, recursive=False)
            manifest = {
                "format": FORMAT,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "database": {"kind": sanhu.engine.dialect.name, "file": database.name,
                             "revision": list(current), "rows": counts},
                "sha256": hashes,
            }
            data = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(dt.datetime.now().timestamp())
            archive.addfile(info, io.BytesIO(data))
        os.replace(partial, dest)  # never a half-written archive under the real name
    return Summary(counts, sum(n.startswith("evidence/") for n in hashes),
                   "secret_key" in hashes)


def _verified(archive: Path, into: Path) -> dict:
    """Extract ``archive`` into ``into`` and check it against its manifest; the manifest."""
    with tarfile.open(archive) as tar:
        try:
            manifest = json.load(tar.extractfile(MANIFEST))
        except (KeyError, ValueError) as exc:
            raise BackupError(f"{archive} has no readable {MANIFEST}") from exc
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {manifest.get('format')!r}")
        hashes: dict[str, str] = manifest["sha256"]
        names = {m.name for m in tar.getmembers() if m.isfile()} - {MANIFEST}
        if names != set(hashes):
            raise BackupError("the archive's files do not match its manifest: "
                              f"{sorted(names ^ set(hashes))[:5]}")
        for name in hashes:
            ok = name in ("database.sqlite", "database.pgdump", "secret_key") or _BLOB.fullmatch(
                name)
            if not ok:
                raise BackupError(f"unexpected file in the archive: {name}")
        tar.extractall(into, members=[m for m in tar.getmembers() if m.name in hashes],
                       filter="data")
    for name, expected in hashes.items():
        actual = sha256_file(into / name)
        if actual != expected:
            raise BackupError(f"{name}: SHA-256 {actual} differs from the manifest's {expected}")
        blob = _BLOB.fullmatch(name)
        if blob and blob.group(3) != actual:
            raise BackupError(f"{name}: the blob's content does not match its name")
    return manifest


def is_empty_instance(sanhu: Sanhu) -> bool:
    """No users in the database (or no schema yet) and no evidence blobs."""
    with sanhu.engine.connect() as conn:
        has_users = ("users" in inspect(conn).get_table_names()
                     and conn.scalar(text("SELECT count(*) FROM users")) > 0)
    return not has_users and next(_blobs(sanhu), None) is None


def _restore_sqlite(sanhu: Sanhu, source: Path) -> None:
    sanhu.dispose()
    target_path = make_url(str(sanhu.engine.url)).database
    Path(target_path).parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target_path)
    try:
        with dst:
            src.backup(dst)  # replaces the whole database, the WAL included
    finally:
        dst.close()
        src.close()


def _restore_postgres(sanhu: Sanhu, source: Path) -> None:
    # start from an empty public schema (a migrated but unused instance has tables)
    with sanhu.engine.connect() as conn:
        owner = conn.scalar(text("SELECT current_user"))
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text(f'CREATE SCHEMA public AUTHORIZATION "{owner}"'))
        conn.commit()
    sanhu.dispose()
    url, env = _libpq(sanhu.engine)
    done = subprocess.run([_pg_tool("pg_restore"), "--no-owner", "--exit-on-error",
                           "--single-transaction", "--dbname", url, str(source)],
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


def restore(sanhu: Sanhu, archive: Path, force: bool = False) -> Summary:
    """Put the instance saved in ``archive`` in place, verified, then migrate it."""
    if not force and not is_empty_instance(sanhu):
        raise BackupError("this instance already has users or evidence; "
                          "restore into an empty one, or pass --force to replace it")
    with tempfile.TemporaryDirectory(prefix="sanhu-restore-") as tmp:
        work = Path(tmp)
        manifest = _verified(Path(archive), work)
        kind = manifest["database"]["kind"]
        if kind != sanhu.engine.dialect.name:
            raise BackupError(f"the archive holds a {kind} database; this instance uses "
                              f"{sanhu.engine.dialect.name}")
        if kind == "sqlite":
            _restore_sqlite(sanhu, work / "database.sqlite")
        else:
            _restore_postgres(sanhu, work / "database.pgdump")
        blobs = 0
        for name in manifest["sha256"]:
            if _BLOB.fullmatch(name):
                target = Path(sanhu.evidence.root, *name.split("/")[1:])
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
                shutil.move(work / name, target)
                target.chmod(0o640)
                blobs += 1
        has_key = "secret_key" in manifest["sha256"]
        if has_key:
            key_file = sanhu.settings.secret_key_file
            key_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(work / "secret_key", key_file)
            key_file.chmod(0o600)
    upgrade(sanhu)
    return Summary(row_counts(sanhu.engine), blobs, has_key)
