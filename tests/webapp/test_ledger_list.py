"""The ledger list page: every filter, the unit picker, counts, pages, scope and bulk offers."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from sqlalchemy import select

from ledger.core.models import Standard
from ledger.items import services as svc
from ledger.observations.cycles import open_cycle

PDF = b"%PDF-1.4\n%%EOF\n"
NOON_UTC = dt.time(4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai
STEPS = ("assigned", "rectifying", "submitted", "verified", "closed")


def _chain(village: str) -> tuple[str, str, str]:
    return f"town_T{village[1:3]}", f"county_K{village[1]}", f"sec_{village}"


def make_item(app, world, village: str, status: str, desc: str, *, category: str = "deadline",
              days: int = 10, **record) -> str:
    """An item of ``village`` brought to ``status`` through the services; its number."""
    town, county, sec = _chain(village)
    with app.uow() as uow:
        made = svc.record_finding(uow, world[town], unit_id=world.units[village].id,
                                  description=desc, **record)
    item_id = made.id
    actions = {
        "assigned": lambda uow: svc.assign(uow, item_id, world[town],
                                           responsible_user_id=world[sec].id, category=category,
                                           deadline=uow.today() + dt.timedelta(days=days)),
        "rectifying": lambda uow: svc.accept(uow, item_id, world[sec], measures="立即整改"),
        "submitted": lambda uow: svc.submit(uow, item_id, world[sec], note="已完成",
                                            uploads=[svc.Upload(PDF, "a.pdf")]),
        "verified": lambda uow: svc.verify(uow, item_id, world[town], method="现场查看",
                                           note="属实"),
        "closed": lambda uow: svc.close(uow, item_id, world[county]),
    }
    if status != "found":
        for step in STEPS[:STEPS.index(status) + 1]:
            with app.uow() as uow:
                actions[step](uow)
    return made.number


def numbers(html: str) -> set[str]:
    """The item numbers of the rows on a list page."""
    return set(re.findall(r'class="item-row" data-number="([^"]+)"', html))


def standard_id(app, set_: str, number: int) -> int:
    with app.uow() as uow:
        return uow.session.scalar(select(Standard.id).where(Standard.set == set_,
                                                            Standard.number == number))


@pytest.fixture
def ledger(sanhu, world):
    """Eight items across two counties, in every status, with cycles and standards."""
    with sanhu.uow() as uow:
        cycle = open_cycle(uow, "village_quarterly", "2026Q4").cycle_id
    basic1, basic12 = standard_id(sanhu, "basic", 1), standard_id(sanhu, "basic", 12)
    demo1 = standard_id(sanhu, "demonstration", 1)
    n = {
        "found": make_item(sanhu, world, "V111", "found", "村务公开栏破损",
                           cycle_id=cycle, standard_id=basic1),
        "assigned": make_item(sanhu, world, "V111", "assigned", "三会一课记录不全",
                              category="immediate", days=2, standard_id=basic12),
        "rectifying": make_item(sanhu, world, "V112", "rectifying", "党员活动室漏雨",
                                category="deadline", days=30, cycle_id=cycle),
        "submitted": make_item(sanhu, world, "V112", "submitted", "党费收缴不及时",
                               category="long_term", days=30, standard_id=demo1),
        "verified": make_item(sanhu, world, "V121", "verified", "制度未上墙"),
        "closed": make_item(sanhu, world, "V121", "closed", "档案缺失"),
        "k2": make_item(sanhu, world, "V211", "assigned", "邻县问题", days=5),
        "late": make_item(sanhu, world, "V111", "assigned", "换届资料不齐", days=1,
                          source="inspection"),
    }
    return sanhu, world, n, cycle, (basic1, basic12, demo1)


def rows_for(client, **args) -> set[str]:
    response = client.get("/ledger/", query_string=args)
    assert response.status_code == 200, response.status_code
    return numbers(response.get_data(as_text=True))


def test_the_list_needs_sign_in(client):
    response = client.get("/ledger/")
    assert response.status_code == 302 and "/login" in response.location


def test_county_staff_see_their_county_and_never_the_other(ledger, signed_in):
    _, _, n, _, _ = ledger
    client = signed_in("county_K1")
    assert rows_for(client) == {n[k] for k in n if k != "k2"}
    assert rows_for(signed_in("city")) == set(n.values())


def test_a_village_secretary_never_sees_another_villages_item(ledger, signed_in):
    _, world, n, _, _ = ledger
    client = signed_in("sec_V111")
    assert rows_for(client) == {n["found"], n["assigned"], n["late"]}
    assert rows_for(client, q="漏雨") == set()
    assert client.get("/ledger/", query_string={"unit": world.units["V112"].id}).status_code \
        == 404


@pytest.mark.parametrize(("status", "keys"), [
    ("found", {"found"}),
    ("assigned", {"assigned", "late"}),
    ("rectifying", {"rectifying"}),
    ("submitted", {"submitted"}),
    ("verified", {"verified"}),
    ("closed", {"closed"}),
])
def test_the_status_filter_keeps_the_submitted_sub_step_apart(ledger, signed_in, status, keys):
    _, _, n, _, _ = ledger
    assert rows_for(signed_in("county_K1"), status=status) == {n[k] for k in keys}


def test_the_submitted_sub_step_is_shown_as_its_own_status(ledger, signed_in):
    html = signed_in("county_K1").get("/ledger/?status=submitted").get_data(as_text=True)
    assert "整改中·待验收" in html


def test_cycle_standard_category_and_text_filters_narrow_the_rows(ledger, signed_in):
    _, _, n, cycle, (basic1, basic12, demo1) = ledger
    client = signed_in("county_K1")
    assert rows_for(client, cycle=cycle) == {n["found"], n["rectifying"]}
    assert rows_for(client, standard=basic12) == {n["assigned"]}
    # category 1 of each set: the basic and demonstration sets share numbers 1–6
    assert rows_for(client, standard_category="basic-1") == {n["found"]}
    assert rows_for(client, standard_category="demonstration-1") == {n["submitted"]}
    assert rows_for(client, standard_category="nonsense") == set(rows_for(client))
    assert rows_for(client, category="immediate") == {n["assigned"]}
    assert rows_for(client, category="long_term") == {n["submitted"]}
    assert rows_for(client, q="漏雨") == {n["rectifying"]}
    assert rows_for(client, q=n["closed"]) == {n["closed"]}
    # filters combine
    assert rows_for(client, cycle=cycle, status="found") == {n["found"]}


def test_unknown_filter_values_are_ignored_rather_than_failing(ledger, signed_in):
    _, _, n, _, _ = ledger
    client = signed_in("county_K1")
    everything = {n[k] for k in n if k != "k2"}
    assert rows_for(client, status="nonsense", sort="nonsense", light="blue",
                    category="x", overdue="maybe", unit="abc") == everything


def test_overdue_and_traffic_light_filters_follow_the_deadline(ledger, signed_in):
    sanhu, _, n, _, _ = ledger
    client = signed_in("county_K1")
    today = sanhu.uow().today()
    assert rows_for(client, overdue=1) == set()
    assert rows_for(client, light="yellow") == {n["assigned"], n["late"]}
    assert rows_for(client, light="green") == {n["rectifying"]}  # submitted is not "open"
    with time_machine.travel(dt.datetime.combine(today + dt.timedelta(days=2), NOON_UTC),
                             tick=False):
        client = signed_in("county_K1")  # the earlier session has expired two days later
        assert rows_for(client, overdue=1) == {n["late"]}
        assert rows_for(client, light="red") == {n["late"]}
        assert rows_for(client, light="yellow") == {n["assigned"]}
        assert n["late"] not in rows_for(client, overdue=0)
        html = client.get("/ledger/?overdue=1").get_data(as_text=True)
        assert "1 天" in html and "已逾期" in html


def test_the_unit_picker_shows_the_path_and_the_children_of_the_chosen_unit(ledger, signed_in):
    _, world, n, _, _ = ledger
    client = signed_in("city")
    html = client.get("/ledger/").get_data(as_text=True)
    assert "县1" in html and "县2" in html  # the city's children
    t11 = world.units["T11"].id
    html = client.get(f"/ledger/?unit={t11}").get_data(as_text=True)
    crumbs = re.search(r'<ol class="breadcrumb.*?</ol>', html, re.S).group(0)
    assert re.findall(r">([^<]+)</a>", crumbs) == ["市", "县1", "乡11"]
    assert f"unit={world.units['K1'].id}" in crumbs
    select_html = re.search(r'<select[^>]*name="unit".*?</select>', html, re.S).group(0)
    assert "村111" in select_html and "村112" in select_html and "村121" not in select_html
    assert numbers(html) == {n["found"], n["assigned"], n["late"], n["rectifying"],
                             n["submitted"]}
    assert rows_for(client, unit=world.units["K2"].id) == {n["k2"]}


@pytest.mark.parametrize(("who", "unit"), [("town_T11", "V121"), ("county_K1", "K2"),
                                           ("county_K1", "C"), ("sec_V111", "T11")])
def test_a_unit_outside_the_scope_is_not_found(ledger, signed_in, who, unit):
    _, world, _, _, _ = ledger
    response = signed_in(who).get("/ledger/", query_string={"unit": world.units[unit].id})
    assert response.status_code == 404
    assert signed_in(who).get("/ledger/?unit=999999").status_code == 404


def test_counts_per_status_link_with_the_other_filters_kept(ledger, signed_in):
    _, _, _, cycle, _ = ledger
    html = signed_in("county_K1").get(f"/ledger/?cycle={cycle}&q=x").get_data(as_text=True)
    pills = dict(re.findall(r'data-status="(\w+)" href="([^"]+)"', html))
    assert set(pills) == {"found", "assigned", "rectifying", "submitted", "verified", "closed"}
    assert f"cycle={cycle}" in pills["found"] and "q=x" in pills["found"]
    assert "status=found" in pills["found"]


def test_counts_per_status_count_the_filtered_scope(ledger, signed_in):
    html = signed_in("county_K1").get("/ledger/").get_data(as_text=True)
    counts = dict(re.findall(
        r'data-status="(\w+)" href="[^"]+">\s*[^<]+<span class="badge[^"]*">([^<]+)</span>',
        html))
    assert counts == {"found": "1", "assigned": "2", "rectifying": "1", "submitted": "1",
                      "verified": "1", "closed": "1"}


def test_sorting_by_number_orders_the_rows(ledger, signed_in):
    html = signed_in("city").get("/ledger/?sort=number").get_data(as_text=True)
    shown = re.findall(r'class="item-row" data-number="([^"]+)"', html)
    assert shown == sorted(shown) and len(shown) == 8


def test_pages_hold_fifty_rows_and_link_the_next_page(sanhu, world, signed_in):
    with sanhu.uow() as uow:
        for i in range(53):
            svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                               description=f"问题{i}")
    client = signed_in("town_T11")
    first = client.get("/ledger/?status=found").get_data(as_text=True)
    assert len(numbers(first)) == 50
    assert "共 53 条" in first
    assert "status=found&amp;page=2" in first or "page=2&amp;status=found" in first
    second = client.get("/ledger/?status=found&page=2").get_data(as_text=True)
    assert len(numbers(second)) == 3 and not numbers(first) & numbers(second)


@pytest.mark.parametrize(("who", "offered"), [
    ("county_K1", {"assign", "verify", "close"}),
    ("town_T11", {"assign", "verify"}),
    ("city", set()),
    ("sup_K1", set()),
    ("sec_V111", set()),
])
def test_bulk_actions_are_offered_only_to_the_roles_the_workflow_allows(ledger, signed_in,
                                                                        who, offered):
    html = signed_in(who).get("/ledger/").get_data(as_text=True)
    assert set(re.findall(r'name="action" value="(\w+)"', html)) == offered
    assert ('name="ids"' in html) == bool(offered)


def test_the_page_has_no_inline_script_or_style_and_works_on_a_phone(ledger, signed_in):
    html = signed_in("county_K1").get("/ledger/").get_data(as_text=True)
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "js/lists.js" in html and "d-none d-md-table-cell" in html
    script = signed_in("county_K1").get("/static/js/lists.js")
    assert script.status_code == 200
    script.close()


def test_rows_link_to_the_item_page_and_show_the_deadline(ledger, signed_in):
    sanhu, _, n, _, _ = ledger
    html = signed_in("county_K1").get("/ledger/?status=assigned").get_data(as_text=True)
    assert re.search(r'href="/items/\d+">' + re.escape(n["assigned"]) + "<", html)
    assert "sec_V111" in html  # the responsible person


def test_the_english_page_is_english(ledger, signed_in):
    client = signed_in("county_K1")
    client.set_cookie("sanhu_lang", "en")
    html = client.get("/ledger/").get_data(as_text=True)
    assert "Export (.xlsx)" in html and "Awaiting" not in html
