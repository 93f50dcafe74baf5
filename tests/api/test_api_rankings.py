"""Rankings over the API: who sees which, what a ranking shows, refusals."""

from __future__ import annotations

from ranking_notice_helpers import publish_county_ranking


def test_a_published_county_ranking_reads_as_on_its_page(sanhu, world, api_as):
    made = publish_county_ranking(sanhu, world)
    county = api_as("county_K1")
    listed = county.get(f"/api/v1/rankings?cycle={made['cycle']}")
    assert listed.status_code == 200, listed.get_data(as_text=True)
    assert [r["id"] for r in listed.json["rankings"]] == [made["ranking"]]
    assert listed.json["rankings"][0]["status"] == "published"
    one = county.get(f"/api/v1/rankings/{made['ranking']}")
    assert one.status_code == 200
    assert one.headers["ETag"] == f'"{one.json["version"]}"'
    rows = one.json["rows"]
    assert [(r["unit"]["name"], r["rank"]) for r in rows] == [("乡11", 1), ("乡12", 2)]
    assert rows[0]["score"] > rows[1]["score"] and rows[0]["klass"]
    assert [h["event"] for h in one.json["history"]][-2:] == ["approve", "publish"]
    assert api_as("sup_city").get(f"/api/v1/rankings/{made['ranking']}").status_code == 200


def test_rankings_outside_the_area_are_404_and_lists_empty(sanhu, world, api_as):
    made = publish_county_ranking(sanhu, world)
    for name in ("county_K2", "town_T21", "sec_V111", "town_T11"):
        other = api_as(name)
        refused = other.get(f"/api/v1/rankings/{made['ranking']}")
        assert refused.status_code == 404, name
        assert refused.json["type"] == "/api/v1/problems/not-found"
        assert other.get("/api/v1/rankings").json["rankings"] == [], name


def test_bad_filters_are_422(api_as):
    bad = api_as("county_K1").get("/api/v1/rankings?status=nope&cursor=%%%")
    assert bad.status_code == 422 and {"status"} <= set(bad.json["errors"])
