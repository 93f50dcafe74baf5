"""Importing existing ledger sheets (台账): matching, refusals, all or nothing, re-import,
history, scope and the round trip through the export.

Runs on SQLite and, with ``SANHU_TEST_DATABASE_URL``, on PostgreSQL (``any_sanhu``).
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import func, select

from ledger.core.errors import PermissionDenied
from ledger.core.models import Item, ItemEvent, Standard
from ledger.items import services as svc
from ledger.items.export import export_ledger
from ledger.items.ledger_columns import HEADERS
from ledger.items.ledger_import import ImportRejected, import_ledger, preview
from ledger.items.queries import ItemFilter, list_items
from ledger.observations.cycles import open_cycle


def sheet(rows: list[list], headers=HEADERS) -> bytes:
    """An .xlsx with the given header row and rows (dates may be date objects)."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(list(headers))
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row(**cells) -> list:
    """A ledger row by column key, the rest blank."""
    keys = ("row", "number", "source", "cycle", "unit", "standard", "description", "measures",
            "category", "person", "deadline", "status", "closed_at", "days_overdue", "evidence",
            "remarks")
    return [cells.get(k, "") for k in keys]


def good_rows() -> list[list]:
    return [
        row(number="OLD-001", source="观摩", unit="县1/乡11/村111", standard="基本标准 12",
            description="公开栏破损", measures="更换公开栏", category="限期整改",
            person="sec_V111", deadline="2026/12/31", status="整改中"),
        row(unit="V112", description="活动室漏雨", status="已交办", person="王五",
            deadline="2026年11月30日", category="立行立改"),
        row(number="OLD-003", unit="乡11/村111", description="档案缺失", status="已销号",
            closed_at="2026-10-28 16:00"),
        row(number="OLD-004", unit="县1/乡12", description="乡镇问题", status="已整改"),
        row(number="OLD-005", unit="村121", description="已验收的问题", status="已验收",
            deadline=dt.datetime(2026, 9, 30)),
    ]


def do_import(app, actor, data, name="old.xlsx"):
    with app.uow() as uow:
        return import_ledger(uow, actor, name, data, zone=app.settings.zone)


def count_items(app) -> int:
    with app.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Item))


def test_a_good_sheet_imports_items_in_their_recorded_state_with_one_history_entry(
        any_sanhu, any_world):
    app, world = any_sanhu, any_world
    result = do_import(app, world["county_K1"], sheet(good_rows()))
    assert len(result.created) == 5 and result.unchanged == 0
    with app.uow() as uow:
        s = uow.session
        items = {i.description: i for i in s.scalars(select(Item))}
        events = list(s.scalars(select(ItemEvent)))
        std12 = s.scalar(select(Standard.id).where(Standard.set == "basic",
                                                   Standard.number == 12))
    first = items["公开栏破损"]
    assert (first.number, first.state, first.submitted) == ("OLD-001", "rectifying", False)
    assert first.standard_id == std12 and first.source == "observation"
    assert first.responsible_user_id == world["sec_V111"].id
    assert first.deadline == dt.date(2026, 12, 31) and first.category == "deadline"
    second = items["活动室漏雨"]
    assert second.number.startswith(f"{dt.date.today().year}-V112-")
    assert second.responsible_user_id is None and second.responsible_person == "王五"
    assert second.deadline == dt.date(2026, 11, 30) and second.state == "assigned"
    closed = items["档案缺失"]
    assert closed.state == "closed" and closed.resolution == "rectified"
    moment = closed.closed_at if closed.closed_at.tzinfo else closed.closed_at.replace(
        tzinfo=dt.UTC)
    assert moment == dt.datetime(2026, 10, 28, 8, 0, tzinfo=dt.UTC)  # 16:00 in Shanghai
    assert items["乡镇问题"].status == "submitted"
    assert items["乡镇问题"].unit_id == world.units["T12"].id
    assert items["已验收的问题"].deadline == dt.date(2026, 9, 30)
    # honest history: one entry per item, carrying the row as it was
    assert len(events) == 5 and {e.event for e in events} == {"import"}
    entry = next(e for e in events if e.item_id == first.id)
    assert entry.note == "imported from old.xlsx, line 2, by county_K1"
    assert entry.changes["row"]["status"] == "整改中" and entry.changes["line"] == 2
    assert entry.from_status is None and entry.to_status == "rectifying" and entry.seq == 1


