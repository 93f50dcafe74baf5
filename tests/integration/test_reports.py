"""Upward reports (报送) through the services, on SQLite and PostgreSQL (issue 11, point 4):
figures of the period and subtree, the locked snapshot, receipt and return, refusals,
two submissions at once, and what the level above's board lists as overdue."""

from __future__ import annotations

import threading

import pytest
from observation_helpers import observation_of, start_and_fill
from sqlalchemy import func, select

from ledger.core.actors import Actor
from ledger.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.models import Observation, Report, ReportEvent, Role, Unit
from ledger.items import services as svc
from ledger.observations import services as obs_svc
from ledger.org.directory import add_user
from ledger.results import rankings, reports

PDF = b"%PDF-1.4\n%%EOF\n"


def new_item(app, world, village: str, *, deadline: str = "20d") -> int:
    town = world[f"town_T{village[1:3]}"]
    with app.uow() as uow:
        item = svc.record_finding(uow, town, unit_id=world.units[village].id,
                                  description=f"{village} 三会一课记录不全")
    with app.uow() as uow:
        svc.assign(uow, item.id, town, responsible_user_id=world[f"sec_{village}"].id,
                   category="deadline", deadline=deadline)
    return item.id


def close_item(app, world, item_id: int, village: str) -> None:
    sec, town, county = world[f"sec_{village}"], world[f"town_T{village[1:3]}"], \
        world[f"county_K{village[1]}"]
    steps = [lambda uow: svc.accept(uow, item_id, sec, measures="补齐记录"),
             lambda uow: svc.submit(uow, item_id, sec, note="已补齐",
                                    uploads=[svc.Upload(PDF, "a.pdf")]),
             lambda uow: svc.verify(uow, item_id, town, method="现场查看", note="属实"),
             lambda uow: svc.close(uow, item_id, county)]
    for step in steps:
        with app.uow() as uow:
            step(uow)


@pytest.fixture
def ledger_of_t11(any_sanhu, any_world):
    """T11's problems of this quarter: V111 one closed, one closed and reopened, one
    overdue (recorded 40 days ago, due in 10 working days), one dismissed; V112 none."""
    app, w = any_sanhu, any_world
    closed = new_item(app, w, "V111")
    close_item(app, w, closed, "V111")
    reopened = new_item(app, w, "V111")
    close_item(app, w, reopened, "V111")
    with app.uow() as uow:
        svc.reopen(uow, reopened, w["county_K1"], reason="回头看发现反弹")
    import datetime as dt
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    with app.uow(clock=lambda: start) as uow:
        late = svc.record_finding(uow, w["town_T11"], unit_id=w.units["V111"].id,
                                  description="V111 台账不全")
    with app.uow(clock=lambda: start) as uow:
        svc.assign(uow, late.id, w["town_T11"], responsible_user_id=w["sec_V111"].id,
                   category="deadline", deadline="10d")
    with app.uow() as uow:
        gone = svc.record_finding(uow, w["town_T11"], unit_id=w.units["V111"].id,
                                  description="重复登记")
    with app.uow() as uow:
        svc.dismiss(uow, gone.id, w["county_K1"], reason="重复")
    return {"closed": closed, "reopened": reopened, "late": late.id}


def quarter(app) -> str:
    with app.uow() as uow:
        return reports.period_of("village_quarterly", uow.today())


def publish_t11(app, world, period: str) -> None:
    """Both villages of T11 observed and confirmed; the ranking approved and published."""
    town = world["town_T11"]
    first = observation_of(app, world, "village_quarterly", period, "V111")
    with app.uow() as uow:
        cycle_id = uow.session.get(Observation, first).cycle_id
        second = uow.session.scalar(select(Observation.id).where(
            Observation.cycle_id == cycle_id, Observation.unit_id == world.units["V112"].id))
        unit = uow.session.get(Unit, world.units["T11"].id)
        leader = Actor.of(add_user(uow.session, username="leader_T11", display_name="书记",
                                   role=Role.TOWNSHIP_STAFF, unit=unit,
                                   password="pw-for-tests-1"), unit)
        uow.commit()
    for oid, score in ((first, 82), (second, 91)):
        start_and_fill(app, oid, town, score=score)
        for step in (obs_svc.submit, obs_svc.confirm):
            with app.uow() as uow:
                step(uow, oid, town)
    with app.uow() as uow:
        ranking = rankings.compute(uow, cycle_id, town)
    with app.uow() as uow:
        rankings.approve(uow, ranking.id, leader)
    with app.uow() as uow:
        rankings.publish(uow, ranking.id, town)


