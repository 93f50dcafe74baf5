"""Observation exports (.xlsx): a cycle's scores and one record's checklist, as users read them.

Runs on SQLite and, with ``SANHU_TEST_DATABASE_URL``, on PostgreSQL (``any_sanhu``).
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from observation_helpers import fill, observation_of, standard_ids, start_and_fill
from sqlalchemy import select, update

from ledger.core.errors import NotFound
from ledger.core.models import Cycle, Item, Observation
from ledger.items.export import export_ledger
from ledger.items.queries import ItemFilter
from ledger.observations import export as obs_export
from ledger.observations import record
from ledger.observations import services as obs_svc
from ledger.observations.export import export_checklist, export_cycle_scores

SCORE_COLUMNS = ["序号", "被观摩单位", "观摩单位", "状态", "模式", "主题", "清单得分", "评议得分",
                 "总分", "不符合项数", "基本符合项数", "问题数", "确认时间", "逾期未完成"]


def _rows(path) -> list[list]:
    book = openpyxl.load_workbook(path)
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _do(app, fn, *args, **kw):
    with app.uow() as uow:
        return fn(uow, *args, **kw)


def confirm_v111(app, world, obs_id: int, *, fails=None, partial=True) -> None:
    """Record V111's visit: 听 and 亮点, one 基本符合 (2 points), the fails, score 90; confirm."""
    town = world["town_T11"]
    _do(app, obs_svc.start, obs_id, town)
    ids = standard_ids(app, obs_id)
    if partial:
        _do(app, record.save_line, obs_id, ids["basic:5"], town, result="partial",
            note="记录不全", deduction=2)
    _do(app, record.save_section, obs_id, "listen", town, body="听取村党组织书记汇报")
    _do(app, record.save_section, obs_id, "highlights", town, body="积分制管理=做法好")
    fill(app, obs_id, town, fails=fails or {"basic:3": "制度未上墙"}, score=90)
    _do(app, obs_svc.submit, obs_id, town)
    _do(app, obs_svc.confirm, obs_id, town)


@pytest.fixture
def observed(any_sanhu, any_world):
    """2026Q4: V111 confirmed (95 / 90 / 93.5), V112 in progress and late, the rest planned."""
    app, world = any_sanhu, any_world
    obs = {v: observation_of(app, world, "village_quarterly", "2026Q4", v)
           for v in ("V111", "V112", "V121")}
    confirm_v111(app, world, obs["V111"])
    _do(app, obs_svc.start, obs["V112"], world["town_T11"])
    with app.uow() as uow:
        uow.session.execute(update(Observation).where(Observation.id == obs["V112"])
                            .values(late_at=uow.now()))
        cycle = uow.session.scalar(select(Observation.cycle_id).where(
            Observation.id == obs["V111"]))
        uow.commit()
    return app, world, obs, cycle


def _scores(app, world, who, cycle, tmp_path) -> list[dict]:
    path = tmp_path / f"scores-{who}.xlsx"
    with app.uow() as uow:
        export_cycle_scores(uow.session, cycle, world[who], path, zone=app.settings.zone)
    rows = _rows(path)
    assert rows[0] == SCORE_COLUMNS
    return [dict(zip(SCORE_COLUMNS, r, strict=True)) for r in rows[1:]]


def test_the_cycle_scores_show_the_frozen_scores_counts_and_lateness(observed, tmp_path):
    app, world, obs, cycle = observed
    rows = _scores(app, world, "town_T11", cycle, tmp_path)
    assert [r["被观摩单位"] for r in rows] == ["县1/乡11/村111", "县1/乡11/村112"]
    done, late = rows
    assert done["序号"] == 1 and done["观摩单位"] == "乡11"
    assert (done["状态"], done["模式"]) == ("已确认", "重点")
    assert (done["清单得分"], done["评议得分"], done["总分"]) == (95, 90, 93.5)
    assert (done["不符合项数"], done["基本符合项数"], done["问题数"]) == (1, 1, 1)
    assert done["逾期未完成"] is None
    with app.uow() as uow:
        confirmed_at = uow.session.get(Observation, obs["V111"]).confirmed_at
    if confirmed_at.tzinfo is None:
        confirmed_at = confirmed_at.replace(tzinfo=dt.UTC)
    local = confirmed_at.astimezone(app.settings.zone).replace(tzinfo=None, second=0,
                                                              microsecond=0)
    assert done["确认时间"].replace(second=0, microsecond=0) == local
    assert (late["状态"], late["逾期未完成"]) == ("观摩中", "是")
    assert late["清单得分"] is None and late["总分"] is None and late["确认时间"] is None
    assert (late["不符合项数"], late["问题数"]) == (0, 0)