def test_imported_items_are_overdue_at_once_and_move_on_through_the_workflow(
        any_sanhu, any_world):
    app, world = any_sanhu, any_world
    with app.uow() as uow:
        today = uow.today()
    late = (today - dt.timedelta(days=5)).isoformat()
    do_import(app, world["county_K1"], sheet([
        row(number="LATE-1", unit="V111", description="逾期的问题", status="整改中",
            person="sec_V111", deadline=late)]))
    with app.uow() as uow:
        page = list_items(uow.session, world["county_K1"], ItemFilter(overdue=True),
                          today=uow.today())
        assert [r["number"] for r in page.rows] == ["LATE-1"]
        assert page.rows[0]["light"] == "red"
        item_id = page.rows[0]["id"]
    with app.uow() as uow:
        svc.report_progress(uow, item_id, world["sec_V111"], note="在改")


@pytest.mark.parametrize(("bad", "column", "code"), [
    (row(number="X1", unit="不存在的村", description="d", status="整改中"), "unit",
     "unknown unit"),
    (row(number="X1", unit="V211", description="d", status="整改中"), "unit",
     "not in your area"),
    (row(number="X1", unit="V111", description="d", status="整改中", deadline="明年"),
     "deadline", "unreadable date"),
    (row(number="X1", unit="V111", description="d", status="已销号"), "closed_at",
     "a closed item needs its closing time"),
    (row(number="OLD-001", unit="V111", description="d", status="整改中"), "number",
     "duplicate in file"),
    (row(number="X1", unit="V111", description="d", status="差不多"), "status",
     "unknown status"),
    (row(number="X1", unit="V111", description="d", status="整改中", standard="基本标准 99"),
     "standard", "unknown standard"),
])
def test_any_bad_row_is_named_and_nothing_is_imported(any_sanhu, any_world, bad, column, code):
    app, world = any_sanhu, any_world
    with pytest.raises(ImportRejected) as caught:
        do_import(app, world["county_K1"], sheet([*good_rows(), bad]))
    assert [(r.line, r.column, r.code) for r in caught.value.rows] == [(7, column, code)]
    assert count_items(app) == 0


def test_a_missing_required_column_refuses_the_file_at_once(sanhu, world):
    headers = [h for h in HEADERS if h != "整改状态"]
    with pytest.raises(ImportRejected) as caught, sanhu.uow() as uow:
        preview(uow.session, world["county_K1"], "a.xlsx", sheet([], headers))
    assert [(r.line, r.column, r.code) for r in caught.value.rows] == \
        [(1, "status", "missing column")]


def test_english_headers_csv_in_gb18030_and_extra_columns_are_reported(sanhu, world):
    lines = ["Number,Unit,Description,Status,Deadline,Colour",
             "E-1,V111,英文表头,rectifying,2026.12.31,red"]
    data = "\n".join(lines).encode("gb18030")
    with sanhu.uow() as uow:
        result = preview(uow.session, world["county_K1"], "a.csv", data)
    assert not result.errors and result.extra_columns == ["Colour"]
    assert result.plans[0].deadline == dt.date(2026, 12, 31)


def test_reimporting_the_same_sheet_changes_nothing_and_a_changed_row_is_refused(sanhu, world):
    data = sheet(good_rows())
    do_import(sanhu, world["county_K1"], data)
    before = count_items(sanhu)
    again = do_import(sanhu, world["county_K1"], data)
    # the row without a number too: it is known by its content
    assert again.unchanged == 5 and again.created == []
    assert count_items(sanhu) == before
    changed = good_rows()
    changed[0][6] = "公开栏破损（已改）"
    with pytest.raises(ImportRejected) as caught:
        do_import(sanhu, world["county_K1"], sheet(changed))
    assert ("number", "already imported; change it in Sanhu") in {
        (r.column, r.code) for r in caught.value.rows}


def test_rows_without_a_number_are_known_by_content_and_equal_rows_by_their_order(sanhu,
                                                                                 world):
    same = row(unit="V112", description="活动室漏雨", status="已交办")
    first = do_import(sanhu, world["county_K1"], sheet([same, same]))
    assert len(first.created) == 2  # two equal lines are two problems
    three = do_import(sanhu, world["county_K1"], sheet([same, same, same]))
    assert three.unchanged == 2 and len(three.created) == 1  # the third is new
    edited = row(unit="V112", description="活动室漏雨（二）", status="已交办")
    assert len(do_import(sanhu, world["county_K1"], sheet([edited])).created) == 1
    # the key is per county: the same words in another county are another problem
    other = row(unit="V211", description="活动室漏雨", status="已交办")
    assert len(do_import(sanhu, world["admin"], sheet([other, other])).created) == 2


