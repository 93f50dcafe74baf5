"""The report pages (报送): the township fills and submits, the county receives or returns,
who sees what, bad input, the .xlsx, the board's late reports and the inbox link."""

from __future__ import annotations

import io
import threading

import openpyxl
from sqlalchemy import select
from web_fixtures import csrf_token

from ledger.core.models import Notification, Report
from ledger.results import reports


def period_now(sanhu) -> str:
    with sanhu.uow() as uow:
        return reports.period_of("village_quarterly", uow.today())


def test_the_township_fills_and_submits_and_the_county_returns_and_receives(
        sanhu, world, signed_in):
    period = period_now(sanhu)
    t11 = world.units["T11"].id
    url = f"/results/reports/{t11}/{period}"
    town = signed_in("town_T11")
    page = town.get(url).get_data(as_text=True)
    assert "未开始" in page and "本期排名尚未公示" in page and 'id="report-form"' in page
    assert "村111" in page and "村112" in page  # one figures row per village
    # a blank cover note is refused with the message, nothing is opened
    blank = town.post(f"{url}/submit", data={"csrf_token": csrf_token(town, url),
                                             "cover_note": " "})
    assert blank.status_code == 400 and "报送说明" in blank.get_data(as_text=True)
    saved = town.post(f"{url}/save", data={"csrf_token": csrf_token(town, url),
                                           "cover_note": "草稿：先写一半"})
    assert saved.status_code == 302
    assert "草稿：先写一半" in town.get(url).get_data(as_text=True)
    with sanhu.uow() as uow:
        report = reports.find(uow.session, t11, period)
    too_long = town.post(f"{url}/submit", data={
        "csrf_token": csrf_token(town, url), "cover_note": "长" * 20001,
        "expected_version": report.version})
    assert too_long.status_code == 400
    assert ("长" * 100) in too_long.get_data(as_text=True)  # what was typed is kept
    sent = town.post(f"{url}/submit", data={
        "csrf_token": csrf_token(town, url), "cover_note": "本季度情况如下。",
        "expected_version": report.version})
    assert sent.status_code == 302
    page = town.get(url).get_data(as_text=True)
    assert "已报送，待签收" in page and 'id="report-locked"' in page
    assert 'id="report-form"' not in page
    # sending the old version again is a clear refusal
    again = town.post(f"{url}/submit", data={
        "csrf_token": csrf_token(town, url), "cover_note": "再报一次",
        "expected_version": report.version})
    assert again.status_code == 409 and "刷新页面" in again.get_data(as_text=True)
    # T11 may not receive its own report; the county returns it with a note
    assert town.post(f"{url}/receive", data={"csrf_token": csrf_token(town, url)}) \
        .status_code == 403
    county = signed_in("county_K1")
    assert 'id="report-receive-button"' in county.get(url).get_data(as_text=True)
    empty = county.post(f"{url}/return", data={"csrf_token": csrf_token(county, url),
                                                "note": ""})
    assert empty.status_code == 400
    back = county.post(f"{url}/return", data={"csrf_token": csrf_token(county, url),
                                               "note": "请补充逾期原因"})
    assert back.status_code == 302
    page = town.get(url).get_data(as_text=True)
    assert "退回意见：请补充逾期原因" in page and 'id="report-form"' in page
    with sanhu.uow() as uow:
        version = reports.find(uow.session, t11, period).version
    town.post(f"{url}/submit", data={"csrf_token": csrf_token(town, url),
                                     "cover_note": "已补充。", "expected_version": version})
    assert county.post(f"{url}/receive", data={"csrf_token": csrf_token(county, url)}) \
        .status_code == 302
    page = county.get(url).get_data(as_text=True)
    assert "已签收" in page and page.count("<li>") >= 5  # the history
    # without the CSRF token nothing happens
    assert town.post(f"{url}/save", data={"cover_note": "x"}).status_code == 400


