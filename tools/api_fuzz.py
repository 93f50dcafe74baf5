"""Property-based run of the whole JSON API with schemathesis (CI step "API fuzz").

    .venv/bin/python tools/api_fuzz.py                 # about 2 minutes (5 when busy)
    .venv/bin/python tools/api_fuzz.py --max-examples 5 --role county_staff   # quicker

What it does:

1. builds a throw-away instance (a temporary directory: SQLite database, evidence
   store, secret key) with the demo city of ``sanhu demo`` (``load_demo``);
2. makes a personal access token (``ledger.org.tokens.create``) for one user of
   each role: a village secretary, township staff, county staff, the supervisor,
   city staff and the admin;
3. serves the app (``web.create_app``, the rate limit raised out of the way) on a
   free local port in a thread of this process;
4. runs ``schemathesis run`` (v4; its CLI tests a served API only) against
   ``/api/v1/openapi.json`` once per token: every operation the document lists at
   the time, examples + coverage + fuzzing phases, positive and negative data,
   with a fixed seed and a bounded number of examples per operation; path ids
   and ``If-Match`` are drawn mostly from the instance's real ids and versions
   (a ``schemathesis.toml`` written per role), so calls reach real items. The
   checks: no server error (5xx), every response conforming to its declared
   schema, status code and content type.

It exits non-zero when any run finds a failure, when schemathesis cannot run,
and when a run tested no operation at all (as pytest's exit 5 fails CI).
The JSON and HAR reports of each run are in the temporary directory, which is
kept (and printed) when a run fails or with ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: role → the demo user whose token the run uses
ROLES = {
    "village_secretary": "sec111",
    "township_staff": "town11",
    "county_staff": "county1",
    "supervisor": "supervisor",
    "city_staff": "city",
    "admin": "admin",
}
CHECKS = ("not_a_server_error,response_schema_conformance,status_code_conformance,"
          "content_type_conformance")


def build_instance(instance: Path):
    """Migrate a fresh SQLite instance, load the demo; returns (settings, sanhu)."""
    from ledger.core.settings import Settings
    from ledger.instance.bootstrap import bootstrap
    from ledger.instance.demo import load_demo
    from ledger.instance.migrate import upgrade

    settings = Settings.from_env({"SANHU_INSTANCE_DIR": str(instance)})
    # schemathesis sends thousands of requests a minute per token
    settings = settings.with_(api_rate_per_minute=1_000_000)
    sanhu = bootstrap(settings)
    upgrade(sanhu)
    load_demo(sanhu)
    return settings, sanhu


def make_tokens(sanhu, usernames: dict[str, str]) -> dict[str, str]:
    from ledger.instance.demo import demo_user_actor
    from ledger.org import tokens

    out = {}
    for role, username in usernames.items():
        actor = demo_user_actor(sanhu, username)
        with sanhu.uow() as uow:
            out[role] = tokens.create(uow, actor, name="api fuzz", days=1).secret
    return out


class Server:
    """The app on a free local port, in a thread of this process (werkzeug)."""

    def __init__(self, app) -> None:
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines
        self.httpd = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.thread.join(10)


def path_ids(sanhu, document: dict, username: str) -> dict[str, list]:
    """Real values for the document's path parameters, so that calls reach real objects.

    ``<thing>_id`` takes ids of the table ``<thing>s`` (or ``<thing>``): those in the
    user's scope where the ledger can say (items, evidence), some of everything else
    (404s are part of the test); ``event`` takes the workflow's events."""
    from sqlalchemy import bindparam, text

    from ledger.instance.demo import demo_user_actor
    from ledger.items.queries import ItemFilter, items_after
    from ledger.items.services import EVENT_SERVICES

    names = {p["name"] for methods in document.get("paths", {}).values()
             for op in methods.values() if isinstance(op, dict)
             for p in op.get("parameters", []) if p.get("in") == "path"}
    names |= {n.strip("{}") for path in document.get("paths", {})
              for n in path.split("/") if n.startswith("{")}
    actor = demo_user_actor(sanhu, username)
    out: dict[str, list] = {}
    with sanhu.uow() as uow:
        session = uow.session
        tables = set(session.connection().dialect.get_table_names(session.connection()))
        rows, _ = items_after(session, actor, ItemFilter(), today=uow.today(), limit=10,
                              after=None, updated_since=None,
                              warning_days=sanhu.settings.warning_days)
        own_items = [r["id"] for r in rows]
        for name in sorted(names):
            if name == "event":
                out[name] = sorted(EVENT_SERVICES)
                continue
            if not name.endswith("_id"):
                continue
            stem = name[:-3]
            table = next((t for t in (f"{stem}s", stem, f"{stem}es") if t in tables), None)
            if table is None:
                continue
            ids = [i for (i,) in session.execute(text(
                f'SELECT id FROM "{table}" ORDER BY id LIMIT 8'))]  # noqa: S608 (own names)
            ids += [i for (i,) in session.execute(text(
                f'SELECT id FROM "{table}" ORDER BY id DESC LIMIT 8'))]  # noqa: S608
            if table == "items":
                ids += own_items
            elif table == "evidence" and own_items:
                ids += [i for (i,) in session.execute(
                    text("SELECT id FROM evidence WHERE item_id IN :ids LIMIT 8")
                    .bindparams(bindparam("ids", expanding=True)), {"ids": own_items})]
            if ids:
                out[name] = sorted(set(ids))
    return out


