"""Standards, cycles and coverage over the API, counted in the caller's area."""

from __future__ import annotations

import pytest
from observation_helpers import observation_of, start_and_fill

from ledger.core.models import Observation
from ledger.observations import services as obs_svc


@pytest.fixture
def cycle(sanhu, world) -> int:
    """2026Q4 opened (a planned observation per village); V111's record confirmed."""
    obs = observation_of(sanhu, world, "village_quarterly", "2026Q4", "V111")
    start_and_fill(sanhu, obs, world["town_T11"])
    with sanhu.uow() as uow:
        obs_svc.submit(uow, obs, world["town_T11"])
    with sanhu.uow() as uow:
        obs_svc.confirm(uow, obs, world["town_T11"])
    with sanhu.uow() as uow:
        return uow.session.get(Observation, obs).cycle_id


def test_the_standards_are_the_current_catalog_filtered_by_set_and_category(api_as):
    reader = api_as("sec_V111")
    everything = reader.get("/api/v1/standards").json
    assert len(everything["standards"]) == 65 and everything["catalog"]["label"]
    basic = reader.get("/api/v1/standards?set=basic").json["standards"]
    assert len(basic) == 42 and basic[0]["key"] == "basic:1"
    third = reader.get("/api/v1/standards?set=basic&category=3").json["standards"]
    assert len(third) == 7 and {s["category_key"] for s in third} == {"basic:3"}
    one = reader.get(f"/api/v1/standards/{basic[0]['id']}").json
    assert one["title"] == basic[0]["title"] and one["text"]
    assert reader.get("/api/v1/standards/999999").status_code == 404
    assert reader.get("/api/v1/standards?set=other").status_code == 422


def test_cycles_count_the_observations_of_the_callers_area(api_as, cycle):
    town = api_as("town_T11").get("/api/v1/cycles").json["cycles"]
    assert [(c["period"], c["total"]) for c in town] == [("2026Q4", 2)]
    assert town[0]["counts"] == {"planned": 1, "in_progress": 0, "submitted": 0,
                                 "confirmed": 1}
    assert town[0]["first_day"] == "2026-10-01" and town[0]["last_day"] == "2026-12-31"
    city = api_as("city").get(f"/api/v1/cycles/{cycle}").json
    assert city["total"] == 8 and city["counts"]["confirmed"] == 1
    # a secretary counts only their village's confirmed record
    sec = api_as("sec_V112").get(f"/api/v1/cycles/{cycle}").json
    assert sec["total"] == 0
    assert api_as("city").get("/api/v1/cycles/999999").status_code == 404


def test_coverage_as_the_cycle_page_shows_it(api_as, cycle):
    county = api_as("county_K1").get(f"/api/v1/cycles/{cycle}/coverage").json
    rows = {r["unit_code"]: r for r in county["rows"]}
    assert set(rows) == {"T11", "T12"}
    assert rows["T11"]["planned"] == 2 and rows["T11"]["confirmed"] == 1
    assert rows["T11"]["unfinished"] == 1
    assert county["total"]["planned"] == 4 and county["total"]["unit_id"] is None
    by_county = api_as("city").get(f"/api/v1/cycles/{cycle}/coverage?by=county").json
    assert [r["unit_code"] for r in by_county["rows"]] == ["K1", "K2"]
    assert api_as("town_T11").get(f"/api/v1/cycles/{cycle}/coverage?by=x").status_code == 422


def test_a_village_secretary_may_not_read_coverage(api_as, cycle):
    response = api_as("sec_V111").get(f"/api/v1/cycles/{cycle}/coverage")
    assert response.status_code == 403
    assert response.json["type"] == "/api/v1/problems/forbidden"