def test_who_sees_a_report(sanhu, world, signed_in):
    period = period_now(sanhu)
    url = f"/results/reports/{world.units['T11'].id}/{period}"
    assert signed_in("town_T11").get(url).status_code == 200
    for who in ("county_K1", "city", "sup_K1"):
        assert signed_in(who).get(url).status_code == 200, who
    for who in ("town_T12", "county_K2", "sec_V111", "sup_K2"):
        assert signed_in(who).get(url).status_code == 404, who
    # a county reports half-years, not quarters; a village does not report
    assert signed_in("county_K1").get(
        f"/results/reports/{world.units['K1'].id}/{period}").status_code == 404
    assert signed_in("county_K1").get(
        f"/results/reports/{world.units['V111'].id}/{period}").status_code == 404
    # the county may read but not fill a township's report
    county = signed_in("county_K1")
    assert county.post(f"{url}/submit", data={"csrf_token": csrf_token(county, url),
                                              "cover_note": "代报"}).status_code == 403


def test_the_xlsx_is_what_was_submitted(sanhu, world, signed_in):
    period = period_now(sanhu)
    url = f"/results/reports/{world.units['T11'].id}/{period}"
    town = signed_in("town_T11")
    town.post(f"{url}/submit", data={"csrf_token": csrf_token(town, url),
                                     "cover_note": "情况如下"})
    got = town.get(f"{url}.xlsx")
    assert got.status_code == 200 and got.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(got.data))
    assert book.sheetnames == ["报送", "排名", "整改情况"]
    cover = {r[0]: r[1] for r in book["报送"].iter_rows(min_row=3, values_only=True)}
    assert cover["状态"] == "已报送" and cover["说明"] == "情况如下"
    rows = list(book["整改情况"].iter_rows(values_only=True))
    assert rows[0][:3] == ("序号", "单位", "区划代码")
    assert [r[1] for r in rows[1:-1]] == ["村111", "村112"] and rows[-1][0] == "合计"
    assert signed_in("town_T12").get(f"{url}.xlsx").status_code == 404


def test_the_board_lists_late_reports_and_the_inbox_leads_to_the_report(
        sanhu, world, signed_in):
    county = signed_in("county_K1")
    board = county.get("/board/").get_data(as_text=True)
    assert 'id="late-reports"' in board and "乡12" in board and "乡21" not in board
    town = signed_in("town_T11")
    with sanhu.uow() as uow:
        last = reports.last_due_period(uow, "village_quarterly", uow.today())
    url = f"/results/reports/{world.units['T11'].id}/{last}"
    town.post(f"{url}/submit", data={"csrf_token": csrf_token(town, url),
                                     "cover_note": "补报"})
    board = county.get("/board/").get_data(as_text=True)
    assert "乡11" not in board.split('id="late-reports"')[1].split("</details>")[0]
    with sanhu.uow() as uow:
        note = uow.session.scalar(select(Notification.id).where(
            Notification.user_id == world["county_K1"].id, Notification.kind == "report"))
    opened = county.get(f"/inbox/{note}/open")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(url)
    lists = county.get(f"/results/reports?period={last}").get_data(as_text=True)
    assert "乡11" in lists and "已报送，待签收" in lists and "未开始" in lists


def test_two_submissions_at_once_make_one(sanhu, world, signed_in):
    period = period_now(sanhu)
    url = f"/results/reports/{world.units['T11'].id}/{period}"
    clients = [signed_in("town_T11"), signed_in("town_T11")]
    tokens = [csrf_token(c, url) for c in clients]
    clients[0].post(f"{url}/save", data={"csrf_token": tokens[0], "cover_note": "说明"})
    with sanhu.uow() as uow:
        version = reports.find(uow.session, world.units["T11"].id, period).version
    barrier, codes = threading.Barrier(2), []

    def send(c, token):
        barrier.wait()
        codes.append(c.post(f"{url}/submit", data={
            "csrf_token": token, "cover_note": "说明", "expected_version": version}).status_code)

    threads = [threading.Thread(target=send, args=pair)
               for pair in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [302, 409]
    with sanhu.uow() as uow:
        stored = uow.session.scalar(select(Report))
    assert (stored.status, stored.submissions) == ("submitted", 1)