#: the versions the demo's items have, as If-Match values: a change reaches the services
IF_MATCH = [f'"{v}"' for v in range(1, 13)]


def write_config(path: Path, ids: dict[str, list]) -> None:
    """A schemathesis.toml: each path parameter draws from its real values 80% of the
    time, ``If-Match`` from the versions the items have (60%)."""
    lines = ["[dictionaries.if_match]", "values = " + json.dumps(IF_MATCH)]
    for name, values in ids.items():
        lines.append(f"[dictionaries.{name}]")
        lines.append("values = " + json.dumps(values, ensure_ascii=False))
    lines.append("[parameters]")
    lines.append('"header.If-Match" = { dictionary = "if_match", probability = 0.6 }')
    for name in ids:
        lines.append(f'"path.{name}" = {{ dictionary = "{name}", probability = 0.8 }}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_schemathesis(url: str, token: str, role: str, out: Path, args,
                     config: Path) -> tuple[int, dict]:
    report = out / f"schemathesis-{role}.json"
    cmd = [str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(config),
           "run",
           f"{url}/api/v1/openapi.json",
           "--header", f"Authorization: Bearer {token}",
           "--checks", CHECKS,
           "--phases", args.phases,
           "--max-examples", str(args.max_examples),
           "--seed", str(args.seed),
           "--workers", "1",
           "--generation-database", "none",
           "--suppress-health-check", "all",
           "--request-timeout", "30",
           "--no-color",
           "--report", "json,har", "--report-json-path", str(report),
           "--report-dir", str(out)]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": ""}
    rc = subprocess.run(cmd, cwd=out, env=env, check=False).returncode
    summary = json.loads(report.read_text()) if report.exists() else {}
    return rc, summary


def tested_operations(summary: dict) -> int:
    """How many operations the run actually tested (0: nothing ran, or no report)."""
    tested = (summary.get("operations") or {}).get("tested")
    return tested if isinstance(tested, int) else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=40,
                        help="test cases per operation and phase (default 40)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--phases", default="examples,coverage,fuzzing")
    parser.add_argument("--role", action="append", choices=sorted(ROLES),
                        help="only these roles (repeatable; default: all six)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance")
    args = parser.parse_args(argv)

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="sanhu_api_fuzz_"))
    failed: list[str] = []
    try:
        print(f"api fuzz: building the demo instance in {tmp}", flush=True)
        settings, sanhu = build_instance(tmp / "instance")
        roles = {r: ROLES[r] for r in (args.role or ROLES)}
        secrets = make_tokens(sanhu, roles)
        from web import create_app

        app = create_app(settings, sanhu=sanhu)
        print(f"api fuzz: demo ready after {time.monotonic() - started:.0f} s", flush=True)
        document = app.test_client().get("/api/v1/openapi.json").get_json()
        with Server(app) as server:
            for role, secret in secrets.items():
                t0 = time.monotonic()
                print(f"\n== schemathesis as {role} ({roles[role]})", flush=True)
                config = tmp / f"schemathesis-{role}.toml"
                write_config(config, path_ids(sanhu, document, roles[role]))
                rc, summary = run_schemathesis(server.url, secret, role, tmp, args, config)
                n = tested_operations(summary) if summary else 0
                print(f"== {role}: exit {rc}, {time.monotonic() - t0:.0f} s", flush=True)
                if rc != 0:
                    failed.append(f"{role}: schemathesis exit {rc}")
                elif n == 0:
                    failed.append(f"{role}: no operation was tested")
        sanhu.dispose()
    finally:
        if args.keep or failed:
            print(f"api fuzz: reports and instance kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\napi fuzz: {len(secrets)} roles in {time.monotonic() - started:.0f} s")
    if failed:
        print("api fuzz FAILED:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    print("api fuzz: no server error, every response as documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
