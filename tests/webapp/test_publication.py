"""The 公示 link of a published ranking, signed out: what it shows, objections (rate
limited, escaped, closed after the period) and the answers on record."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from observation_helpers import observation_of, start_and_fill
from sqlalchemy import select
from web_fixtures import csrf_token

from ledger.core.actors import Actor
from ledger.core.models import Item, Objection, Observation, Ranking, Role, Unit
from ledger.observations import services as obs_svc
from ledger.org.directory import add_user
from ledger.results import rankings


@pytest.fixture
def published(sanhu, world) -> str:
    """T11's 2026Q4 ranking published (V111 confirmed with a finding, V112 excused)."""
    town = world["town_T11"]
    oid = observation_of(sanhu, world, "village_quarterly", "2026Q4", "V111")
    start_and_fill(sanhu, oid, town, score=88, fails={"basic:3": "党员档案缺失"})
    for step in (obs_svc.submit, obs_svc.confirm):
        with sanhu.uow() as uow:
            step(uow, oid, town)
    with sanhu.uow() as uow:
        unit = uow.session.get(Unit, world.units["T11"].id)
        leader = Actor.of(add_user(uow.session, username="leader_T11", display_name="书记",
                                   role=Role.TOWNSHIP_STAFF, unit=unit,
                                   password="pw-for-tests-1"), unit)
        uow.commit()
        cycle_id = uow.session.get(Observation, oid).cycle_id
    with sanhu.uow() as uow:
        ranking = rankings.compute(uow, cycle_id, town)
    with sanhu.uow() as uow:
        rankings.excuse(uow, ranking.id, world.units["V112"].id, town, reason="换届")
    with sanhu.uow() as uow:
        rankings.approve(uow, ranking.id, leader)
    with sanhu.uow() as uow:
        rankings.publish(uow, ranking.id, town)
    with sanhu.uow() as uow:
        return uow.session.get(Ranking, ranking.id).token


def test_the_link_shows_only_the_ranking_and_takes_objections_signed_out(client, sanhu,
                                                                        signed_in, published):
    url = f"/results/p/{published}"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Referrer-Policy"] == "no-referrer"
    # 100 − 3 = 97 × 0.7 + 88 × 0.3 = 94.30; V112 excused; only ranks, units, classes, scores
    assert "村111" in html and "94.30" in html and html.count('class="public-row"') == 2
    with sanhu.uow() as uow:
        number = uow.session.scalar(select(Item.number))
    assert number not in html and "党员档案缺失" not in html and "town_T11" not in html
    assert client.get("/results/p/not-a-real-token").status_code == 404
    token = csrf_token(client, url)
    answer = client.post(url, data={"csrf_token": token, "body": "<script>alert(1)</script>"})
    assert answer.status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    big = client.post(url, data={"csrf_token": token, "body": "异" * 100_000,
                                 "name": "张三"})
    assert big.status_code == 400 and "张三" in big.get_data(as_text=True)
    for n in range(2):
        assert client.post(url, data={"csrf_token": token,
                                      "body": f"第{n}条意见"}).status_code == 302
    limited = client.post(url, data={"csrf_token": token, "body": "再来一条"})
    assert limited.status_code == 400
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(Objection.id).where(
            Objection.body == "再来一条")) is None
        first = uow.session.scalar(select(Objection.id).order_by(Objection.id))
    # the township answers on record; the answer shows on the link
    town = signed_in("town_T11")
    with sanhu.uow() as uow:
        cycle_id = uow.session.scalar(select(Ranking.cycle_id))
    ranking_page = town.get(f"/results/cycles/{cycle_id}/ranking").get_data(as_text=True)
    assert published in ranking_page and "alert(1)" in ranking_page
    assert town.post(f"/results/objections/{first}/answer", data={
        "csrf_token": csrf_token(town, "/"), "answer": "经核实，排名无误"}).status_code == 302
    assert "经核实，排名无误" in client.get(url).get_data(as_text=True)
    other = signed_in("town_T12")
    assert other.post(f"/results/objections/{first}/answer", data={
        "csrf_token": csrf_token(other, "/"), "answer": "x"}).status_code == 404
    # after the period: no form, objections refused
    with sanhu.uow() as uow:
        ends = uow.session.scalar(select(Ranking.publication_ends_on))
    later = dt.datetime.combine(ends + dt.timedelta(days=2), dt.time(4), tzinfo=dt.UTC)
    with time_machine.travel(later, tick=False):
        html = client.get(url).get_data(as_text=True)
        assert 'id="raise-objection"' not in html
        token = re.search(r'name="csrf_token" value="([^"]+)"',
                          client.get("/login").get_data(as_text=True)).group(1)
        assert client.post(url, data={"csrf_token": token, "body": "迟到的意见"}).status_code \
            == 409
