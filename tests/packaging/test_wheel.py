"""The wheel carries everything the app needs outside the Python files.

Templates, static files, translations, migrations and the standards catalog
are package data: a wheel missing one of them installs fine and fails on the
first page.  This builds the wheel, installs it in a fresh virtual environment
(dependencies from the package index), migrates an empty instance with the
installed ``sanhu`` command and fetches the sign-in page and a stylesheet from
it.  Slow (a minute or two): CI runs it once, in the README's test command.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
NEEDED = (
    "web/templates/auth/login.html",
    "web/templates/base.html",
    "web/static/css/",
    "web/translations/zh_Hans_CN/LC_MESSAGES/messages.po",
    "ledger/migrations/env.py",
    "ledger/migrations/versions/0001_initial_schema.py",
    "ledger/catalog/data/standards.json",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, deadline: float) -> tuple[int, str]:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.status, answer.read().decode("utf-8", errors="replace")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    str(ROOT)], check=True, timeout=600)
    (path,) = out.glob("sanhu-*.whl")
    return path


def test_the_wheel_holds_templates_static_files_translations_and_migrations(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    missing = [n for n in NEEDED if not any(name.startswith(n) for name in names)]
    assert missing == []
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def test_the_installed_wheel_migrates_and_serves_the_sign_in_page(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
                   check=True, timeout=900, capture_output=True)
    # run away from the checkout, so nothing can be imported from it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SANHU_", "PYTHON"))}
    env["SANHU_INSTANCE_DIR"] = str(tmp_path / "instance")
    sanhu = str(venv / "bin" / "sanhu")
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import web, ledger; print(web.__file__); print(ledger.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert all(line.startswith(str(venv)) for line in where.stdout.split())
    subprocess.run([sanhu, "db", "upgrade"], cwd=tmp_path, env=env, check=True, timeout=300)
    assert (tmp_path / "instance" / "sanhu.sqlite").exists()

    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([sanhu, "serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        status, page = _get(f"http://127.0.0.1:{port}/login", time.monotonic() + 60)
        assert status == 200
        assert "登录" in page and "用户名" in page  # the Chinese catalog came with the wheel
        css = next(part.split('"')[0] for part in page.split('href="')[1:]
                   if part.split('"')[0].endswith(".css"))
        status, _ = _get(f"http://127.0.0.1:{port}{css}", time.monotonic() + 10)
        assert status == 200
    finally:
        server.terminate()
        server.wait(10)
        log.close()
