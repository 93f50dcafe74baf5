"""The results' deadlines in the daily reminders (issue 11, point 10); one job, idempotent.

- **Ranking not published:** ``RANKING_DUE_WORKDAYS`` working days after a cycle's
  period ends, each observing unit of the latest ended cycle of each kind
  without a published ranking: its staff are reminded, once per cycle.
- **公示 ending:** on the last working day before a ranking's 公示 period ends
  (or on its last day, if the scheduler missed that one), the observing unit's
  staff are reminded, with the number of objections still unanswered; once
  per ranking.
- **Report due:** from ``REPORT_DUE_SOON`` working days before a report's due
  date, a unit that has not submitted it (or has a returned one) is reminded;
  once per period and person, with a second reminder once it is overdue.

Every notification has a dedupe key, so a re-run (or a day caught up after
the scheduler was down) sends nothing twice; each links to what it is about.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from ledger.core.models import (
    Cycle,
    Objection,
    Observation,
    Ranking,
    RankingStatus,
    Report,
    Role,
    Unit,
)
from ledger.core.uow import UnitOfWork
from ledger.notify.reminders import SweepResult, notify_rows
from ledger.observations.cycles import period_bounds
from ledger.org.directory import active_users
from ledger.results import reports
from ledger.results.rankings import OBSERVING_LEVEL

#: a cycle's rankings are due this many working days after its period ends
RANKING_DUE_WORKDAYS = 10
#: report reminders start this many working days before the due date
REPORT_DUE_SOON = 3
STAFF_OF = {"township": Role.TOWNSHIP_STAFF.value, "county": Role.COUNTY_STAFF.value}
KIND_WORD = {"village_quarterly": "村级季度", "township_half_yearly": "乡镇半年"}


def _staff(uow: UnitOfWork, unit_ids: list[int]) -> dict[int, list[int]]:
    """Active staff users of each unit (township or county staff by the unit's level)."""
    return active_users(uow.session, unit_ids, STAFF_OF.values())


def _workdays_before(uow: UnitOfWork, day: dt.date, n: int) -> dt.date:
    cal, seen = uow.calendar, 0
    while seen < n:
        day -= dt.timedelta(days=1)
        if cal.is_workday(day):
            seen += 1
    return day


def rankings_due(uow: UnitOfWork, today: dt.date) -> list[dict]:
    rows: list[dict] = []
    for kind in OBSERVING_LEVEL:
        cycle = uow.session.scalar(select(Cycle).where(Cycle.kind == kind)
                                   .order_by(Cycle.period.desc()).limit(1)
                                   .where(Cycle.period < reports.period_of(kind, today)))
        if cycle is None:
            continue
        _, last = period_bounds(kind, cycle.period)
        due = uow.calendar.add_workdays(last, RANKING_DUE_WORKDAYS).date
        if today < due:
            continue
        published = select(Ranking.observing_unit_id).where(
            Ranking.cycle_id == cycle.id, Ranking.status == RankingStatus.PUBLISHED.value)
        units = uow.session.scalars(
            select(Observation.observing_unit_id).where(
                Observation.cycle_id == cycle.id,
                Observation.observing_unit_id.not_in(published)).distinct()).all()
        for unit_id, users in _staff(uow, list(units)).items():
            rows.extend({
                "user_id": user_id, "kind": "ranking",
                "title": f"{cycle.period} {KIND_WORD[kind]}观摩排名尚未公示(应于 {due} 前)",
                "body": (f"{cycle.period} 观摩周期已结束,本单位的评议排名尚未审定公示。"
                         "请计算排名、报党委书记审定后公示。"),
                "subject": f"ranking:{cycle.id}",
                "dedupe_key": f"rk:{cycle.id}:{unit_id}:{user_id}"} for user_id in users)
    return rows


def publications_ending(uow: UnitOfWork, today: dt.date) -> list[dict]:
    soon = uow.calendar.add_workdays(today, 1).date
    found = uow.session.execute(
        select(Ranking.id, Ranking.observing_unit_id, Ranking.publication_ends_on,
               Cycle.period)
        .join(Cycle, Cycle.id == Ranking.cycle_id)
        .where(Ranking.status == RankingStatus.PUBLISHED.value,
               Ranking.publication_ends_on >= today,
               Ranking.publication_ends_on <= soon)).all()
    if not found:
        return []
    open_counts = dict(uow.session.execute(
        select(Objection.ranking_id, func.count()).where(
            Objection.ranking_id.in_([r.id for r in found]), Objection.answer.is_(None))
        .group_by(Objection.ranking_id)).all())
    staff = _staff(uow, [r.observing_unit_id for r in found])
    rows = []
    for r in found:
        waiting = open_counts.get(r.id, 0)
        rows.extend({
            "user_id": user_id, "kind": "ranking",
            "title": f"{r.period} 排名公示期将于 {r.publication_ends_on} 结束",
            "body": (f"公示期将于 {r.publication_ends_on} 结束,尚有 {waiting} 条异议未答复。"
                     if waiting else f"公示期将于 {r.publication_ends_on} 结束,异议均已答复。"),
            "subject": f"publication:{r.id}",
            "dedupe_key": f"pe:{r.id}:{user_id}"} for user_id in staff.get(r.observing_unit_id, []))
    return rows


def reports_due(uow: UnitOfWork, today: dt.date) -> list[dict]:
    rows = []
    for level, kind in reports.REPORTING_LEVEL.items():
        for period in reports.report_periods(uow, level, today)[1:]:  # the ended period
            due = reports.due_on(uow, kind, period)
            if today < _workdays_before(uow, due, REPORT_DUE_SOON):
                continue
            late = today > due
            sent = select(Report.unit_id).where(Report.period == period,
                                                Report.status.in_(("submitted", "received")))
            units = uow.session.scalars(select(Unit.id).where(
                Unit.level == level, Unit.active.is_(True), Unit.id.not_in(sent))).all()
            for unit_id, users in _staff(uow, list(units)).items():
                rows.extend({
                    "user_id": user_id, "kind": "report",
                    "title": (f"{period} 报送已逾期(应于 {due} 前)" if late
                              else f"{period} 报送将于 {due} 到期"),
                    "body": "请填写报送说明并报送上级组织部门。",
                    "subject": f"report:{unit_id}:{period}",
                    "dedupe_key": f"rd:{period}:{'late' if late else 'soon'}:{user_id}"}
                    for user_id in users)
    return rows


def results_reminders(uow: UnitOfWork, today: dt.date | None = None) -> SweepResult:
    """The day's ranking, 公示 and report reminders; commits."""
    today = today or uow.today()
    result = SweepResult()
    for name, collect in (("ranking", rankings_due), ("publication", publications_ending),
                          ("report", reports_due)):
        result.notifications[name] = notify_rows(uow, collect(uow, today))
    uow.commit()
    return result
