"""What one simulated user of ``bench.load`` does, and how its requests are counted.

Plain Python (no locust, no database), shared by the locustfile and the report,
so that the mix and the classification can be tested without a server.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict

#: one round of a signed-in user: the daily mix of issue 8 point 7 — the home page,
#: the ledger list with a random filter, item pages of items from that list, and one
#: workflow event in ten requests.  "todo" is the list (and then the item page) of
#: the items the user can act on, from which the event is fired.
CYCLE = ("home", "list", "item", "item", "home", "list", "item", "list:todo", "item:todo",
         "event")

#: the random filters of the "list" step (query strings of ``/ledger/``)
LIST_FILTERS = (
    {},
    {"status": "found"},
    {"status": "assigned"},
    {"status": "rectifying"},
    {"status": "submitted"},
    {"status": "closed"},
    {"overdue": "1"},
    {"sort": "deadline"},
    {"status": "rectifying", "sort": "deadline"},
)

#: the event each role fires, by the status its "todo" list shows
TODO = {
    "township_staff": (("found", "assign"),),
    "village_secretary": (("assigned", "accept"), ("rectifying", "report_progress")),
}


def outcome(kind: str, status: int) -> str:
    """``ok``, ``conflict`` or ``error`` for one answered request.

    Status 0 is locust's connection error.  Every 5xx is an error, and so is every
    4xx except a 409 answer to an event: another user changed the item between
    this user's page and its POST (optimistic locking), which the page explains
    and which is the expected answer, not a fault.  A sign-in that does not
    redirect (wrong password, throttled) is reported by the caller as 401.
    """
    if status == 0 or status >= 500:
        return "error"
    if kind == "event" and status == 409:
        return "conflict"
    return "error" if status >= 400 else "ok"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)] if s else float("nan")


def summarise(samples: list[list], seconds: float) -> list[dict]:
    """One row per kind and an ``overall`` row from ``[kind, ms, status, outcome]`` samples.

    ``overall`` is the daily mix: every kind but the sign-in (``login``: the form and
    its POST, once per user at the start, an argon2 hash each), which has its own row.
    """
    by_kind: dict[str, list] = defaultdict(list)
    for sample in samples:
        by_kind[sample[0]].append(sample)
    order = ["login", "home", "list", "item", "event"]
    kinds = [k for k in order if k in by_kind] + sorted(set(by_kind) - set(order))

    def row(name: str, rows: list) -> dict:
        ms = [r[1] for r in rows]
        count = {o: sum(1 for r in rows if r[3] == o) for o in ("ok", "conflict", "error")}
        return {"kind": name, "n": len(rows), "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95),
                "max_ms": max(ms) if ms else float("nan"),
                "mean_ms": statistics.fmean(ms) if ms else float("nan"),
                "per_s": len(rows) / seconds if seconds else float("nan"), **count,
                "statuses": dict(sorted(Counter(str(r[2]) for r in rows).items()))}

    mix = [s for s in samples if s[0] != "login"]
    return [row(k, by_kind[k]) for k in kinds] + [row("overall", mix)]


def after_sign_ins(samples: list[list]) -> list[list]:
    """The daily-mix requests started after the last sign-in ended (the steady state).

    Samples carry ``[kind, ms, status, outcome, end]``, ``end`` in seconds since the
    start; the sign-ins (argon2, 50 in the first seconds) load the CPUs while the
    first users already browse, so this is the figure without that burst.
    """
    ends = [s[4] for s in samples if s[0] == "login"]
    ready = max(ends, default=0.0)
    return [s for s in samples if s[0] != "login" and s[4] - s[1] / 1000 >= ready]
