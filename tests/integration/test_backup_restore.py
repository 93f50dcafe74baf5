"""``sanhu backup`` and ``sanhu restore`` as real processes, round-tripping the demo city.

The demo is copied (SQLite) or loaded (PostgreSQL) into its own database, backed
up, restored into a new empty instance, and every table's row count and every
evidence blob's hash compared.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from conftest import _admin_engine, _with_database
from sqlalchemy import text

from ledger.core.settings import Settings
from ledger.instance.backup import row_counts
from ledger.instance.bootstrap import bootstrap
from ledger.instance.demo import load_demo, photo

SANHU = str(Path(sys.executable).with_name("sanhu"))


def blob_hashes(evidence_dir: Path) -> dict[str, str]:
    """Blob name -> SHA-256 of its bytes, for every evidence blob."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in Path(evidence_dir).glob("??/??/*") if p.is_file()}


def sanhu_cmd(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANHU_")}
    env.update(SANHU_DATABASE_URL=settings.database_url,
               SANHU_EVIDENCE_DIR=str(settings.evidence_dir))
    return subprocess.run([SANHU, *args], env=env, capture_output=True, text=True, timeout=55)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def source_and_target(request, tmp_path):
    """(the demo city's settings, an empty instance's settings) on one kind of database."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    if request.param == "sqlite":
        src.mkdir()
        shutil.copy(request.getfixturevalue("demo_template"), src / "sanhu.sqlite")
        source = Settings(database_url=f"sqlite:///{src / 'sanhu.sqlite'}",
                          evidence_dir=src / "evidence")
        app = bootstrap(source)
        load_evidence(app)
        app.dispose()
        yield source, Settings(database_url=f"sqlite:///{dst / 'sanhu.sqlite'}",
                               evidence_dir=dst / "evidence")
        return
    url, templates = request.getfixturevalue("pg_templates")
    names = [f"sanhu_bk_{uuid.uuid4().hex[:10]}", f"sanhu_rs_{uuid.uuid4().hex[:10]}"]
    admin = _admin_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{names[0]}" TEMPLATE "{templates["plain"]}"'))
        conn.execute(text(f'CREATE DATABASE "{names[1]}"'))  # empty: not even a schema
    source = Settings(database_url=_with_database(url, names[0]), evidence_dir=src / "evidence")
    app = bootstrap(source)
    load_demo(app)
    app.dispose()
    try:
        yield source, Settings(database_url=_with_database(url, names[1]),
                               evidence_dir=dst / "evidence")
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def load_evidence(app) -> None:
    """The demo's photos, for a copied demo file whose blobs stayed with the template."""
    for shade in range(5):
        app.evidence.store(photo(shade), "photo.png")


def test_backup_then_restore_into_an_empty_instance_keeps_every_row_and_blob(
        source_and_target, tmp_path):
    source, target = source_and_target
    src_app = bootstrap(source)
    (Path(source.evidence_dir).parent / "secret_key").write_text("k" * 64)
    counts, blobs = row_counts(src_app.engine), blob_hashes(source.evidence_dir)
    src_app.dispose()
    assert counts["items"] > 0 and counts["users"] > 0 and blobs

    archive = tmp_path / "sanhu-backup.tar"
    done = sanhu_cmd(source, "backup", str(archive))
    assert done.returncode == 0, done.stderr
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert set(manifest["sha256"]) >= {"secret_key", *(f"evidence/{n[:2]}/{n[2:4]}/{n}"
                                                       for n in blobs)}

    done = sanhu_cmd(target, "restore", str(archive))
    assert done.returncode == 0, done.stderr + done.stdout
    dst_app = bootstrap(target)
    try:
        assert row_counts(dst_app.engine) == counts
        assert blob_hashes(target.evidence_dir) == blobs
        assert (Path(target.evidence_dir).parent / "secret_key").read_text() == "k" * 64
    finally:
        dst_app.dispose()

    # the restored instance now has users: a second restore is refused without --force
    again = sanhu_cmd(target, "restore", str(archive))
    assert again.returncode != 0 and "--force" in again.stderr
    assert sanhu_cmd(target, "restore", "--force", str(archive)).returncode == 0


def test_restore_refuses_an_archive_whose_files_do_not_match_their_hashes(sanhu, tmp_path):
    sanhu.evidence.store(photo(1), "photo.png")
    archive = tmp_path / "good.tar"
    assert sanhu_cmd(sanhu.settings, "backup", str(archive)).returncode == 0
    tampered = tmp_path / "tampered.tar"
    with tarfile.open(archive) as good, tarfile.open(tampered, "w") as bad:
        for member in good.getmembers():
            data = good.extractfile(member).read()
            if member.name.startswith("evidence/"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            bad.addfile(member, io.BytesIO(data))
    target = Settings(database_url=f"sqlite:///{tmp_path / 'new' / 'sanhu.sqlite'}",
                      evidence_dir=tmp_path / "new" / "evidence")
    done = sanhu_cmd(target, "restore", str(tampered))
    assert done.returncode != 0 and "SHA-256" in done.stderr
    assert not (tmp_path / "new" / "evidence").exists()  # nothing was put in place
