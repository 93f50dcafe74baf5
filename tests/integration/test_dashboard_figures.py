"""Dashboard figures equal the ledger list's counts with the matching filters (issue 13,
point 3), per unit and child, per month and standard; and nothing outside the scope."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from ledger.catalog.standards import current_catalog
from ledger.core.errors import NotFound, PermissionDenied
from ledger.core.models import Standard
from ledger.dashboard import figures, summary
from ledger.items import services as svc
from ledger.items.queries import ItemFilter, count_by_status, list_items

SH = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n%%EOF\n"


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SH)


def make(app, w, village: str, day: str, deadline: str, *, standard=None) -> int:
    town = w[f"town_T{village[1:3]}"]
    with time_machine.travel(at(day), tick=False):
        with app.uow() as uow:
            item = svc.record_finding(uow, town, unit_id=w.units[village].id,
                                      description=f"{village} 问题 {day}", standard_id=standard)
        with app.uow() as uow:
            svc.assign(uow, item.id, town, responsible_user_id=w[f"sec_{village}"].id,
                       category="deadline", deadline=dt.date.fromisoformat(deadline))
    return item.id


def close(app, w, item_id: int, village: str, day: str, hour: int = 10) -> None:
    sec, town, county = (w[f"sec_{village}"], w[f"town_T{village[1:3]}"],
                         w[f"county_K{village[1]}"])
    with time_machine.travel(at(day, hour), tick=False):
        for step in (lambda uow: svc.accept(uow, item_id, sec, measures="整改"),
                     lambda uow: svc.submit(uow, item_id, sec, note="已整改",
                                            uploads=[svc.Upload(PDF, "a.pdf")]),
                     lambda uow: svc.verify(uow, item_id, town, method="现场", note="属实"),
                     lambda uow: svc.close(uow, item_id, county)):
            with app.uow() as uow:
                step(uow)


@pytest.fixture
def ledger(any_sanhu, any_world):
    app, w = any_sanhu, any_world
    with app.uow() as uow:
        std = uow.session.scalar(select(Standard.id).where(
            Standard.catalog_version_id == current_catalog(uow.session).id,
            Standard.set == "basic", Standard.number == 3))
    a = make(app, w, "V111", "2026-09-10", "2026-09-30", standard=std)
    close(app, w, a, "V111", "2026-09-25")  # on time
    b = make(app, w, "V111", "2026-10-12", "2026-10-20", standard=std)
    close(app, w, b, "V111", "2026-10-21", hour=7)  # the morning after: late
    c = make(app, w, "V112", "2026-10-15", "2026-10-30")  # open and overdue
    d = make(app, w, "V121", "2026-11-03", "2027-03-01")  # open, not overdue
    with app.uow() as uow:
        svc.dismiss(uow, svc.record_finding(uow, w["town_T21"], unit_id=w.units["V211"].id,
                                            description="重复").id, w["county_K2"],
                    reason="重复")
    with app.uow() as uow:
        svc.record_finding(uow, w["town_T22"], unit_id=w.units["V221"].id,
                           description="刚发现")
    with app.uow() as uow:
        result = summary.refresh(uow)
    assert result.units > 0
    return {"a": a, "b": b, "c": c, "d": d, "standard": std}


def list_count(app, actor, **flt) -> int:
    with app.uow() as uow:
        return list_items(uow.session, actor, ItemFilter(**flt), today=uow.today(),
                          per_page=1).total


def test_every_figure_equals_the_ledger_list_with_its_filters(any_sanhu, any_world, ledger):
    app, w = any_sanhu, any_world
    city = w["city"]
    with app.uow() as uow:
        today = uow.today()
        boards = {name: figures.build(uow.session, city, w.units[name].id, today)
                  for name in ("C", "K1", "T11", "V111")}
        boards["own"] = figures.build(uow.session, city, None, today)
    assert boards["own"].unit.id == w.units["C"].id
    for name, board in boards.items():
        for f in [board.own, *board.children]:
            with app.uow() as uow:
                statuses = count_by_status(uow.session, city, ItemFilter(unit_id=f.unit_id),
                                           uow.today())
            for status in ("found", "assigned", "rectifying", "submitted", "verified",
                           "closed"):
                assert f.counts[status] == statuses[status], (name, f.name, status)
            for outcome in ("valid", "rectified", "on_time"):
                assert f.counts[outcome] == list_count(app, city, unit_id=f.unit_id,
                                                       outcome=outcome), (f.name, outcome)
            assert f.counts["overdue"] == list_count(app, city, unit_id=f.unit_id,
                                                     overdue=True), f.name
        for m in board.months:
            unit_id = board.unit.id
            if board.unit.level == "village":
                continue
            assert m["found"] == list_count(app, city, unit_id=unit_id, outcome="valid",
                                            found_month=m["month"]), m
            assert m["found_closed"] == list_count(app, city, unit_id=unit_id,
                                                   outcome="rectified",
                                                   found_month=m["month"]), m
            assert m["closed"] == list_count(app, city, unit_id=unit_id, outcome="rectified",
                                             closed_month=m["month"]), m
            assert m["on_time"] == list_count(app, city, unit_id=unit_id, outcome="on_time",
                                              closed_month=m["month"]), m
        for s in board.standards:
            assert s["n"] == list_count(app, city, unit_id=board.unit.id, outcome="valid",
                                        standard_id=s["standard_id"])
    city_board = boards["C"]
    assert city_board.own.counts["valid"] == 5 and city_board.own.counts["rectified"] == 2
    assert city_board.own.counts["on_time"] == 1 and city_board.own.rate == 40.0
    assert city_board.own.on_time_rate == 50.0
    assert city_board.own.counts["overdue"] == 1
    months = {m["month"]: m for m in city_board.months}
    assert months["2026-10"]["found"] == 2 and months["2026-10"]["closed"] == 1
    assert months["2026-09"]["on_time"] == 1 and months["2026-10"]["on_time"] == 0
    assert city_board.standards[0]["n"] == 2
    assert city_board.close_n == 2 and city_board.close_p90 is not None


def test_a_dashboard_counts_nothing_outside_its_scope(any_sanhu, any_world, ledger):
    app, w = any_sanhu, any_world
    with app.uow() as uow:
        today = uow.today()
        k2 = figures.build(uow.session, w["county_K2"], None, today)
        with pytest.raises(NotFound):
            figures.build(uow.session, w["county_K2"], w.units["K1"].id, today)
        with pytest.raises(NotFound):
            figures.build(uow.session, w["sec_V111"], w.units["T11"].id, today)
        village = figures.build(uow.session, w["sec_V111"], None, today)
        with pytest.raises(PermissionDenied):
            figures.build(uow.session, w["admin"], None, today)
        names = {c.name for c in k2.children}
    assert names == {"乡21", "乡22"}
    assert k2.own.counts["valid"] == 1 and k2.own.counts["closed"] == 1  # the dismissed one
    assert village.own.counts["rectified"] == 2 and village.children == []


def test_the_refresh_never_drifts_after_changes(any_sanhu, any_world, ledger):
    """After any change, a refresh makes the tables equal the ledger again."""
    app, w = any_sanhu, any_world
    close(app, w, ledger["c"], "V112", dt.date.today().isoformat())
    with app.uow() as uow:
        summary.refresh(uow)
        board = figures.build(uow.session, w["city"], None, uow.today())
    assert board.own.counts["rectified"] == list_count(app, w["city"], outcome="rectified") == 3
    assert board.own.counts["overdue"] == list_count(app, w["city"], overdue=True) == 0
