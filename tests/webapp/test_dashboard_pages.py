"""The dashboard pages per role and scope: the figures, the links behind every number
(each opens a ledger list with the same total), the .xlsx, the village panel of the
home page, and the ledger list's dashboard filters (issue 13)."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import io
import json
import re
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from sqlalchemy import select

from ledger.catalog.standards import current_catalog
from ledger.core.models import Standard
from ledger.dashboard import summary
from ledger.items import services as svc

SH = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n%%EOF\n"


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SH)


def make(app, w, village: str, day: str, deadline: str, standard=None) -> int:
    town = w[f"town_T{village[1:3]}"]
    with time_machine.travel(at(day), tick=False):
        with app.uow() as uow:
            item = svc.record_finding(uow, town, unit_id=w.units[village].id,
                                      description=f"{village} 问题 {day}", standard_id=standard)
        with app.uow() as uow:
            svc.assign(uow, item.id, town, responsible_user_id=w[f"sec_{village}"].id,
                       category="deadline", deadline=dt.date.fromisoformat(deadline))
    return item.id


def close(app, w, item_id: int, village: str, day: str) -> None:
    sec, town, county = (w[f"sec_{village}"], w[f"town_T{village[1:3]}"],
                         w[f"county_K{village[1]}"])
    with time_machine.travel(at(day), tick=False):
        for step in (lambda uow: svc.accept(uow, item_id, sec, measures="整改"),
                     lambda uow: svc.submit(uow, item_id, sec, note="已整改",
                                            uploads=[svc.Upload(PDF, "a.pdf")]),
                     lambda uow: svc.verify(uow, item_id, town, method="现场", note="属实"),
                     lambda uow: svc.close(uow, item_id, county)):
            with app.uow() as uow:
                step(uow)


@pytest.fixture
def dash(sanhu, world):
    """Two closed items in V111 (one on time), one overdue in V112, one found in V211;
    this month's dates so the trend's twelve months hold them."""
    app, w = sanhu, world
    with app.uow() as uow:
        today = uow.today()
        std = uow.session.scalar(select(Standard.id).where(
            Standard.catalog_version_id == current_catalog(uow.session).id,
            Standard.set == "basic", Standard.number == 3))
    first = (today.replace(day=1) - dt.timedelta(days=40)).replace(day=3)
    d = first.isoformat()
    a = make(app, w, "V111", d, (first + dt.timedelta(days=20)).isoformat(), standard=std)
    close(app, w, a, "V111", (first + dt.timedelta(days=5)).isoformat())
    b = make(app, w, "V111", d, (first + dt.timedelta(days=3)).isoformat(), standard=std)
    close(app, w, b, "V111", (first + dt.timedelta(days=6)).isoformat())
    make(app, w, "V112", d, (first + dt.timedelta(days=4)).isoformat())
    with app.uow() as uow:
        svc.record_finding(uow, w["town_T21"], unit_id=w.units["V211"].id, description="刚发现")
    with app.uow() as uow:
        summary.refresh(uow)
    return {"standard": std, "month": first.strftime("%Y-%m")}


def page(client, path: str = "/dashboard/") -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def cell_links(html: str, table: str) -> list[tuple[str, int]]:
    """(href, number) of every linked number of one dashboard table."""
    body = re.search(rf'data-table="{table}".*?</table>', html, re.S).group(0)
    return [(htmllib.unescape(href), int(n.replace(",", "")))
            for href, n in re.findall(r'<a href="([^"]+)">([\d,]+)</a>', body)]


def list_total(client, href: str) -> int:
    html = page(client, href)
    return int(re.search(r'class="total[^"]*">共 ([\d,]+) 条', html).group(1).replace(",", ""))


def charts(html: str) -> dict[str, dict]:
    """The chart spec of each dashboard section, by the section's key."""
    out = {}
    for part in html.split("<section")[1:]:
        key = re.match(r'[^>]*id="dash-(\w+)"', part)
        spec = re.search(r"data-chart='([^']+)'", part)
        if key and spec:
            out[key.group(1)] = json.loads(htmllib.unescape(spec.group(1)))
    return out


