"""Pairing (互帮) after a published ranking: suggested within the township, editable by the
observing unit, visits recorded by the pair, shown on home pages and the next record."""

from __future__ import annotations

import io

import pytest
from observation_helpers import observation_of, start_and_fill
from samples import make_png
from sqlalchemy import func, select
from web_fixtures import csrf_token

from ledger.core.actors import Actor
from ledger.core.models import Observation, Pair, PairVisit, PairVisitPhoto, Role, Unit
from ledger.observations import services as obs_svc
from ledger.org.directory import add_user
from ledger.results import rankings
from ledger.results.classes import save_rule


@pytest.fixture
def pair_id(sanhu, world) -> int:
    """T11 ranks V111 (95) above V112 (60) with thresholds: V111 示范, V112 后进."""
    town = world["town_T11"]
    scores = {"V111": 95, "V112": 60}
    for name, score in scores.items():
        oid = observation_of(sanhu, world, "village_quarterly", "2026Q4", name)
        start_and_fill(sanhu, oid, town, score=score,
                       fails={} if score > 90 else {f"basic:{n}": "未达标" for n in range(1, 14)})
        for step in (obs_svc.submit, obs_svc.confirm):
            with sanhu.uow() as uow:
                step(uow, oid, town)
    with sanhu.uow() as uow:
        cycle_id = uow.session.get(Observation, oid).cycle_id
        unit = uow.session.get(Unit, world.units["T11"].id)
        leader = Actor.of(add_user(uow.session, username="leader_T11", display_name="书记",
                                   role=Role.TOWNSHIP_STAFF, unit=unit,
                                   password="pw-for-tests-1"), unit)
        uow.commit()
    with sanhu.uow() as uow:
        save_rule(uow, world["admin"], "village_quarterly",
                  {"mode": "threshold", "demonstration_min": 90, "lagging_below": 70})
    with sanhu.uow() as uow:
        ranking = rankings.compute(uow, cycle_id, town)
    with sanhu.uow() as uow:
        rankings.approve(uow, ranking.id, leader)
    with sanhu.uow() as uow:
        rankings.publish(uow, ranking.id, town)
    with sanhu.uow() as uow:
        pair = uow.session.scalar(select(Pair))
        assert (pair.lagging_unit_id, pair.partner_unit_id) == (
            world.units["V112"].id, world.units["V111"].id)
        return pair.id


def test_the_pair_sees_itself_records_visits_and_the_next_record_shows_it(signed_in, sanhu,
                                                                          world, pair_id):
    sec = signed_in("sec_V112")
    assert f"/results/pairs/{pair_id}" in sec.get("/").get_data(as_text=True)
    url = f"/results/pairs/{pair_id}"
    token = csrf_token(sec, url)
    bad = sec.post(url, data={"csrf_token": token, "day": "2099-01-01", "who": "支委3人",
                              "learned": "积分制"})
    assert bad.status_code == 400 and "支委3人" in bad.get_data(as_text=True)
    assert sec.post(url, data={"csrf_token": token, "day": "2026-11-20", "who": "支委3人",
                               "learned": "学习党员积分制管理"}).status_code == 302
    assert "学习党员积分制管理" in signed_in("sec_V111").get(url).get_data(as_text=True)
    assert signed_in("sec_V121").get(url).status_code == 404
    # only the observing unit changes the partner
    refused = sec.post(url, data={"csrf_token": token,
                                  "partner_unit_id": world.units["V111"].id})
    assert refused.status_code == 403
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(PairVisit.who)) == "支委3人"
    nxt = observation_of(sanhu, world, "village_quarterly", "2027Q1", "V112")
    with sanhu.uow() as uow:
        obs_svc.start(uow, nxt, world["town_T11"])
    html = signed_in("town_T11").get(f"/observations/{nxt}").get_data(as_text=True)
    assert 'id="previous-pair"' in html and "村111" in html
    assert 'id="previous-class">后进<' in html


def test_a_visit_keeps_its_photos_for_those_who_see_the_pair(signed_in, sanhu, world,
                                                             pair_id):
    sec = signed_in("sec_V112")
    url = f"/results/pairs/{pair_id}"
    files_before = count_files(sanhu)
    # a file that is not an image is refused with the message; the visit is not recorded
    refused = sec.post(url, data={
        "csrf_token": csrf_token(sec, url), "day": "2026-11-20", "who": "支委2人",
        "learned": "学习积分制", "photos": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a.pdf")},
        content_type="multipart/form-data")
    assert refused.status_code == 400 and "图片" in refused.get_data(as_text=True)
    assert "学习积分制" in refused.get_data(as_text=True)  # what was typed is kept
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(PairVisit)) == 0
    sent = sec.post(url, data={
        "csrf_token": csrf_token(sec, url), "day": "2026-11-20", "who": "支委2人",
        "learned": "学习积分制", "photos": [(io.BytesIO(make_png(10)), "交流1.png"),
                                             (io.BytesIO(make_png(200)), "交流2.png")]},
        content_type="multipart/form-data")
    assert sent.status_code == 302
    with sanhu.uow() as uow:
        ids = uow.session.scalars(select(PairVisitPhoto.id).order_by(PairVisitPhoto.id)).all()
    assert len(ids) == 2 and count_files(sanhu) == files_before + 2
    page = signed_in("sec_V111").get(url).get_data(as_text=True)
    assert page.count('class="visit-photo') == 2
    photo = f"{url}/photos/{ids[0]}"
    got = signed_in("town_T11").get(photo + "?inline=1")
    assert got.status_code == 200 and got.mimetype == "image/png"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    got.close()
    for who in ("sec_V121", "town_T12", "county_K2"):
        assert signed_in(who).get(photo).status_code == 404, who
    # a photo id of another pair does not open through this one
    assert sec.get(f"/results/pairs/{pair_id + 999}/photos/{ids[0]}").status_code == 404


def count_files(sanhu) -> int:
    root = sanhu.settings.evidence_dir
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0