def test_a_large_sheet_is_written_in_batches_and_an_interrupted_import_resumes(
        sanhu, world, monkeypatch):
    import ledger.items.ledger_import as ledger_import

    monkeypatch.setattr(ledger_import, "BATCH", 3)
    rows = [row(number=f"B-{n:02d}" if n % 2 else "", unit="V111", description=f"问题{n}",
                status="整改中") for n in range(10)]
    seen = []

    def stop_after_two_batches(uow, done, total):
        seen.append((done, total))
        if done >= 6:
            raise RuntimeError("the server stopped")

    with pytest.raises(RuntimeError), sanhu.uow() as uow:
        import_ledger(uow, world["county_K1"], "big.xlsx", sheet(rows),
                      zone=sanhu.settings.zone, progress=stop_after_two_batches)
    assert seen == [(0, 10), (3, 10), (6, 10)]
    assert count_items(sanhu) == 3  # the first batch only: the second never committed
    again = do_import(sanhu, world["county_K1"], sheet(rows))
    assert again.unchanged == 3 and len(again.created) == 7
    assert count_items(sanhu) == 10


def test_only_county_staff_and_admins_import_and_a_county_only_into_its_own(sanhu, world):
    data = sheet(good_rows())
    for who in ("town_T11", "sec_V111", "city", "sup_K1"):
        with pytest.raises(PermissionDenied), sanhu.uow() as uow:
            preview(uow.session, world[who], "a.xlsx", data)
    with pytest.raises(ImportRejected) as caught:
        do_import(sanhu, world["county_K2"], data)
    assert {r.code for r in caught.value.rows} == {"not in your area"}
    assert len(do_import(sanhu, world["admin"], data).created) == 5


def test_the_sheet_number_may_not_take_an_item_number_outside_the_county(sanhu, world):
    with sanhu.uow() as uow:
        other = svc.record_finding(uow, world["town_T21"], unit_id=world.units["V211"].id,
                                   description="邻县").number
    with pytest.raises(ImportRejected) as caught:
        do_import(sanhu, world["county_K1"], sheet([
            row(number=other, unit="V111", description="d", status="已发现")]))
    assert [r.code for r in caught.value.rows] == ["number used elsewhere"]


def test_the_export_of_a_filtered_list_imports_into_an_empty_city_with_the_same_rows(
        any_sanhu, any_world, sqlite_templates, tmp_path):
    from conftest import make_sqlite

    app, world = any_sanhu, any_world
    with app.uow() as uow:
        cycle = open_cycle(uow, "village_quarterly", "2026Q4").cycle_id
    do_import(app, world["county_K1"], sheet(good_rows()))
    with app.uow() as uow:
        svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                           description="=SUM(A1) 新登记", cycle_id=cycle)
    first = tmp_path / "first.xlsx"
    with app.uow() as uow:
        export_ledger(uow.session, world["county_K1"], ItemFilter(), first,
                      today=uow.today(), zone=app.settings.zone, sort="number")
    (tmp_path / "empty").mkdir()
    empty = make_sqlite(sqlite_templates["world"], tmp_path / "empty")
    try:
        with empty.uow() as uow:
            open_cycle(uow, "village_quarterly", "2026Q4")
        result = do_import(empty, world["county_K1"], first.read_bytes(), "first.xlsx")
        assert len(result.created) == 6
        second = tmp_path / "second.xlsx"
        with empty.uow() as uow:
            export_ledger(uow.session, world["county_K1"], ItemFilter(), second,
                          today=uow.today(), zone=empty.settings.zone, sort="number")
    finally:
        empty.dispose()

    def cells(path):
        book = openpyxl.load_workbook(path)
        try:
            return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()

    # the same rows; only the evidence count differs (files stay behind)
    assert cells(second) == cells(first)


def test_a_new_number_never_takes_one_a_sheet_brought_in_earlier(sanhu, world):
    with sanhu.uow() as uow:
        year = uow.today().year
    do_import(sanhu, world["county_K1"], sheet([
        row(number=f"{year}-V111-001", unit="V111", description="旧编号", status="已发现"),
        row(number=f"{year}-V111-002", unit="V111", description="旧编号2", status="已发现")]))
    result = do_import(sanhu, world["county_K1"], sheet([
        row(unit="V111", description="无编号", status="已发现")]))
    assert [n for _, n in result.created] == [f"{year}-V111-003"]
