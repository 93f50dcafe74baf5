"""Inputs a client can get wrong are refused with a problem naming the field, never
a server error (found by probing the API beside the schemathesis run)."""

from __future__ import annotations

import pytest

from ledger.items import services as svc


def _found(sanhu, world) -> int:
    with sanhu.uow() as uow:
        return svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                  description="制度未上墙").id


def _assigned(sanhu, world) -> int:
    item_id = _found(sanhu, world)
    with sanhu.uow() as uow:
        svc.assign(uow, item_id, world["county_K1"], responsible_user_id=world["sec_V111"].id,
                   category="deadline", deadline="10天")
    return item_id


@pytest.mark.parametrize(("event", "state", "body", "missing"), [
    ("dismiss", "found", {}, {"reason"}),
    ("dismiss", "found", {"kind": "duplicate"}, {"reason"}),
    ("assign", "found", {"category": "deadline"}, {"responsible_user_id", "deadline"}),
    ("reassign", "assigned", {}, {"reason"}),
])
def test_an_event_without_an_input_it_needs_is_422_naming_the_field(
        api_as, sanhu, world, event, state, body, missing):
    item_id = _found(sanhu, world) if state == "found" else _assigned(sanhu, world)
    county = api_as("county_K1")
    before = county.get(f"/api/v1/items/{item_id}").json
    response = county.fire(item_id, event, body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == "/api/v1/problems/validation"
    assert missing <= set(response.json["errors"])
    after = county.get(f"/api/v1/items/{item_id}").json
    assert after["version"] == before["version"] and after["status"] == before["status"]


def test_a_nul_character_in_a_json_body_is_400_and_nothing_is_recorded(api_as, world):
    town = api_as("town_T11")
    count = len(town.get("/api/v1/items").json["items"])
    response = town.post("/api/v1/items", json={"unit_id": world.units["V111"].id,
                                                "description": "制度\u0000未上墙"})
    assert response.status_code == 400
    assert response.json["type"] == "/api/v1/problems/bad-request"
    assert len(town.get("/api/v1/items").json["items"]) == count
