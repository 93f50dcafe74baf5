"""The JSON API's list and item endpoints (SPEC §14: "same as the pages").

Each call goes through the whole Flask app in this process (``web.create_app``
on the benchmark's database, Flask's test client, no network): the token's
lookup, the rate limit, argument validation, the same ledger queries as the
pages, serialisation by the marshmallow schemas and the JSON encoding.  The
tokens are made for a city, county, township and village user with
``ledger.org.tokens.create`` (four rows in ``api_tokens``).
"""

from __future__ import annotations

import dataclasses
import random
import urllib.parse

from bench.harness import Measurer
from bench.shape import SEARCH_WORDS
from ledger.org import tokens

STATUSES = ("rectifying", "submitted", "closed", "assigned", "found", "verified")


def _client(m: Measurer):
    from web import create_app

    # the benchmark sends far more than a person would: no rate limit in the way
    sanhu = dataclasses.replace(m.app, settings=m.app.settings.with_(
        api_rate_per_minute=10_000_000))
    return create_app(sanhu=sanhu).test_client()


def api_endpoints(m: Measurer) -> dict:
    client = _client(m)
    rng0 = random.Random(f"{m.args.seed}-api-actors")
    actors = {"city": m.city, "county": rng0.choice(m.counties),
              "township": rng0.choice(m.townships), "village": rng0.choice(m.secretaries)}
    secret = {}
    with m.app.uow() as uow:
        for name, actor in actors.items():
            secret[name] = tokens.create(uow, actor, name="benchmark", days=1).secret
    since = (m.today.isoformat() + "T00:00:00+00:00")
    cases = [
        ("list_county_status", "API list: county + status filter", "county",
         lambda rng: {"status": rng.choice(STATUSES)}),
        ("list_county_overdue", "API list: county, overdue=true", "county",
         lambda rng: {"overdue": "true"}),
        ("list_township_overdue", "API list: township, overdue=true", "township",
         lambda rng: {"overdue": "true"}),
        ("list_village", "API list: village (secretary)", "village", lambda rng: {}),
        ("list_city", "API list: city-wide, no filter", "city", lambda rng: {}),
        ("list_township_text", "API list: township + text search (q)", "township",
         lambda rng: {"q": rng.choice(SEARCH_WORDS)}),
        ("list_city_since", "API list: city-wide, updated_since (incremental pull)", "city",
         lambda rng: {"updated_since": since}),
    ]
    out: dict = {}
    pages: dict[str, list[int]] = {}
    for key, label, who, params in cases:
        rng = random.Random(f"{m.args.seed}-{key}")
        headers = {"Authorization": f"Bearer {secret[who]}"}

        def run(i, params=params, rng=rng, headers=headers, key=key):
            query = urllib.parse.urlencode({"limit": 50, **params(rng)})
            response = client.get(f"/api/v1/items?{query}", headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            rows = response.get_json()["items"]
            assert len(rows) <= 50
            pages.setdefault(key, [r["id"] for r in rows])

        res = m.latency(label, run, m.args.runs)
        res["label"] = label
        out[key] = res

    # one item with history, evidence and the events you may fire, as county staff
    rng = random.Random(f"{m.args.seed}-api-items")
    county = {"Authorization": f"Bearer {secret['county']}"}
    ids = pages.get("list_county_status", []) + pages.get("list_county_overdue", [])
    if ids:
        def item(i):
            response = client.get(f"/api/v1/items/{rng.choice(ids)}", headers=county)
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            assert response.headers["ETag"]

        res = m.latency("API item (history, evidence, events)", item, m.args.item_pages)
        res["label"] = "API item with history"
        out["item"] = res
    return out
