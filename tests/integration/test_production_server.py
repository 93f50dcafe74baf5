"""The production entry: real gunicorn processes, real ``sanhu db upgrade`` processes.

gunicorn runs with the repository's ``deploy/gunicorn.conf.py`` and
``web.wsgi:app``, on a free port, settings in its environment, exactly as the
systemd unit starts it.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import PASSWORD, PG_ENV, PG_SKIP, _admin_engine, _with_database
from sqlalchemy import create_engine, text

from ledger.core.db import normalise_url
from ledger.core.models import Item
from ledger.instance.migrate import head_revisions
from ledger.items import services as svc

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_env(database_url: str, folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANHU_")}
    env.update(SANHU_DATABASE_URL=database_url, SANHU_EVIDENCE_DIR=str(folder / "ev"), **extra)
    return env


@contextmanager
def gunicorn(env: dict[str, str], log: Path, workers: int = 2):
    """A gunicorn master with ``workers`` workers; yields its base URL once it answers."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
             "-w", str(workers), "-b", f"127.0.0.1:{port}", "web.wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).close()
                break
            except OSError:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        assert proc.wait(30) == 0, log.read_text()


def fetch(opener, url: str, data: dict | None = None, headers: dict | None = None):
    """(status, body, headers) of a GET, or a form POST when ``data`` is given."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with opener.open(req, timeout=20) as answer:
            return answer.status, answer.read().decode(), answer.headers
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), err.headers


def token(html: str, name: str = "csrf_token") -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]+)"', html).group(1)


@pytest.mark.postgres
def test_gunicorn_with_two_workers_on_postgresql_signs_in_and_records_an_item_event(
        pg_sanhu, world, tmp_path):
    with pg_sanhu.uow() as uow:
        found = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                   description="党员活动室制度未上墙")
    with pg_sanhu.uow() as uow:
        svc.assign(uow, found.id, world["town_T11"], responsible_user_id=world["sec_V111"].id,
                   category="deadline", deadline="10w")
    env = settings_env(pg_sanhu.settings.database_url, tmp_path)
    with gunicorn(env, tmp_path / "gunicorn.log") as base:
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        _, page, _ = fetch(browser, base + "/login")
        status, home, _ = fetch(browser, base + "/login", {
            "username": "sec_V111", "password": PASSWORD, "csrf_token": token(page)})
        assert status == 200 and "sec_V111" in home  # redirected to the home page, signed in

        # several requests, so both workers serve this session (one shared secret key)
        for _ in range(6):
            status, page, _ = fetch(browser, f"{base}/items/{found.id}")
            assert status == 200
        status, _, headers = fetch(
            browser, f"{base}/items/{found.id}/events/accept",
            {"accept-csrf_token": token(page, r"(?:\w+-)?csrf_token"),
             "accept-expected_version": token(page, "accept-expected_version"),
             "accept-measures": "补齐记录"},
            headers={"X-Request-ID": "accept-from-test-1"})
        assert status == 200 and headers["X-Request-ID"] == "accept-from-test-1"
    with pg_sanhu.uow() as uow:
        assert uow.session.get(Item, found.id).status == "rectifying"
    lines = [json.loads(line) for line in (tmp_path / "gunicorn.log").read_text().splitlines()
             if line.startswith("{")]
    access = [e for e in lines if e["logger"] == "gunicorn.access"]
    posted = [e for e in access if "/events/accept" in e["message"]]
    assert posted and posted[0]["request_id"] == "accept-from-test-1"
    generated = [e["request_id"] for e in access if e["request_id"] != "accept-from-test-1"]
    assert len(set(generated)) == len(generated)  # a new id for each request that sent none
    booted = [e for e in lines if e["message"].startswith("Booting worker")]
    assert len(booted) == 2


@pytest.mark.postgres
def test_two_db_upgrades_at_once_on_an_empty_postgresql_database_both_succeed(tmp_path):
    url = os.environ.get(PG_ENV) or pytest.skip(PG_SKIP)
    name = f"sanhu_mig_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine(url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        env = settings_env(_with_database(url, name), tmp_path)
        procs = [subprocess.Popen([str(BIN / "sanhu"), "db", "upgrade"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                 for _ in range(2)]
        outputs = [p.communicate(timeout=55)[0].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        engine = create_engine(normalise_url(_with_database(url, name)))
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) in \
                head_revisions()
            assert conn.scalar(text("SELECT count(*) FROM standards")) > 0
            assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_two_db_upgrades_at_once_on_a_new_sqlite_file_both_succeed(tmp_path):
    env = settings_env(f"sqlite:///{tmp_path / 'new.sqlite'}", tmp_path)
    procs = [subprocess.Popen([str(BIN / "sanhu"), "db", "upgrade"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for _ in range(2)]
    outputs = [p.communicate(timeout=55)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs


def test_healthz_and_readyz_answer_without_sign_in_and_readyz_fails_when_the_schema_is_behind(
        sqlite_sanhu, tmp_path):
    env = settings_env(sqlite_sanhu.settings.database_url, tmp_path)
    with gunicorn(env, tmp_path / "gunicorn.log", workers=1) as base:
        opener = urllib.request.build_opener()
        assert fetch(opener, base + "/healthz")[:2] == (200, '{"status":"ok"}\n')
        status, body, headers = fetch(opener, base + "/readyz", headers={"X-Request-ID": "r-1"})
        assert status == 200 and json.loads(body)["status"] == "ready"
        assert headers["X-Request-ID"] == "r-1"
        with sqlite_sanhu.engine.begin() as conn:  # a deployment that did not migrate yet
            conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        status, body, _ = fetch(opener, base + "/readyz")
        assert status == 503 and json.loads(body)["reason"] == "migrations not current"
        assert fetch(opener, base + "/healthz")[0] == 200


def test_readyz_answers_503_and_healthz_200_when_the_database_is_unreachable(tmp_path):
    # nothing listens on the port: the app starts (no database at import) but is not ready
    env = settings_env(f"postgresql://sanhu@127.0.0.1:{free_port()}/sanhu", tmp_path)
    with gunicorn(env, tmp_path / "gunicorn.log", workers=1) as base:
        opener = urllib.request.build_opener()
        assert fetch(opener, base + "/healthz")[0] == 200
        status, body, _ = fetch(opener, base + "/readyz")
        assert status == 503 and json.loads(body)["reason"] == "database unreachable"
