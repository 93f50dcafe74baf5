"""The locust users of ``bench.load`` (run by it; not meant to be started by hand).

Each user signs in once as a distinct township staff member or village
secretary of the bench database, then repeats ``bench.load_mix.CYCLE`` with a
think time between requests.  Every request is timed here and written, with its
status and outcome, to ``SANHU_LOAD_SAMPLES`` when locust quits; ``bench.load``
computes the figures from that file.

Environment: ``SANHU_LOAD_USERS`` (a JSON file ``[[username, role], ...]``),
``SANHU_LOAD_PASSWORD``, ``SANHU_LOAD_SAMPLES``, ``SANHU_LOAD_THINK`` ("min,max"
seconds) and ``SANHU_LOAD_SEED``.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path

from locust import HttpUser, between, events, task

from bench.load_mix import CYCLE, LIST_FILTERS, TODO, outcome

ACCOUNTS = json.loads(Path(os.environ["SANHU_LOAD_USERS"]).read_text(encoding="utf-8"))
PASSWORD = os.environ["SANHU_LOAD_PASSWORD"]
THINK = [float(x) for x in os.environ.get("SANHU_LOAD_THINK", "1,3").split(",")]
RNG = random.Random(int(os.environ.get("SANHU_LOAD_SEED", "2026")))
RNG.shuffle(ACCOUNTS)
SAMPLES: list[list] = []  # [kind, ms, status, outcome, seconds since start]
SKIPPED: dict[str, int] = {"event": 0}
START = time.monotonic()

ITEM_LINK = re.compile(r'href="/items/(\d+)"')


def field(html: str, name: str) -> str | None:
    """The value of the input named ``name`` (the first one on the page)."""
    m = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    return m.group(1) if m else None


def first_option(html: str, select: str) -> str | None:
    """The first non-empty option of the select named ``select``."""
    m = re.search(rf'<select[^>]*name="{re.escape(select)}"[^>]*>(.*?)</select>', html, re.S)
    values = re.findall(r'<option[^>]*value="([^"]+)"', m.group(1)) if m else []
    return values[0] if values else None


class Clerk(HttpUser):
    """A township staff member or village secretary doing the daily work."""

    wait_time = between(*THINK)

    def on_start(self) -> None:
        self.username, self.role = ACCOUNTS.pop()  # distinct accounts: one session each
        self.rng = random.Random(RNG.random())
        self.step = self.rng.randrange(len(CYCLE))  # users do not move in lockstep
        self.items: list[str] = []
        self.page: tuple[str, str] | None = None  # (item id, html) of the last todo page
        self.todo: tuple[str, str] | None = None  # (status, event) of the todo list
        self.todo_items: list[str] = []
        page = self.call("login", "GET", "/login")
        self.call("login", "POST", "/login", data={
            "username": self.username, "password": PASSWORD,
            "csrf_token": field(page or "", "csrf_token") or ""}, signin=True)

    def call(self, kind: str, method: str, url: str, name: str | None = None,
             signin: bool = False, **kwargs) -> str | None:
        """Send one request, time it and classify it; the body when it succeeded."""
        t0 = time.perf_counter()
        with self.client.request(method, url, name=name or url, catch_response=True,
                                 allow_redirects=method == "GET", **kwargs) as resp:
            ms = (time.perf_counter() - t0) * 1000
            status = resp.status_code or 0
            if signin and status != 302 and status != 0 and status < 500:
                status = 401  # the form came back: the sign-in was refused
            elif method == "GET" and "/login" in (resp.url or "") and "/login" not in url:
                status = 401  # redirected to the sign-in page: the session was lost
            result = outcome(kind, status)
            SAMPLES.append([kind, ms, status, result, time.monotonic() - START])
            if result == "error":
                resp.failure(f"{kind}: HTTP {status}")
            else:
                resp.success()
            return resp.text if result == "ok" else None

    @task
    def next_step(self) -> None:
        step = CYCLE[self.step % len(CYCLE)]
        self.step += 1
        getattr(self, "do_" + step.replace(":", "_"))()

    def do_home(self) -> None:
        self.call("home", "GET", "/")

    def _list(self, params: dict, name: str) -> list[str]:
        html = self.call("list", "GET", "/ledger/", params=params, name=name) or ""
        return list(dict.fromkeys(ITEM_LINK.findall(html)))

    def do_list(self) -> None:
        params = self.rng.choice(LIST_FILTERS)
        self.items = self._list(params, "/ledger/?" + "&".join(sorted(params)))

    def do_item(self) -> None:
        if self.items:
            self.call("item", "GET", f"/items/{self.rng.choice(self.items)}", name="/items/[id]")
        else:
            self.do_home()  # an empty list: look at the home page instead

    def do_list_todo(self) -> None:
        self.todo = self.rng.choice(TODO[self.role])
        self.todo_items = self._list({"status": self.todo[0]}, "/ledger/?status (todo)")

    def do_item_todo(self) -> None:
        self.page = None
        if self.todo_items:
            item = self.rng.choice(self.todo_items)
            html = self.call("item", "GET", f"/items/{item}", name="/items/[id]")
            self.page = (item, html) if html else None
        else:
            self.do_home()

    def do_event(self) -> None:
        """Fire the todo event from the page just read, with its token and version."""
        event = self.todo[1] if self.todo else None
        item, html = self.page or ("", "")
        version = field(html, f"{event}-expected_version")
        if not version:  # nothing to act on here (another user was faster, or no item)
            SKIPPED["event"] += 1
            self.do_home()
            return
        data = {f"{event}-csrf_token": field(html, f"{event}-csrf_token") or "",
                f"{event}-expected_version": version}
        if event == "assign":
            data.update({"assign-responsible_user_id":
                         first_option(html, "assign-responsible_user_id") or "",
                         "assign-category": "deadline", "assign-deadline": "10w"})
        elif event == "accept":
            data["accept-measures"] = "对照标准逐项整改,建立台账"
        else:
            data["report_progress-note"] = "已完成部分整改,资料正在补充"
        self.call("event", "POST", f"/items/{item}/events/{event}", data=data,
                  name=f"/items/[id]/events/{event}")


@events.quitting.add_listener
def _write_samples(environment, **_kw) -> None:
    with open(os.environ["SANHU_LOAD_SAMPLES"], "w", encoding="utf-8") as out:
        json.dump({"samples": SAMPLES, "skipped": SKIPPED}, out)
