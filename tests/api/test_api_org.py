"""The organisation over the API: who the token is, and the units of its subtree only."""

from __future__ import annotations


def test_me_says_who_the_token_acts_as_and_what_it_sees(api_as, world):
    me = api_as("town_T11").get("/api/v1/me")
    assert me.status_code == 200
    body = me.json
    assert body["id"] == world["town_T11"].id and body["username"] == "town_T11"
    assert body["role"] == "township_staff" and body["via"] == "token"
    assert body["unit"] == {"id": world.units["T11"].id, "code": "T11", "name": "乡11",
                            "level": "township"}
    assert body["scope"]["unit"]["id"] == world.units["T11"].id


def test_me_without_a_token_is_401(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


def test_a_township_lists_itself_and_its_villages_with_their_children(api_as, world):
    units = api_as("town_T11").get("/api/v1/units").json
    codes = {u["code"]: u for u in units["units"]}
    assert set(codes) == {"T11", "V111", "V112"}
    assert codes["T11"]["child_count"] == 2 and codes["V111"]["child_count"] == 0
    assert codes["V111"]["parent_id"] == world.units["T11"].id
    assert units["next_cursor"] is None


def test_the_city_filters_by_level_and_parent_and_pages_with_a_cursor(api_as, world):
    city = api_as("city")
    villages = city.get("/api/v1/units?level=village").json["units"]
    assert len(villages) == 8 and {u["level"] for u in villages} == {"village"}
    children = city.get(f"/api/v1/units?parent={world.units['K1'].id}").json["units"]
    assert [u["code"] for u in children] == ["T11", "T12"]
    seen, cursor = [], None
    while True:
        page = city.get("/api/v1/units?limit=4" + (f"&cursor={cursor}" if cursor else "")).json
        assert len(page["units"]) <= 4
        seen += [u["code"] for u in page["units"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 15  # city, 2 counties, 4 townships, 8 villages


def test_one_unit_lists_its_children(api_as, world):
    unit = api_as("county_K1").get(f"/api/v1/units/{world.units['T12'].id}").json
    assert unit["code"] == "T12" and unit["level"] == "township"
    assert unit["children"] == [world.units["V121"].id, world.units["V122"].id]
    assert unit["child_count"] == 2


def test_a_village_secretary_sees_only_their_village_and_gets_404_for_the_others(api_as, world):
    sec = api_as("sec_V111")
    listed = sec.get("/api/v1/units").json["units"]
    assert [u["code"] for u in listed] == ["V111"]
    for code in ("V112", "T11", "C", "V222"):
        response = sec.get(f"/api/v1/units/{world.units[code].id}")
        assert response.status_code == 404, code
        assert response.json["type"] == "/api/v1/problems/not-found"
        assert sec.get(f"/api/v1/units?parent={world.units[code].id}").status_code == 404
    assert sec.get("/api/v1/units/999999").status_code == 404


def test_bad_filters_and_cursors_are_422_per_field(api_as):
    city = api_as("city")
    response = city.get("/api/v1/units?level=planet&limit=0")
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"level", "limit"}
    response = city.get("/api/v1/units?cursor=not-a-cursor")
    assert response.status_code == 422 and "cursor" in response.json["errors"]
