"""Scope leaks: a village secretary's token enumerating the ids of other villages'
objects gets 404 (``not-found``) everywhere, never the object and never 403.

The paths come from the OpenAPI document at run time, so every resource added
later with a ``{<thing>_id}`` path parameter (units, observations, …) is walked
too, with the ids of ``<thing>s`` that belong to other villages.
"""

from __future__ import annotations

import io
import re

import pytest
from samples import make_png
from sqlalchemy import text

from ledger.items import services as svc

OWN = "V111"
OTHERS = ("V112", "V121", "V211", "V222")
#: path parameter → how to find the ids of things of other units than V111 (and not above it)
FOREIGN_IDS = {
    "item_id": "SELECT id FROM items WHERE unit_id != :own",
    "evidence_id": "SELECT e.id FROM evidence e JOIN items i ON i.id = e.item_id "
                   "WHERE i.unit_id != :own",
    "unit_id": "SELECT id FROM units WHERE level = 'village' AND id != :own",
    "observation_id": "SELECT id FROM observations WHERE unit_id != :own",
}


def _item_in(sanhu, world, village: str, town: str, county: str, *, submitted: bool) -> int:
    """An item of ``village``, assigned, accepted and (if asked) submitted with a photo."""
    with sanhu.uow() as uow:
        item_id = svc.record_finding(uow, world[f"town_{town}"], unit_id=world.units[village].id,
                                     description="制度未上墙").id
    with sanhu.uow() as uow:
        svc.assign(uow, item_id, world[f"county_{county}"],
                   responsible_user_id=world[f"sec_{village}"].id, category="deadline",
                   deadline="10天")
    if submitted:
        with sanhu.uow() as uow:
            svc.accept(uow, item_id, world[f"sec_{village}"], measures="上墙")
        with sanhu.uow() as uow:
            svc.submit(uow, item_id, world[f"sec_{village}"], note="已上墙",
                       uploads=[svc.Upload(make_png(), "after.png")])
    return item_id


@pytest.fixture
def ledger_of_four_villages(sanhu, world):
    places = {"V111": ("T11", "K1"), "V112": ("T11", "K1"), "V121": ("T12", "K1"),
              "V211": ("T21", "K2"), "V222": ("T22", "K2")}
    made = {}
    for village, (town, county) in places.items():
        made[village] = [_item_in(sanhu, world, village, town, county, submitted=s)
                         for s in (False, True)]
    return made


def _foreign_ids(sanhu, world, param: str) -> list[int]:
    sql = FOREIGN_IDS.get(param)
    if sql is None:
        return []
    with sanhu.uow() as uow:
        tables = set(uow.session.connection().dialect.get_table_names(uow.session.connection()))
        table = re.search(r"FROM (\w+)", sql).group(1)
        if table not in tables:
            return []
        return [i for (i,) in uow.session.execute(text(sql), {"own": world.units[OWN].id})]


def test_a_secretary_enumerating_other_villages_ids_gets_404_everywhere(
        client, api_as, sanhu, world, ledger_of_four_villages):
    sec = api_as("sec_V111")
    own = ledger_of_four_villages[OWN]
    assert all(sec.get(f"/api/v1/items/{i}").status_code == 200 for i in own)

    document = client.get("/api/v1/openapi.json").json
    walked = []
    for path, methods in document["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        if len(params) != 1 or "get" not in methods:
            continue
        ids = _foreign_ids(sanhu, world, params[0])
        assert ids or params[0] not in ("item_id", "evidence_id"), path
        for some_id in ids:
            url = document["servers"][0]["url"].rstrip("/") + path.replace(
                "{" + params[0] + "}", str(some_id))
            response = sec.get(url)
            walked.append(url)
            assert response.status_code == 404, (url, response.get_data(as_text=True))
            assert response.content_type == "application/problem+json"
            assert response.json["type"] == "/api/v1/problems/not-found"
    assert any("/evidence/" in u for u in walked) and any("/items/" in u for u in walked)

    # ids beyond the last one answer exactly like the other villages' ids
    with sanhu.uow() as uow:
        top = uow.session.scalar(text("SELECT max(id) FROM items"))
    for some_id in (top + 1, top + 1000):
        assert sec.get(f"/api/v1/items/{some_id}").status_code == 404


def test_a_secretary_cannot_act_on_or_list_other_villages_items(
        api_as, world, ledger_of_four_villages):
    sec = api_as("sec_V111")
    for village in OTHERS:
        for item_id in ledger_of_four_villages[village]:
            for event in ("accept", "submit", "request_extension", "report_progress"):
                response = sec.post(f"/api/v1/items/{item_id}/events/{event}", json={},
                                    headers={"If-Match": '"1"'})
                assert response.status_code == 404, (item_id, event, response.json)
                assert response.json["type"] == "/api/v1/problems/not-found"
            assert sec.get(f"/api/v1/items/{item_id}/events").status_code == 404
        # filtering the list by another village shows nothing of it
        listed = sec.get(f"/api/v1/items?unit={world.units[village].id}")
        assert listed.status_code in (200, 404)
        if listed.status_code == 200:
            assert listed.json["items"] == []
    seen = {i["id"] for i in sec.get("/api/v1/items?limit=500").json["items"]}
    assert seen == set(ledger_of_four_villages[OWN])


def test_an_upload_token_of_another_user_is_refused(api_as, world, ledger_of_four_villages):
    """A secretary cannot attach a file someone else uploaded (tokens are per user)."""
    other = api_as("sec_V112")
    upload = other.client.post("/api/v1/uploads", headers=other.headers(),
                               data={"file": (io.BytesIO(make_png()), "x.png")},
                               content_type="multipart/form-data")
    assert upload.status_code == 201
    sec = api_as("sec_V111")
    item_id = ledger_of_four_villages[OWN][0]
    assert sec.fire(item_id, "accept", {"measures": "上墙"}).status_code == 200
    response = sec.fire(item_id, "submit", {"note": "x", "uploads": [upload.json["upload"]]})
    assert response.status_code == 422
    assert "uploads" in response.json["errors"]