def test_county_staff_see_their_county_with_charts_tables_and_the_lag(dash, signed_in):
    html = page(signed_in("county_K1"))
    assert "看板 · <span id=\"dash-unit\">县1</span>" in html
    assert "数据更新于" in html and "10 分钟" in html
    specs = charts(html)
    assert {"status", "rates", "overdue", "months", "standards"} <= set(specs)
    assert specs["rates"]["categories"] == ["乡11", "乡12"]
    assert specs["overdue"]["series"][0]["data"] == [1, 0]
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "vendor/echarts/echarts.common.min.js" in html
    assert '<a class="nav-link text-nowrap active" href="/dashboard/"' in html


def test_every_linked_number_opens_a_list_with_the_same_total(dash, signed_in):
    client = signed_in("county_K1")
    html = page(client)
    links = [link for table in ("figures", "status", "rates", "overdue", "months", "standards")
             for link in cell_links(html, table)]
    assert len(links) > 20
    for href, n in links:
        assert href.startswith("/ledger/?")
        assert list_total(client, href) == n, href
    months = dict(cell_links(html, "months"))
    found = next(h for h in months if f"found_month={dash['month']}" in h)
    assert "outcome=valid" in found and months[found] == 3


def test_the_bars_link_exactly_what_they_count(dash, signed_in, world):
    client = signed_in("county_K1")
    specs = charts(page(client))
    t11 = world.units["T11"].id
    rate, on_time = specs["rates"]["series"]
    assert rate["data"][0] == 66.7 and on_time["data"][0] == 50.0
    assert rate["links"][0] == f"/ledger/?unit={t11}&outcome=rectified"
    assert list_total(client, rate["links"][0]) == 2
    assert list_total(client, on_time["links"][0]) == 1
    assert list_total(client, specs["overdue"]["series"][0]["links"][0]) == 1
    found, closed, _rate = specs["months"]["series"]
    for s in (found, closed):
        for href, n in zip(s["links"], s["data"], strict=True):
            assert list_total(client, href) == n
    std = specs["standards"]["series"][0]
    assert std["links"] == [f"/ledger/?unit={world.units['K1'].id}&outcome=valid"
                            f"&standard={dash['standard']}"]


def test_the_city_moves_down_with_the_unit_picker(dash, signed_in, world):
    client = signed_in("city")
    html = page(client)
    assert charts(html)["rates"]["categories"] == ["县1", "县2"]
    assert 'id="f-unit"' in html and 'data-autosubmit' in html
    k2 = page(client, f"/dashboard/?unit={world.units['K2'].id}")
    assert 'unit-path' in k2 and ">市</a>" in k2 and "县2" in k2
    assert charts(k2)["rates"]["categories"] == ["乡21", "乡22"]


@pytest.mark.parametrize("who, unit, children", [
    ("town_T11", "T11", ["村111", "村112"]),
    ("sup_city", "C", ["县1", "县2"]),
    ("sup_K1", "K1", ["乡11", "乡12"]),
])
def test_each_role_opens_on_its_own_unit(dash, signed_in, world, who, unit, children):
    html = page(signed_in(who))
    assert f'<span id="dash-unit">{world.units[unit].name}</span>' in html
    assert charts(html)["rates"]["categories"] == children


def test_a_village_secretary_sees_the_village_alone(dash, signed_in, world):
    client = signed_in("sec_V111")
    html = page(client)
    assert '<span id="dash-unit">村111</span>' in html
    assert "rates" not in charts(html) and "months" not in charts(html)
    status = dict(cell_links(html, "status"))
    assert sum(n for h, n in status.items() if "status=closed" in h) == 2
    assert client.get(f"/dashboard/?unit={world.units['V112'].id}").status_code == 404


@pytest.mark.parametrize("who, unit", [("county_K2", "K1"), ("town_T11", "T12"),
                                       ("sup_K1", "K2")])
def test_a_unit_outside_the_scope_is_not_found(dash, signed_in, world, who, unit):
    client = signed_in(who)
    for path in ("/dashboard/", "/dashboard/export.xlsx"):
        assert client.get(f"{path}?unit={world.units[unit].id}").status_code == 404
    assert client.get("/dashboard/?unit=abc").status_code == 404


