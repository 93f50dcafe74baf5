"""Bad input answers 400 or 404 with the friendly page, never a 500, on both databases.

Ids beyond the database's integer (2^31 on PostgreSQL, 2^63 on SQLite) in a
path or a query, a NUL byte in any text (PostgreSQL refuses to store it),
deadlines and board filters beyond what the calendar can count.
"""

from __future__ import annotations

import datetime as dt

import pytest
from web_fixtures import csrf_token, sign_in

from ledger.items import services as svc
from web import create_app

BIG = (2**31, 2**63, 10**30)


@pytest.fixture
def any_app(any_sanhu, any_world):
    return create_app(sanhu=any_sanhu)


@pytest.fixture
def as_user(any_app):
    """Factory: a client of ``any_app`` signed in as the named ``World`` user."""
    def make(name: str):
        client = any_app.test_client()
        assert sign_in(client, name).status_code == 302
        return client
    return make


@pytest.fixture
def overdue(any_sanhu, any_world) -> int:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    with any_sanhu.uow(clock=lambda: start) as uow:
        item = svc.record_finding(uow, any_world["town_T11"],
                                  unit_id=any_world.units["V111"].id, description="制度未上墙")
    with any_sanhu.uow(clock=lambda: start) as uow:
        svc.assign(uow, item.id, any_world["town_T11"],
                   responsible_user_id=any_world["sec_V111"].id, category="deadline",
                   deadline="10d")
    return item.id


def refused(response, codes=(400, 404)) -> str:
    assert response.status_code in codes, response.status_code
    html = response.get_data(as_text=True)
    assert f'<h1 class="h3">{response.status_code}</h1>' in html  # the friendly page
    return html


PATHS = {
    "town_T11": ("/items/{}", "/items/evidence/{}", "/inbox/{}/open", "/observations/{}",
                 "/observations/cycles/{}", "/survey/{}"),
    "sup_K1": ("/board/records/{}", "/board/notices/{}"),
    "county_K1": ("/results/rankings/{}", "/results/reports/{}/2026"),
    "admin": ("/admin/users/{}", "/admin/units/{}"),
}
QUERIES = {
    "county_K1": ("/ledger/?unit={}", "/ledger/?cycle={}", "/ledger/?standard={}",
                  "/ledger/?page={}", "/ledger/export.xlsx?unit={}", "/inbox/?page={}",
                  "/observations/highlights?county={}", "/admin/users?page={}"),
    "sup_K1": ("/board/?unit={}", "/board/?page={}", "/board/notices?page={}"),
}


@pytest.mark.parametrize("who", sorted(PATHS))
def test_an_id_beyond_the_database_integer_in_a_path_is_not_found(as_user, who):
    client = as_user(who)
    for path in PATHS[who]:
        for big in BIG:
            refused(client.get(path.format(big)), (404,))


@pytest.mark.parametrize("who", sorted(QUERIES))
def test_an_id_or_page_beyond_the_database_integer_in_a_query_is_refused(as_user, who):
    client = as_user(who)
    for query in QUERIES[who]:
        for big in BIG:
            refused(client.get(query.format(big)), (400, 403, 404))


def test_selected_ids_beyond_the_database_integer_are_refused(as_user, overdue):
    sup, county = as_user("sup_K1"), as_user("county_K1")
    for big in BIG:
        refuse_ids(sup, county, overdue, big)


def refuse_ids(sup, county, overdue, big):
    refused(sup.get(f"/board/act?action=urge&ids={big}"))
    refused(sup.get(f"/board/act?action=urge&ids={overdue}&ids={big}"))
    token = csrf_token(sup, f"/board/act?action=urge&ids={overdue}")
    refused(sup.post("/board/act/urge", data={"csrf_token": token, "ids": [overdue, big]}))
    token = csrf_token(county, "/ledger/")
    refused(county.post("/ledger/bulk", data={"csrf_token": token, "action": "close",
                                              "ids": [overdue, big]}))


def test_a_board_filter_beyond_the_calendar_is_refused(as_user):
    sup = as_user("sup_K1")
    for query in ("min_days=999999", "min_workdays=999999", "min_rejections=99999999999"):
        refused(sup.get(f"/board/?{query}"), (400,))
    assert sup.get("/board/?min_days=30&min_workdays=20").status_code == 200


TOO_FAR = "整改时限不能超过今后两年。"


def test_a_deadline_beyond_the_calendar_is_refused_beside_the_field(as_user, any_world):
    town = as_user("town_T11")
    for raw in ("2147483648d", "9223372036854775808w", "99999999w", "3654d", "2501w",
                "9999-12-31"):
        refuse_deadline(town, any_world, raw, TOO_FAR)
    refuse_deadline(town, any_world, "0001-01-01", "整改时限不能早于今天。")


def refuse_deadline(town, any_world, raw, reason):
    response = town.get(f"/items/deadline-preview?deadline={raw}")
    assert response.status_code == 400 and response.json["ok"] is False
    assert response.json["message"] == reason
    token = csrf_token(town, "/items/new")
    response = town.post("/items/new", data={
        "csrf_token": token, "unit_id": any_world.units["V111"].id, "source": "observation",
        "severity": "normal", "description": "制度未上墙", "category": "deadline",
        "deadline": raw})
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)


def test_a_bulk_assign_with_a_deadline_beyond_the_calendar_is_refused(as_user, any_sanhu,
                                                                      any_world):
    with any_sanhu.uow() as uow:
        item = svc.record_finding(uow, any_world["town_T11"],
                                  unit_id=any_world.units["V111"].id, description="未上墙")
    town = as_user("town_T11")
    token = csrf_token(town, "/ledger/")
    response = town.post("/ledger/bulk", data={"csrf_token": token, "action": "assign",
                                               "ids": [item.id], "category": "deadline",
                                               "deadline": "2147483648d"})
    assert response.status_code == 400
    assert TOO_FAR in response.get_data(as_text=True)


@pytest.mark.parametrize("where", ["path", "query", "form", "sign-in"])
def test_a_nul_byte_anywhere_is_a_bad_request(any_app, as_user, overdue, where):
    if where == "sign-in":
        client = any_app.test_client()
        response = client.post("/login", data={"username": "city\x00", "password": "x",
                                               "csrf_token": csrf_token(client)})
    elif where == "path":
        response = any_app.test_client().get("/results/p/abc%00def")
    elif where == "query":
        response = as_user("county_K1").get("/ledger/?q=a%00b")
    else:
        sup = as_user("sup_K1")
        token = csrf_token(sup, f"/board/act?action=urge&ids={overdue}")
        response = sup.post("/board/act/urge", data={"csrf_token": token, "ids": [overdue],
                                                     "note": "催\x00办"})
    refused(response, (400,))
