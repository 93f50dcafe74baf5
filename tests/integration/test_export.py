"""The ledger export (.xlsx): the SPEC §11 columns, exactly the filtered rows, scope, streaming.

Runs on SQLite and, with ``SANHU_TEST_DATABASE_URL``, on PostgreSQL (``any_sanhu``).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import urllib.parse

import openpyxl
import pytest
import time_machine
from sqlalchemy import select
from web_fixtures import sign_in

from ledger.core.models import Item, Standard
from ledger.items import export as ledger_export
from ledger.items import services as svc
from ledger.items.export import export_ledger
from ledger.items.queries import ItemFilter, list_items
from ledger.observations.cycles import open_cycle
from web import create_app

PDF = b"%PDF-1.4\n%%EOF\n"
NOON_UTC = dt.time(4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai
SPEC_COLUMNS = ["序号", "问题编号", "问题来源", "观摩周期", "县/乡/村", "对应标准", "问题描述",
                "整改措施", "整改类别", "责任人", "整改时限", "整改状态", "销号时间", "逾期天数",
                "佐证材料数", "备注"]


def _record(app, world, village, desc, **kw) -> int:
    with app.uow() as uow:
        return svc.record_finding(uow, world[f"town_T{village[1:3]}"],
                                  unit_id=world.units[village].id, description=desc, **kw).id


def _do(app, fn, *args, **kw):
    with app.uow() as uow:
        return fn(uow, *args, **kw)


def _walk(app, world, item_id, village, upto, *, days=10, category="deadline"):
    town, county, sec = (world[f"town_T{village[1:3]}"], world[f"county_K{village[1]}"],
                         world[f"sec_{village}"])
    steps = [
        ("assigned", lambda uow: svc.assign(uow, item_id, town, responsible_user_id=sec.id,
                                            category=category,
                                            deadline=uow.today() + dt.timedelta(days=days))),
        ("rectifying", lambda uow: svc.accept(uow, item_id, sec, measures="制定整改方案")),
        ("submitted", lambda uow: svc.submit(uow, item_id, sec, note="已完成",
                                             uploads=[svc.Upload(PDF, "a.pdf")])),
        ("verified", lambda uow: svc.verify(uow, item_id, town, method="现场查看", note="属实")),
        ("closed", lambda uow: svc.close(uow, item_id, county)),
    ]
    for name, step in steps:
        _do(app, step)
        if name == upto:
            return


@pytest.fixture
def ledger(any_sanhu, any_world):
    """A small ledger on either database: every state, a rejection, an extension, a dismissal."""
    app, world = any_sanhu, any_world
    with app.uow() as uow:
        cycle = open_cycle(uow, "village_quarterly", "2026Q4").cycle_id
        std12 = uow.session.scalar(select(Standard).where(Standard.set == "basic",
                                                          Standard.number == 12))
        std = (std12.id, std12.title)
    ids = {
        "found": _record(app, world, "V111", "村务公开栏破损", cycle_id=cycle, standard_id=std[0]),
        "assigned": _record(app, world, "V111", "=SUM(A1:A2) 公式不应执行", source="inspection"),
        "rectifying": _record(app, world, "V112", "党员活动室漏雨"),
        "submitted": _record(app, world, "V111", "党费收缴不及时"),
        "closed": _record(app, world, "V121", "档案缺失"),
        "dismissed": _record(app, world, "V111", "重复登记"),
        "k2": _record(app, world, "V211", "邻县问题"),
    }
    _walk(app, world, ids["assigned"], "V111", "assigned", days=1, category="immediate")
    _walk(app, world, ids["rectifying"], "V112", "rectifying", days=20)
    # the extension: asked by the secretary, approved by the county
    _do(app, svc.request_extension, ids["rectifying"], world["sec_V112"],
        deadline=app.uow().today() + dt.timedelta(days=40), reason="雨季施工困难")
    _do(app, svc.approve_extension, ids["rectifying"], world["county_K1"])
    _walk(app, world, ids["submitted"], "V111", "submitted", category="long_term")
    _do(app, svc.reject, ids["submitted"], world["town_T11"], reason="照片不清")
    _do(app, svc.submit, ids["submitted"], world["sec_V111"], note="补充照片",
        uploads=[svc.Upload(PDF, "b.pdf")])
    _walk(app, world, ids["closed"], "V121", "closed")
    _do(app, svc.dismiss, ids["dismissed"], world["county_K1"], reason="重复", kind="duplicate")
    _walk(app, world, ids["k2"], "V211", "assigned")
    return app, world, ids, cycle, std


def _client(app, who):
    client = create_app(sanhu=app).test_client()
    assert sign_in(client, who).status_code == 302
    return client


def _sheet(data: bytes) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _download(client, **args) -> tuple[list[list], object]:
    response = client.get("/ledger/export.xlsx", query_string=args)
    assert response.status_code == 200, response.status_code
    data = response.get_data()
    return _sheet(data), response


def _number(app, item_id) -> str:
    with app.uow() as uow:
        return uow.session.get(Item, item_id).number


def test_the_export_has_exactly_the_spec_columns_and_the_rows_of_the_list(ledger):
    app, world, ids, _, _ = ledger
    client = _client(app, "county_K1")
    rows, response = _download(client)
    assert rows[0] == SPEC_COLUMNS
    assert response.mimetype == ledger_export.XLSX_MIMETYPE
    body = rows[1:]
    assert [r[0] for r in body] == list(range(1, len(body) + 1))
    with app.uow() as uow:
        page = list_items(uow.session, world["county_K1"], today=uow.today(), per_page=500)
    assert [r[1] for r in body] == [r["number"] for r in page.rows]  # same rows, same order
    assert _number(app, ids["k2"]) not in {r[1] for r in body}


@pytest.mark.parametrize(("args", "keys"), [
    ({"status": "submitted"}, {"submitted"}),
    ({"status": "closed"}, {"closed", "dismissed"}),
    ({"category": "immediate"}, {"assigned"}),
    ({"q": "漏雨"}, {"rectifying"}),
    ({"unit": "V112"}, {"rectifying"}),
    ({"cycle": "cycle"}, {"found"}),
])
def test_the_export_holds_exactly_the_filtered_rows(ledger, args, keys):
    app, world, ids, cycle, _ = ledger
    if "unit" in args:
        args = {"unit": world.units[args["unit"]].id}
    if "cycle" in args:
        args = {"cycle": cycle}
    rows, _ = _download(_client(app, "county_K1"), **args)
    assert {r[1] for r in rows[1:]} == {_number(app, ids[k]) for k in keys}


def test_the_cells_hold_the_ledger_values_in_chinese(ledger):
    app, world, ids, cycle, (std_id, std_title) = ledger
    rows, _ = _download(_client(app, "county_K1"), sort="number")
    by_number = {r[1]: dict(zip(SPEC_COLUMNS, r, strict=True)) for r in rows[1:]}
    found = by_number[_number(app, ids["found"])]
    assert found["问题来源"] == "观摩"
    assert found["观摩周期"] == "2026Q4 村级季度观摩"
    assert found["县/乡/村"] == "县1/乡11/村111"
    assert found["对应标准"] == f"基本标准 12 {std_title}"
    assert found["整改状态"] == "已发现" and found["佐证材料数"] == 0
    assigned = by_number[_number(app, ids["assigned"])]
    # text, never a formula: neutralised with an apostrophe (ledger.core.xlsx)
    assert assigned["问题描述"] == "'=SUM(A1:A2) 公式不应执行"
    assert assigned["问题来源"] == "督查暗访" and assigned["整改类别"] == "立行立改"
    assert assigned["责任人"] == "sec_V111"
    with app.uow() as uow:
        today = uow.today()
        closed_at = uow.session.get(Item, ids["closed"]).closed_at
    assert assigned["整改时限"].date() == today + dt.timedelta(days=1)
    rect = by_number[_number(app, ids["rectifying"])]
    assert rect["整改措施"] == "制定整改方案" and rect["备注"] == "延期 1 次"
    assert rect["整改时限"].date() == today + dt.timedelta(days=40)
    sub = by_number[_number(app, ids["submitted"])]
    assert sub["整改状态"] == "整改中·待验收"
    assert sub["备注"] == "已退回 1 次" and sub["佐证材料数"] == 2
    assert sub["整改类别"] == "长期坚持"
    closed = by_number[_number(app, ids["closed"])]
    assert closed["整改状态"] == "已销号"
    if closed_at.tzinfo is None:
        closed_at = closed_at.replace(tzinfo=dt.UTC)
    local = closed_at.astimezone(app.settings.zone).replace(tzinfo=None, second=0, microsecond=0)
    assert closed["销号时间"].replace(second=0, microsecond=0) == local
    dismissed = by_number[_number(app, ids["dismissed"])]
    assert dismissed["整改状态"] == "已销号" and dismissed["备注"] == "已撤销"
    assert all(r["逾期天数"] is None for r in by_number.values())


def test_days_overdue_are_calendar_days_past_the_deadline(ledger):
    app, world, ids, _, _ = ledger
    start = app.uow().today()
    with time_machine.travel(dt.datetime.combine(start + dt.timedelta(days=4), NOON_UTC),
                             tick=False):
        rows, _ = _download(_client(app, "county_K1"), overdue=1)
    assert [(r[1], r[13]) for r in rows[1:]] == [(_number(app, ids["assigned"]), 3)]


def test_a_village_secretarys_export_never_holds_another_villages_item(ledger):
    app, world, ids, _, _ = ledger
    rows, _ = _download(_client(app, "sec_V112"))
    assert {r[1] for r in rows[1:]} == {_number(app, ids["rectifying"])}
    with app.uow() as uow:
        mine = uow.session.scalars(select(Item.number).where(
            Item.village_id == world.units["V111"].id)).all()
    rows, _ = _download(_client(app, "sec_V111"))
    assert {r[1] for r in rows[1:]} == set(mine)
    other = _client(app, "sec_V111").get(
        "/ledger/export.xlsx", query_string={"unit": world.units["V112"].id})
    assert other.status_code == 404


def test_the_download_is_named_by_date_and_its_temporary_file_is_removed(ledger, tmp_path,
                                                                        monkeypatch):
    app, _, _, _, _ = ledger
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(spool))
    client = _client(app, "city")
    response = client.get("/ledger/export.xlsx", query_string={"status": "closed"})
    disposition = response.headers["Content-Disposition"]
    name = urllib.parse.unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1))
    assert name == f"台账-{app.uow().today().isoformat()}.xlsx"
    assert response.headers["Content-Length"] == str(len(response.get_data()))
    response.close()
    assert list(spool.iterdir()) == []


def test_the_rows_stream_in_batches_without_losing_or_reordering_any(ledger, tmp_path,
                                                                    monkeypatch):
    app, world, _, _, _ = ledger
    for i in range(9):
        _record(app, world, "V122", f"批量问题{i}")
    monkeypatch.setattr(ledger_export, "BATCH", 4)
    path = tmp_path / "out.xlsx"
    with app.uow() as uow:
        result = export_ledger(uow.session, world["county_K1"], ItemFilter(), path,
                               today=uow.today(), zone=app.settings.zone, sort="oldest")
        expected = uow.session.scalars(select(Item.number).where(
            Item.county_id == world.units["K1"].id).order_by(Item.id)).all()
    rows = _sheet(path.read_bytes())
    assert result.rows == len(expected) == 15
    assert [r[1] for r in rows[1:]] == expected


def test_more_rows_than_a_sheet_holds_are_refused_before_writing(ledger, tmp_path, monkeypatch):
    app, world, _, _, _ = ledger
    monkeypatch.setattr(ledger_export, "MAX_ROWS", 3)
    client = _client(app, "county_K1")
    response = client.get("/ledger/export.xlsx?q=x")
    assert response.status_code == 200  # nothing matched "x": an empty, valid sheet
    response.close()
    response = client.get("/ledger/export.xlsx")
    assert response.status_code == 302 and "/ledger/" in response.location
    html = client.get(response.location).get_data(as_text=True)
    assert "1,048,575" in html