def test_a_township_report_carries_the_ranking_and_figures_and_locks_them(
        any_sanhu, any_world, ledger_of_t11):
    app, w = any_sanhu, any_world
    period = quarter(app)
    publish_t11(app, w, period)
    with app.uow() as uow:
        report = reports.open_report(uow, w["town_T11"], period)
        live = reports.build_snapshot(uow, uow.session.get(Unit, w.units["T11"].id), period)
    by_name = {f["code"]: f for f in live["figures"]}
    assert by_name["V111"] | {} == {**by_name["V111"], "found": 3, "closed": 1, "rate": 33.3,
                                    "overdue": 1, "reopened": 1}
    assert (by_name["V112"]["found"], by_name["V112"]["rate"]) == (0, None)
    assert live["total"]["found"] == 3 and live["total"]["overdue"] == 1
    assert [(r["code"], r["rank"]) for r in live["ranking"]["rows"]] == [("V112", 1),
                                                                        ("V111", 2)]
    with app.uow() as uow, pytest.raises(ValidationError):
        reports.submit(uow, report.id, w["town_T11"], cover_note="  ")
    with app.uow() as uow:
        sent = reports.submit(uow, report.id, w["town_T11"], cover_note="本季度情况如下。")
    assert sent.status == "submitted"
    # a later change of the ledger does not alter the submitted report
    new_item(app, w, "V112")
    with app.uow() as uow:
        stored = uow.session.get(Report, report.id)
        shown = reports.shown_snapshot(uow, stored)
        now = reports.build_snapshot(uow, uow.session.get(Unit, w.units["T11"].id), period)
    assert shown["total"]["found"] == 3 and now["total"]["found"] == 4
    with app.uow() as uow, pytest.raises(ValidationError, match="locked"):
        reports.save_note(uow, report.id, w["town_T11"], cover_note="改一下")
    # the county returns it; it is corrected and resubmitted with a fresh snapshot
    with app.uow() as uow, pytest.raises(ValidationError):
        reports.send_back(uow, report.id, w["county_K1"], note="")
    with app.uow() as uow:
        assert reports.send_back(uow, report.id, w["county_K1"],
                                 note="请补充逾期原因").status == "returned"
    with app.uow() as uow:
        reports.submit(uow, report.id, w["town_T11"], cover_note="已补充：逾期系人员调整。")
    with app.uow() as uow:
        assert reports.receive(uow, report.id, w["county_K1"]).status == "received"
    with app.uow() as uow:
        stored = uow.session.get(Report, report.id)
        assert (stored.submissions, stored.snapshot["total"]["found"]) == (2, 4)
        events = uow.session.execute(select(ReportEvent.event, ReportEvent.changes).where(
            ReportEvent.report_id == report.id).order_by(ReportEvent.seq)).all()
    assert [e for e, _ in events] == ["open", "submit", "return", "submit", "receive"]
    assert [c["snapshot"]["total"]["found"] for e, c in events if e == "submit"] == [3, 4]