def test_each_user_exports_only_the_observations_in_their_scope(observed, tmp_path):
    app, world, _, cycle = observed
    county = _scores(app, world, "county_K1", cycle, tmp_path)
    assert [r["被观摩单位"] for r in county] == ["县1/乡11/村111", "县1/乡11/村112",
                                            "县1/乡12/村121", "县1/乡12/村122"]
    assert [r["状态"] for r in county] == ["已确认", "观摩中", "计划中", "计划中"]
    town = _scores(app, world, "town_T12", cycle, tmp_path)
    assert [r["被观摩单位"] for r in town] == ["县1/乡12/村121", "县1/乡12/村122"]
    assert len(_scores(app, world, "city", cycle, tmp_path)) == 8
    # a village secretary: their own village, and only once it is confirmed
    assert [r["总分"] for r in _scores(app, world, "sec_V111", cycle, tmp_path)] == [93.5]
    assert _scores(app, world, "sec_V112", cycle, tmp_path) == []


def test_the_scores_stream_in_batches_without_losing_or_misplacing_counts(observed, tmp_path,
                                                                         monkeypatch):
    app, world, _, cycle = observed
    whole = _scores(app, world, "city", cycle, tmp_path)
    monkeypatch.setattr(obs_export, "BATCH", 3)
    batched = _scores(app, world, "city", cycle, tmp_path)
    assert batched == whole and [r["序号"] for r in batched] == list(range(1, 9))


def test_an_unknown_cycle_is_not_found(observed, tmp_path):
    app, world, _, _ = observed
    with app.uow() as uow, pytest.raises(NotFound):
        export_cycle_scores(uow.session, 99999, world["city"], tmp_path / "x.xlsx")


def _checklist(app, world, who, obs_id, tmp_path) -> list[list]:
    path = tmp_path / f"checklist-{who}.xlsx"
    with app.uow() as uow:
        export_checklist(uow.session, obs_id, world[who], path, zone=app.settings.zone)
    return _rows(path)


def _block(rows: list[list], title: str) -> list[list]:
    """The rows under a section title, up to the next blank row (its header first)."""
    start = next(i for i, r in enumerate(rows) if r[0] == title)
    block = []
    for row in rows[start + 1:]:
        if all(v is None for v in row):
            break
        block.append(row)
    return block


def test_the_checklist_export_holds_the_header_the_lines_the_sections_and_the_evaluations(
        observed, tmp_path):
    app, world, obs, _ = observed
    rows = _checklist(app, world, "town_T11", obs["V111"], tmp_path)
    assert rows[0][0] == "观摩记录表"
    header = {r[0]: r[1] for r in rows[1:16] if r[0]}
    assert header["被观摩单位"] == "县1/乡11/村111"
    assert header["观摩周期"] == "2026Q4 村级季度观摩"
    assert (header["观摩单位"], header["状态"], header["模式"]) == ("乡11", "已确认", "重点")
    assert (header["清单得分"], header["评议得分"], header["总分"]) == (95, 90, 93.5)
    assert header["权重"] == "清单 70% / 评议 30%"
    assert header["得分说明"] == "确认时冻结"

    lines = _block(rows, "观摩清单")
    assert lines[0][:7] == ["类别", "序号", "标准", "结果", "扣分", "说明", "重复问题"]
    by_number = {r[1]: r for r in lines[1:]}
    assert len(by_number) == 42  # the basic standards
    assert by_number[3][3:6] == ["不符合", 3, "制度未上墙"]
    assert by_number[5][3:6] == ["基本符合", 2, "记录不全"]
    assert by_number[1][3:5] == ["符合", None]
    assert by_number[1][0] == "基本标准·党的组织设置"
    assert by_number[1][2].startswith("村党组织")
    assert all(r[6] is None for r in lines[1:])  # no earlier observation: no repeats

    sections = {r[0]: r[1] for r in _block(rows, "听查看谈与亮点")[1:]}
    assert list(sections) == ["听", "查", "看", "谈", "亮点", "经验总结"]
    assert sections["听"] == "听取村党组织书记汇报"
    assert sections["亮点"] == "积分制管理=做法好"  # text, never a formula
    people = _block(rows, "参加人员及评议")
    assert people[0][:4] == ["姓名", "评议得分", "评议意见", "单位"]
    assert [(r[0], r[1], r[3]) for r in people[1:]] == [("town_T11", 90, "乡11")]