def test_the_administrator_has_no_dashboard(dash, signed_in, client):
    admin = signed_in("admin")
    assert admin.get("/dashboard/").status_code == 403
    assert admin.get("/dashboard/export.xlsx").status_code == 403
    assert 'href="/dashboard/"' not in page(admin, "/admin/")
    assert client.get("/dashboard/").status_code == 302  # sign in first


def test_the_workbook_holds_every_table_scoped_like_the_page(dash, signed_in, world):
    client = signed_in("county_K1")
    html = page(client)
    response = client.get("/dashboard/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    titles = re.findall(r'<section[^>]*>\s*<div[^>]*><div[^>]*>\s*<h2 class="h6">([^<]+)</h2>',
                        html)
    assert book.sheetnames == [htmllib.unescape(t)[:31] for t in titles]
    rates = book["各单位整改情况"]
    rows = [[c.value for c in r] for r in rates.iter_rows()]
    assert rows[0][0] == "县1"
    header = rows.index(["单位", "问题数", "已整改", "整改率", "按期整改", "按期整改率"])
    assert rows[header + 1][:4] == ["乡11", 3, 2, pytest.approx(66.7)]
    assert rows[-1][0] == "合计"
    city = openpyxl.load_workbook(io.BytesIO(signed_in("city").get(
        f"/dashboard/export.xlsx?unit={world.units['K2'].id}").data))
    assert [r[0].value for r in city["各单位整改情况"].iter_rows()][-3:] == ["乡21", "乡22", "合计"]


def test_the_english_dashboard_is_english(dash, signed_in):
    client = signed_in("county_K1")
    client.set_cookie("sanhu_lang", "en")
    html = page(client)
    assert "Rectification by unit" in html and "Data as of" in html
    assert '<html lang="en"' in html
    assert charts(html)["rates"]["series"][0]["name"] == "Rectification rate"


def test_the_menu_offers_the_dashboard_to_staff_and_supervisors(dash, signed_in):
    for who in ("city", "county_K1", "town_T11", "sup_city"):
        assert 'href="/dashboard/"' in page(signed_in(who), "/"), who
    home = page(signed_in("sec_V111"), "/")
    assert 'class="nav-link" href="/dashboard/"' not in home


def test_the_village_secretary_home_shows_the_village_panel(dash, signed_in):
    html = page(signed_in("sec_V111"), "/")
    panel = re.search(r'id="village-panel".*?</section>', html, re.S).group(0)
    assert "本村数据" in panel and "50.0%" in panel and "已整改 2 项，按期 1 项" in panel
    assert 'href="/dashboard/"' in panel and "数据更新于" in panel
    assert "village-panel" not in page(signed_in("town_T11"), "/")


# --- the ledger list's dashboard filters ------------------------------------------------


def test_the_list_filters_by_outcome_and_month_and_keeps_them_in_its_links(dash, signed_in):
    client = signed_in("county_K1")
    month = dash["month"]
    html = page(client, f"/ledger/?outcome=rectified&found_month={month}&sort=number")
    assert list_total(client, f"/ledger/?outcome=rectified&found_month={month}") == 2
    badges = re.findall(r'data-filter="(\w+)"', html)
    assert badges == ["outcome", "found_month"]
    assert "已整改销号" in html and f"{month} 录入" in html
    export = re.search(r'id="export" href="([^"]+)"', html).group(1)
    assert "outcome=rectified" in export and f"found_month={month}" in export
    assert f'name="found_month" value="{month}"' in html  # the filter form keeps it
    clear = htmllib.unescape(re.search(
        r'data-filter="outcome".*?href="([^"]+)"', html, re.S).group(1))
    assert "outcome" not in clear and f"found_month={month}" in clear
    assert list_total(client, f"/ledger/?outcome=on_time&closed_month={month}") == 1
    assert list_total(client, "/ledger/?outcome=valid") == 3


@pytest.mark.parametrize("query", ["outcome=bogus", "found_month=2026-13", "closed_month=26-1",
                                   "found_month=2026-1", "outcome="])
def test_bad_dashboard_filter_values_are_ignored(dash, signed_in, query):
    client = signed_in("county_K1")
    html = page(client, f"/ledger/?{query}")
    assert "active-filters" not in html
    assert list_total(client, f"/ledger/?{query}") == list_total(client, "/ledger/")
