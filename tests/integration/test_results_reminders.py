"""The results' deadlines in the daily reminders (issue 11, point 10): a ranking not
published N working days after its period, a 公示 period ending, a report due; each
once, whatever the number of runs, and each linking to what it is about."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from observation_helpers import observation_of
from sqlalchemy import select
from test_reports import publish_t11

from ledger.core.models import Notification, Ranking
from ledger.results import publication, reports
from ledger.results.reminders import RANKING_DUE_WORKDAYS, results_reminders

SH = ZoneInfo("Asia/Shanghai")


def at_nine(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9, 5), tzinfo=SH)


def run(app, day: dt.date) -> dict[str, int]:
    with time_machine.travel(at_nine(day), tick=False), app.uow() as uow:
        return results_reminders(uow).notifications


def received(app, world, kind: str, prefix: str = "") -> dict[str, list[str]]:
    names = {a.id: n for n, a in world.actors.items()}
    with app.uow() as uow:
        rows = uow.session.execute(select(Notification.user_id, Notification.subject).where(
            Notification.kind == kind, Notification.dedupe_key.startswith(prefix))
            .order_by(Notification.id)).all()
    out: dict[str, list[str]] = {}
    for user_id, subject in rows:
        out.setdefault(names.get(user_id, str(user_id)), []).append(subject)
    return out


def test_a_ranking_not_published_after_its_period_is_reminded_once(any_sanhu, any_world):
    app, w = any_sanhu, any_world
    observation_of(app, w, "village_quarterly", "2026Q3", "V111")
    with app.uow() as uow:
        due = uow.calendar.add_workdays(dt.date(2026, 9, 30), RANKING_DUE_WORKDAYS).date
    before = due - dt.timedelta(days=1)
    assert run(app, before)["ranking"] == 0
    first = run(app, due)
    assert first["ranking"] == 4  # the staff of the four townships
    assert run(app, due + dt.timedelta(days=3))["ranking"] == 0
    got = received(app, w, "ranking")
    assert set(got) == {"town_T11", "town_T12", "town_T21", "town_T22"}
    assert all(s[0].startswith("ranking:") for s in got.values())


def test_the_end_of_a_publication_is_reminded_with_the_open_objections(any_sanhu, any_world):
    app, w = any_sanhu, any_world
    with app.uow() as uow:
        period = reports.period_of("village_quarterly", uow.today())
    publish_t11(app, w, period)
    with app.uow() as uow:
        ranking = uow.session.scalar(select(Ranking))
        ends, token = ranking.publication_ends_on, ranking.token
        publication.raise_objection(uow, token, body="排名有误", client="a")
        day_before = uow.calendar.add_workdays(uow.today(), 0).date
        while uow.calendar.add_workdays(day_before, 1).date < ends:
            day_before = uow.calendar.add_workdays(day_before, 1).date
    counts = run(app, day_before)
    assert counts["publication"] == 2  # town_T11 and the 党委书记
    assert run(app, ends)["publication"] == 0
    with app.uow() as uow:
        body = uow.session.scalar(select(Notification.body).where(
            Notification.kind == "ranking", Notification.subject == f"publication:{ranking.id}")
            .limit(1))
    assert "1 条异议未答复" in body


def test_a_report_due_is_reminded_before_and_after_its_due_date(any_sanhu, any_world):
    app, w = any_sanhu, any_world
    with app.uow() as uow:
        due = reports.due_on(uow, "village_quarterly", "2026Q3")
    early = due - dt.timedelta(days=10)
    soon = due - dt.timedelta(days=1)
    with time_machine.travel(at_nine(early), tick=False), app.uow() as uow:
        report = reports.open_report(uow, w["town_T11"], "2026Q3")
    with time_machine.travel(at_nine(early), tick=False), app.uow() as uow:
        reports.submit(uow, report.id, w["town_T11"], cover_note="已按时报送")
    assert run(app, early)["report"] == 2  # the counties' half-year (2026H1) is late
    assert run(app, soon)["report"] == 3  # T12, T21, T22 have not reported 2026Q3
    assert run(app, soon)["report"] == 0
    assert run(app, due + dt.timedelta(days=1))["report"] == 3  # now overdue: once more
    got = received(app, w, "report", "rd:")
    assert "town_T11" not in got
    assert got["town_T12"] == [f"report:{w.units['T12'].id}:2026Q3"] * 2
    assert got["county_K1"] == [f"report:{w.units['K1'].id}:2026H1"]
    assert sum(len(v) for v in got.values()) == 8
    # the county heard of T11's submission (the report's own notification, not a reminder)
    assert received(app, w, "report", "r:")["county_K1"] == \
        [f"report:{w.units['T11'].id}:2026Q3"]