def test_a_record_being_filled_shows_its_score_as_it_stands_and_open_lines_as_unfilled(
        observed, tmp_path):
    app, world, obs, _ = observed
    town = world["town_T11"]
    ids = standard_ids(app, obs["V112"])
    _do(app, record.save_line, obs["V112"], ids["basic:7"], town, result="fail", note="缺")
    rows = _checklist(app, world, "town_T11", obs["V112"], tmp_path)
    header = {r[0]: r[1] for r in rows[1:16] if r[0]}
    assert (header["状态"], header["清单得分"], header["总分"]) == ("观摩中", 97, 97)
    assert header["评议得分"] is None and header["得分说明"] == "暂算(尚未确认)"
    results = {r[1]: r[3] for r in _block(rows, "观摩清单")[1:]}
    assert results[7] == "不符合" and results[1] == "未填"


def test_a_line_failed_again_is_marked_as_a_repeat(observed, tmp_path):
    app, world, obs, _ = observed
    again = observation_of(app, world, "village_quarterly", "2027Q1", "V111")
    start_and_fill(app, again, world["town_T11"], fails={"basic:3": "仍未上墙"}, score=80)
    rows = _checklist(app, world, "town_T11", again, tmp_path)
    lines = _block(rows, "观摩清单")[1:]
    assert [(r[1], r[3], r[6]) for r in lines if r[6]] == [(3, "不符合", "是")]


@pytest.mark.parametrize("who", ["town_T12", "county_K2", "sec_V112"])
def test_a_record_outside_the_scope_is_not_found(observed, tmp_path, who):
    app, world, obs, _ = observed
    with app.uow() as uow, pytest.raises(NotFound):
        export_checklist(uow.session, obs["V111"], world[who], tmp_path / "x.xlsx")


def test_a_village_secretary_exports_their_record_only_once_confirmed(observed, tmp_path):
    app, world, obs, _ = observed
    rows = _checklist(app, world, "sec_V111", obs["V111"], tmp_path)
    assert rows[0][0] == "观摩记录表"
    with app.uow() as uow, pytest.raises(NotFound):
        export_checklist(uow.session, obs["V112"], world["sec_V112"], tmp_path / "x.xlsx")


def test_the_ledger_export_names_the_source_and_cycle_of_an_observations_findings(observed,
                                                                               tmp_path):
    app, world, obs, cycle = observed
    path = tmp_path / "ledger.xlsx"
    with app.uow() as uow:
        item = uow.session.scalar(select(Item).where(Item.observation_id == obs["V111"]))
        period = uow.session.get(Cycle, cycle).period
        export_ledger(uow.session, world["town_T11"], ItemFilter(), path, today=uow.today(),
                      zone=app.settings.zone)
    rows = _rows(path)
    row = dict(zip(rows[0], next(r for r in rows[1:] if r[1] == item.number), strict=True))
    assert (row["问题来源"], row["观摩周期"]) == ("观摩", f"{period} 村级季度观摩")
    assert row["问题描述"].endswith("制度未上墙")


def test_the_scores_workbook_is_a_valid_xlsx_in_memory_too(observed, tmp_path):
    app, world, _, cycle = observed
    path = tmp_path / "s.xlsx"
    with app.uow() as uow:
        result = export_cycle_scores(uow.session, cycle, world["county_K1"], path)
    assert (result.rows, result.period) == (4, "2026Q4")
    assert openpyxl.load_workbook(io.BytesIO(path.read_bytes())).sheetnames == ["观摩得分"]
