"""Every route, fed hostile input by Hypothesis, answers below 500 on both databases.

Each example picks a rule of ``app.url_map`` and one of its methods, a caller
(signed out, or signed in as a secretary, a county official, a supervisor or
the administrator), fills the path variables with real ids, ids beyond the
databases' integers, negatives, NUL bytes and odd text, and adds query
arguments and form fields (with a valid CSRF token) of the same kinds plus
dates far outside the calendar and 10 kB strings.  Derandomised, so CI sees the
same examples every run; ``SANHU_FUZZ_EXAMPLES`` (per route) raises the count locally.

Left out, because they would sign the fuzzing users out rather than test
input: ``auth.logout`` and the administrator's disabling a user or resetting a
password (their input is checked by ``tests/webapp/test_admin.py``).  Static
files are plain files.
"""

from __future__ import annotations

import os
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_fixtures import csrf_token, sign_in

from web import create_app

PER_ROUTE = int(os.environ.get("SANHU_FUZZ_EXAMPLES", "8"))
ROLES = (None, "sec_V111", "county_K1", "sup_K1", "admin")
SKIPPED = {"static", "bootstrap.static", "auth.logout", "admin.disable_user",
           "admin.reset_password"}
#: query and form names the views read (ids, filters, dates, texts)
NAMES = ("ids", "unit", "cycle", "page", "standard", "standard_category", "status", "sort",
         "q", "min_days", "min_workdays", "min_rejections", "repeat", "action", "under",
         "county", "year", "unread", "inline", "deadline", "unit_id", "responsible_user_id",
         "standard_id", "cycle_id", "category", "source", "severity", "description", "note",
         "reason", "held_at", "follow_up_deadline", "reply_due", "term_until", "replied_at",
         "question", "place", "title", "body", "name", "contact", "answer", "username",
         "password", "expected_version", "member_ids", "observation_ids", "survey_ids",
         "categories", "confirmed", "back", "date", "period", "score", "text", "method")
BIG = ("2147483648", "9223372036854775808", "1" + "0" * 30, "-1", "-2147483649", "0")
NASTY = ("a\x00b", "\x00", "²", "١٢", " 7 ", "1e9", "NaN", "0x10", "x" * 10_000,
         "2147483648d", "99999999w", "0001-01-01", "9999-12-31", "9999-12-31T23:59",
         "2026-02-30", "<script>", "' OR 1=1 --", "../../etc/passwd", "%00")


def ids() -> st.SearchStrategy[str]:
    return st.integers(min_value=1, max_value=40).map(str)


def values() -> st.SearchStrategy[str]:
    return st.one_of(ids(), st.sampled_from(BIG), st.sampled_from(NASTY),
                     st.text(max_size=12))


@pytest.fixture
def fuzz_app(any_sanhu, any_world):
    return create_app(sanhu=any_sanhu)


@pytest.fixture
def callers(fuzz_app) -> dict:
    """A client and a CSRF token per caller (signed out, or one of the ``ROLES``)."""
    found = {}
    for who in ROLES:
        client = fuzz_app.test_client()
        if who:
            assert sign_in(client, who).status_code == 302
        found[who] = (client, csrf_token(client, "/login" if who is None else "/account"))
    return found


def routes(app) -> list:
    return sorted((rule for rule in app.url_map.iter_rules() if rule.endpoint not in SKIPPED),
                  key=lambda rule: (rule.rule, sorted(rule.methods)))


def path_of(rule, filled: dict[str, str]) -> str:
    parts = []
    for is_var, text in rule._trace:
        if is_var:
            parts.append(urllib.parse.quote(filled[text], safe=""))
        elif text != "|":
            parts.append(text)
    return "".join(parts)


def fuzzer(callers: dict, seen: set, rule):
    """A Hypothesis test of one rule: a few requests, each checked for a 5xx."""
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})

    @settings(max_examples=PER_ROUTE, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data):
        method = data.draw(st.sampled_from(methods), label="method")
        who = data.draw(st.sampled_from(ROLES), label="caller")
        filled = {name: data.draw(values(), label=name) for name in sorted(rule.arguments)}
        query = data.draw(st.dictionaries(st.sampled_from(NAMES), values(), max_size=4))
        form = data.draw(st.dictionaries(st.sampled_from(NAMES), values(), max_size=6))
        client, token = callers[who]
        path = path_of(rule, filled)
        if method == "POST":
            response = client.post(path, query_string=query, data={**form, "csrf_token": token})
        else:
            response = client.get(path, query_string=query)
        response.close()
        seen.add((rule.rule, method, who))
        assert response.status_code < 500, (method, path, query, form, who)

    return check


@pytest.mark.slow
def test_no_route_answers_a_server_error_to_hostile_input(fuzz_app, callers):
    rules = routes(fuzz_app)
    seen: set[tuple[str, str, str | None]] = set()
    for rule in rules:  # every route, a few examples each
        fuzzer(callers, seen, rule)()
    print(f"\nfuzzed {len({r for r, _, _ in seen})} of {len(rules)} routes, "
          f"{len({(r, m) for r, m, _ in seen})} route-methods, {len(seen)} "
          f"(route, method, caller) triples, {PER_ROUTE} examples a route")
