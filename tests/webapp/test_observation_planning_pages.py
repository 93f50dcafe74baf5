"""The planning pages through the Flask client: plan, groups, batches, scheduling,
coverage on the cycle page, liaisons, cycle settings and the admin's scoring rules."""

from __future__ import annotations

import re

import pytest
from observation_helpers import observation_of
from sqlalchemy import select
from web_fixtures import csrf_token

from ledger.core.models import Cycle, Liaison, Observation
from ledger.observations import scoring


@pytest.fixture
def cycle_id(sanhu, world) -> int:
    oid = observation_of(sanhu, world, "village_quarterly", "2026Q4", "V111")
    with sanhu.uow() as uow:
        return uow.session.get(Observation, oid).cycle_id


def test_a_township_plans_groups_batches_and_schedules_its_villages(signed_in, sanhu, world,
                                                                   cycle_id):
    town = signed_in("town_T11")
    base = f"/observations/cycles/{cycle_id}"
    assert 'id="plan-link"' in town.get(base).get_data(as_text=True)
    token = csrf_token(town, base + "/plan")
    assert town.post(base + "/plan/text", data={"csrf_token": token, "goals": "全覆盖观摩",
                                               "version": "0"}).status_code == 302
    # a stale plan version keeps what was typed
    stale = town.post(base + "/plan/text", data={"csrf_token": token, "goals": "我的目标",
                                                 "version": "0"})
    assert stale.status_code == 409 and "我的目标" in stale.get_data(as_text=True)
    assert town.post(base + "/groups", data={
        "csrf_token": token, "name": "第一组", "member_ids": [str(world["town_T11"].id)],
        "outside": "县委组织部 联系人"}).status_code == 302
    bad = town.post(base + "/batches", data={"csrf_token": token, "name": "第一批",
                                             "day": "2027-03-01"})
    assert bad.status_code == 400 and "第一批" in bad.get_data(as_text=True)
    assert town.post(base + "/batches", data={"csrf_token": token, "name": "第一批",
                                              "day": "2026-11-20"}).status_code == 302
    html = town.get(base + "/plan").get_data(as_text=True)
    ids = re.findall(r'name="observation_ids" value="(\d+)"', html)
    group = re.search(r'<option value="(\d+)">第一组', html).group(1)
    batch = re.search(r'<option value="(\d+)">第一批', html).group(1)
    answer = town.post(base + "/schedule", data={"csrf_token": token, "observation_ids": ids,
                                                 "group_id": group, "batch_id": batch})
    assert answer.status_code == 302
    html = town.get(base + "/plan").get_data(as_text=True)
    assert html.count('class="t-day">2026年11月20日<') == 2 and "全覆盖观摩" in html
    # the county reads the township's plan and sees the coverage, but cannot change it
    county = signed_in("county_K1")
    page = county.get(base).get_data(as_text=True)
    assert page.count('class="coverage-row"') == 2  # T11 and T12
    unit = world.units["T11"].id
    plan = county.get(f"{base}/plan?unit={unit}").get_data(as_text=True)
    assert "全覆盖观摩" in plan and 'name="observation_ids"' not in plan
    assert county.post(base + "/groups", data={"csrf_token": csrf_token(county, base),
                                               "name": "x"}).status_code in (403, 404)
    # another county sees nothing of it
    assert signed_in("county_K2").get(f"{base}/plan?unit={unit}").status_code in (403, 404)


def test_the_city_sets_the_cycle_and_refuses_a_bad_weight(signed_in, sanhu, cycle_id):
    city = signed_in("city")
    base = f"/observations/cycles/{cycle_id}"
    token = csrf_token(city, base)
    city.post(base + "/settings", data={"csrf_token": token, "theme": "主题党日",
                                        "checklist_weight": "101"})
    with sanhu.uow() as uow:
        assert uow.session.get(Cycle, cycle_id).checklist_weight == 70
    city.post(base + "/settings", data={"csrf_token": token, "theme": "主题党日",
                                        "checklist_weight": "60",
                                        "finding_deadline_workdays": "15"})
    with sanhu.uow() as uow:
        cycle = uow.session.get(Cycle, cycle_id)
        assert (cycle.theme, cycle.checklist_weight, cycle.finding_deadline_workdays) == (
            "主题党日", 60, 15)
    town = signed_in("town_T11")
    answer = town.post(base + "/settings", data={"csrf_token": csrf_token(town, base),
                                                 "checklist_weight": "10"})
    with sanhu.uow() as uow:
        assert uow.session.get(Cycle, cycle_id).checklist_weight == 60
    assert answer.status_code == 302


def test_a_county_assigns_a_liaison_to_its_township_only(signed_in, sanhu, world):
    county = signed_in("county_K1")
    token = csrf_token(county, "/observations/liaisons")
    assert county.post("/observations/liaisons", data={
        "csrf_token": token, "user_id": world["county_K1"].id,
        "township_id": world.units["T11"].id}).status_code == 302
    refused = county.post("/observations/liaisons", data={
        "csrf_token": token, "user_id": world["county_K1"].id,
        "township_id": world.units["T21"].id})
    assert refused.status_code in (400, 404)
    with sanhu.uow() as uow:
        assert uow.session.scalars(select(Liaison.township_id)).all() == [world.units["T11"].id]
    assert signed_in("town_T11").get("/observations/liaisons").status_code == 403


def test_the_admin_keeps_themes_and_scoring_rules_and_bad_numbers_are_refused(signed_in,
                                                                              sanhu):
    admin = signed_in("admin")
    token = csrf_token(admin, "/observations/settings")
    assert admin.post("/observations/settings", data={
        "csrf_token": token, "themes": "三会一课\n主题党日\n乡村振兴"}).status_code == 302
    assert "乡村振兴" in admin.get("/observations/settings").get_data(as_text=True)
    bad = admin.post("/observations/settings", data={"csrf_token": token, "partial": "1",
                                                     "fail": "3", "cap-basic:1": "-4"})
    assert bad.status_code == 400
    ok = admin.post("/observations/settings", data={"csrf_token": token, "partial": "1",
                                                    "fail": "4", "cap-basic:1": "10",
                                                    "fail-basic:3": "6"})
    assert ok.status_code == 302
    with sanhu.uow() as uow:
        rules = scoring.load_rules(uow.session)
    assert (rules.fail, rules.caps, rules.standards) == (4.0, {"basic:1": 10.0},
                                                         {"basic:3": {"fail": 6.0}})
    assert signed_in("city").get("/observations/settings").status_code == 403