def test_who_may_do_what(any_sanhu, any_world):
    app, w = any_sanhu, any_world
    period = quarter(app)
    for who in ("sec_V111", "sup_K1", "sup_city"):
        with app.uow() as uow, pytest.raises(PermissionDenied):
            reports.open_report(uow, w[who], period)
    with app.uow() as uow, pytest.raises(ValidationError):
        reports.open_report(uow, w["town_T11"], "2026H2")
    with app.uow() as uow:
        report = reports.open_report(uow, w["town_T11"], period)
    with app.uow() as uow:  # opening again is the same report
        assert reports.open_report(uow, w["town_T11"], period).id == report.id
    for who in ("town_T12", "county_K2", "sec_V111"):
        with app.uow() as uow, pytest.raises(NotFound):
            reports.get_report(uow, report.id, w[who])
    with app.uow() as uow, pytest.raises(PermissionDenied):
        reports.submit(uow, report.id, w["county_K1"], cover_note="代报")
    with app.uow() as uow, pytest.raises(ValidationError):
        reports.save_note(uow, report.id, w["town_T11"], cover_note="长" * 20001)
    with app.uow() as uow:
        reports.submit(uow, report.id, w["town_T11"], cover_note="情况如下")
    with app.uow() as uow, pytest.raises(PermissionDenied):
        reports.receive(uow, report.id, w["town_T11"])
    with app.uow() as uow, pytest.raises(PermissionDenied):
        reports.receive(uow, report.id, w["city"])  # the city receives counties' reports
    with app.uow() as uow, pytest.raises(InvalidTransition):
        reports.submit(uow, report.id, w["town_T11"], cover_note="再报一次")
    # a county's half-year report goes to the city
    with app.uow() as uow:
        half = reports.open_report(uow, w["county_K1"], reports.period_of(
            "township_half_yearly", uow.today()))
    with app.uow() as uow:
        reports.submit(uow, half.id, w["county_K1"], cover_note="半年情况")
    with app.uow() as uow:
        assert reports.receive(uow, half.id, w["city"]).status == "received"


def test_a_report_submitted_twice_at_once_is_submitted_once(any_sanhu, any_world):
    app, w = any_sanhu, any_world
    with app.uow() as uow:
        report = reports.open_report(uow, w["town_T11"], quarter(app))
        version = report.version
    barrier, outcomes = threading.Barrier(2), []

    def send(note: str) -> None:
        with app.uow() as uow:
            uow.session.get(Report, report.id)  # both read the draft first
            barrier.wait()
            try:
                reports.submit(uow, report.id, w["town_T11"], cover_note=note,
                               expected_version=version)
                outcomes.append("ok")
            except (Conflict, InvalidTransition) as exc:
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=send, args=(n,)) for n in ("第一次", "第二次")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[-1] == "ok" and outcomes.count("ok") == 1
    with app.uow() as uow:
        stored = uow.session.get(Report, report.id)
        submits = uow.session.scalar(select(func.count()).select_from(ReportEvent).where(
            ReportEvent.report_id == report.id, ReportEvent.event == "submit"))
    assert (stored.status, stored.submissions, submits) == ("submitted", 1, 1)


def test_the_level_above_sees_who_has_not_reported_by_the_due_date(any_sanhu, any_world):
    app, w = any_sanhu, any_world
    with app.uow() as uow:
        today = uow.today()
        last_q = reports.last_due_period(uow, "village_quarterly", today)
        last_h = reports.last_due_period(uow, "township_half_yearly", today)
        assert reports.due_on(uow, "village_quarterly", last_q) < today
        report = reports.open_report(uow, w["town_T11"], last_q)
    with app.uow() as uow:
        reports.submit(uow, report.id, w["town_T11"], cover_note="按时报送")
    with app.uow() as uow:
        county = {(r["name"], r["period"], r["status"])
                  for r in reports.overdue_for(uow, w["county_K1"])}
        city = {r["name"] for r in reports.overdue_for(uow, w["city"])}
        assert reports.overdue_for(uow, w["town_T11"]) == []
        rows = {r.name: r for r in reports.incoming(uow, w["county_K1"], last_q)}
    t12 = w.units["T12"].name
    assert county == {(t12, last_q, "missing")}
    assert city == {t12, w.units["T21"].name, w.units["T22"].name,
                    w.units["K1"].name, w.units["K2"].name}
    assert last_h is not None
    assert rows[w.units["T11"].name].report.status == "submitted"
    assert rows[t12].report is None and rows[t12].overdue
