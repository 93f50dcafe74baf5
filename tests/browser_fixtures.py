"""Browser tests: the real app on a real port, driven by Debian's Chromium via Playwright.

Without ``/usr/bin/chromium`` these tests skip with a reason, unless
``SANHU_REQUIRE_BROWSER=1`` (set by CI), in which case they fail.
Screenshots go to ``artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from web import create_app

CHROMIUM = os.environ.get("SANHU_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
SCREENSHOTS = Path(__file__).parents[1] / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        if os.environ.get("SANHU_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
        pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@contextlib.contextmanager
def serving(sanhu):
    """The application for ``sanhu`` on a free local port in a background thread."""
    app = create_app(sanhu=sanhu)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture
def live_server(sanhu):
    """The application served on a free local port in a background thread."""
    with serving(sanhu) as url:
        yield url


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture(scope="session")
def demo_template(sqlite_templates, tmp_path_factory) -> Path:
    """A migrated SQLite file holding the demo city (built once per run)."""
    from ledger.core.settings import Settings
    from ledger.instance.bootstrap import bootstrap
    from ledger.instance.demo import load_demo

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    shutil.copy(sqlite_templates["plain"], path)
    app = bootstrap(Settings(database_url=f"sqlite:///{path}",
                             evidence_dir=path.parent / "ev"))
    load_demo(app)
    app.dispose()
    return path


@pytest.fixture
def demo_sanhu(demo_template, tmp_path):
    """A per-test copy of the demo database, with its own evidence folder."""
    from ledger.core.settings import Settings
    from ledger.instance.bootstrap import bootstrap

    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    app = bootstrap(Settings(database_url=f"sqlite:///{path}", evidence_dir=tmp_path / "ev"))
    yield app
    app.dispose()


@pytest.fixture
def demo_server(demo_sanhu):
    """The application on the demo data, served on a free local port."""
    with serving(demo_sanhu) as url:
        yield url


def submit(page, button, **options) -> None:
    """Click a button that submits a form and wait until the answer has loaded.

    A read right after a submitting click may still see the old page (a CI run
    once read the status before the page had navigated); every submitting click
    in the browser tests goes through here or is followed by a waiting
    ``expect(...)`` assertion.
    """
    with page.expect_navigation(**options):
        button.click()


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def demo_session(browser, base: str, username: str, viewport: dict = DESKTOP):
    """A new browser context signed in as a demo user: (context, page, errors).

    ``errors`` collects script errors and CSP violations (a refused form's 4xx
    answer is expected, so failed resource loads are not counted).
    """
    from ledger.instance.demo import DEMO_PASSWORD

    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    submit(page, page.get_by_role("button", name="登录"))
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))
    return context, page, errors


# --- walking a role's pages (test_every_page_browser.py) --------------------------------

#: how many clicks away from the home page the walk goes
#: (menu → cycles → a cycle → its ranking → its 以奖代补 page)
DEPTH = 4
#: kinds of page visited at every address, not only the first: each cycle (a role's
#: current and earlier cycles differ) and each cycle's ranking (computed or published)
EVERY = re.compile(r"^/observations/cycles/\d+$|^/results/cycles/\d+/ranking$")
#: links that are not pages to check: downloads, exports, stored files, signing out
NOT_A_PAGE = re.compile(r"\.(xlsx|csv|zip|pdf|png|jpe?g)$|/evidence/|/photos/|/plan-files/"
                        r"|/files/|/logout$"
                        # the JSON API and its (English, Swagger UI) developer docs
                        r"|^/api/")
LINKS = "els => els.filter(a => !a.hasAttribute('download')).map(a => a.href)"


def kind_of(path: str) -> str:
    """The kind of page an address opens: its path with every number replaced."""
    return re.sub(r"\d+", "N", path)


def walk(page, base: str):
    """Open, one after the other in ``page``, the pages reachable from the home page
    within ``DEPTH`` clicks (one per kind, see ``EVERY``); yield each one's path."""
    seen = {"/"}
    frontier = [f"{base}/"]
    for depth in range(DEPTH + 1):
        following = []
        for url in frontier:
            response = page.goto(url)
            assert response is not None and response.ok, f"{url}: {response and response.status}"
            yield url.removeprefix(base)
            if depth == DEPTH:
                continue
            for href in page.locator("a[href]").evaluate_all(LINKS):
                parts = urlsplit(href)
                if f"{parts.scheme}://{parts.netloc}" != base or NOT_A_PAGE.search(parts.path):
                    continue
                kind = parts.path if EVERY.match(parts.path) else kind_of(parts.path)
                if kind not in seen:
                    seen.add(kind)
                    following.append(href.split("#")[0])
        frontier = following
