"""Upward reports (报送): a township reports each quarter to its county, a county each
half-year to the city (SPEC §6).

A report is filled automatically: the reporting unit's published ranking of the
period's cycle (the township's villages in the quarterly cycle, the county's
townships in the half-yearly one) and the ledger figures of the period and
subtree per child unit (``ledger.results.figures``), with a cover note the
reporter writes. While a draft, the page shows the figures live; **submitting
locks a snapshot** into the report (and into the submission's history row), so
a later change of the ledger or a corrected ranking does not alter what was
sent. The level above receives it (签收) or returns it with a note (退回); a
returned report is corrected and submitted again with a fresh snapshot, every
submission staying in its history.

A report is due ``DUE_WORKDAYS`` working days after its period ends; one not
submitted (or returned and not yet resubmitted) by then is overdue and shows on
the level above's board. Every change is version-checked: two submissions of
the same report at once are one submission and one refusal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from ledger.core.actors import Actor
from ledger.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ledger.core.models import (
    Cycle,
    Ranking,
    RankingRow,
    RankingStatus,
    Report,
    ReportEvent,
    ReportStatus,
    Role,
    Unit,
)
from ledger.core.uow import UnitOfWork
from ledger.notify.reminders import REPORT_DUE_WORKDAYS, notify_rows
from ledger.observations.cycles import kind_of_period, period_bounds
from ledger.org.directory import active_users
from ledger.results.figures import figures_of
from ledger.results.workflow import REPORT_RULEBOOK, STAFF

DRAFT, SUBMITTED = ReportStatus.DRAFT.value, ReportStatus.SUBMITTED.value
RETURNED, RECEIVED = ReportStatus.RETURNED.value, ReportStatus.RECEIVED.value
#: a report is due this many working days after its period's last day
DUE_WORKDAYS = REPORT_DUE_WORKDAYS
#: which unit reports in which kind of period, and the cycle whose ranking it carries
REPORTING_LEVEL = {"township": "village_quarterly", "county": "township_half_yearly"}
MAX_NOTE = 20000


@dataclass(frozen=True)
class ReportResult:
    id: int
    status: str
    version: int


# --- periods and due dates ------------------------------------------------------------


def period_of(kind: str, day: dt.date) -> str:
    """The period of this kind containing ``day``: ``2026Q4`` or ``2026H2``."""
    if kind == "village_quarterly":
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}H{1 if day.month <= 6 else 2}"


def previous_period(kind: str, period: str) -> str:
    first, _ = period_bounds(kind, period)
    return period_of(kind, first - dt.timedelta(days=1))


def due_on(uow: UnitOfWork, kind: str, period: str) -> dt.date:
    _, last = period_bounds(kind, period)
    return uow.calendar.add_workdays(last, DUE_WORKDAYS).date


def report_periods(uow: UnitOfWork, level: str, today: dt.date | None = None) -> list[str]:
    """The periods a unit at ``level`` may report on now: the current one and the last
    ended one (newest first)."""
    kind = REPORTING_LEVEL.get(level)
    if kind is None:
        return []
    current = period_of(kind, today or uow.today())
    return [current, previous_period(kind, current)]


def last_due_period(uow: UnitOfWork, kind: str, today: dt.date) -> str | None:
    """The most recent period of this kind whose report due date has passed."""
    period = previous_period(kind, period_of(kind, today))
    for _ in range(2):
        if due_on(uow, kind, period) < today:
            return period
        period = previous_period(kind, period)
    return None


def checked_period(level: str, period: object) -> str:
    kind = REPORTING_LEVEL.get(level)
    if kind is None:
        raise PermissionDenied("only townships and counties report upward", event="report")
    text = str(period or "")
    if kind_of_period(text).value != kind:
        raise ValidationError(f"a {level} reports on periods like "
                              f"{'2026Q4' if level == 'township' else '2026H2'}",
                              fields={"period": "wrong kind of period"})
    return text


# --- reading ---------------------------------------------------------------------------


def get_report(uow: UnitOfWork, report_id: object, actor: Actor) -> Report:
    """The report if its reporting unit lies in the actor's scope (else ``NotFound``)."""
    report = uow.session.get(Report, int(report_id)) if str(report_id).isdigit() else None
    if report is None or not actor.sees(uow.session.get(Unit, report.unit_id)):
        raise NotFound("no such report")
    return report


def find(session, unit_id: int, period: str) -> Report | None:
    return session.scalar(select(Report).where(Report.unit_id == unit_id,
                                               Report.period == period))


def published_ranking(session, kind: str, period: str, unit_id: int) -> Ranking | None:
    return session.scalar(
        select(Ranking).join(Cycle, Cycle.id == Ranking.cycle_id)
        .where(Cycle.kind == kind, Cycle.period == period,
               Ranking.observing_unit_id == unit_id,
               Ranking.status == RankingStatus.PUBLISHED.value))


def build_snapshot(uow: UnitOfWork, unit: Unit, period: str) -> dict:
    """What the report says now: the published ranking and the figures per child unit."""
    session = uow.session
    kind = REPORTING_LEVEL[unit.level]
    first, last = period_bounds(kind, period)
    today = uow.today()
    total, per = figures_of(session, unit, first, last, today, uow.settings.zone)
    children = session.execute(
        select(Unit.id, Unit.code, Unit.name).where(Unit.parent_id == unit.id,
                                                    Unit.active.is_(True))
        .order_by(Unit.code)).all()
    known = {c.id for c in children}
    extra = [cid for cid in per if cid not in known]
    if extra:  # units since deactivated that still have items of the period
        children += session.execute(select(Unit.id, Unit.code, Unit.name)
                                    .where(Unit.id.in_(extra)).order_by(Unit.code)).all()
    names = {c.id: (c.code, c.name) for c in children}
    figures = [{"unit_id": c.id, "code": c.code, "name": c.name,
                **(per.get(c.id) or type(total)()).as_dict()} for c in children]
    ranking = published_ranking(session, kind, period, unit.id)
    ranked = None
    if ranking is not None:
        rows = session.execute(
            select(RankingRow.unit_id, RankingRow.rank, RankingRow.score, RankingRow.klass,
                   RankingRow.excused, Unit.code, Unit.name)
            .join(Unit, Unit.id == RankingRow.unit_id)
            .where(RankingRow.ranking_id == ranking.id)
            .order_by(RankingRow.rank.is_(None), RankingRow.rank, Unit.code)).all()
        ranked = {"id": ranking.id, "number": ranking.number,
                  "published_at": ranking.published_at.isoformat()
                  if ranking.published_at else None,
                  "rows": [{"unit_id": r.unit_id, "code": r.code, "name": r.name,
                            "rank": r.rank, "score": r.score, "klass": r.klass,
                            "excused": r.excused} for r in rows]}
        for r in rows:
            names.setdefault(r.unit_id, (r.code, r.name))
    parent = session.get(Unit, unit.parent_id)
    return {"period": period, "kind": kind, "first": first.isoformat(),
            "last": last.isoformat(), "as_of": today.isoformat(),
            "unit": {"id": unit.id, "code": unit.code, "name": unit.name},
            "to": {"id": parent.id, "name": parent.name} if parent else None,
            "ranking": ranked, "total": total.as_dict(), "figures": figures}


def shown_snapshot(uow: UnitOfWork, report: Report) -> dict:
    """The locked snapshot of a submitted or received report, else the live figures."""
    if report.status in (SUBMITTED, RECEIVED) and report.snapshot is not None:
        return report.snapshot
    return build_snapshot(uow, uow.session.get(Unit, report.unit_id), report.period)


def history(session, report_id: int) -> list[ReportEvent]:
    return list(session.scalars(select(ReportEvent).where(ReportEvent.report_id == report_id)
                                .order_by(ReportEvent.seq)))


# --- writing ---------------------------------------------------------------------------


def _history(uow: UnitOfWork, report: Report, seq: int, event: str, before: str | None,
             after: str, actor: Actor, note: str | None = None,
             changes: dict | None = None) -> None:
    uow.session.execute(insert(ReportEvent), [{
        "report_id": report.id, "seq": seq, "event": event, "from_status": before,
        "to_status": after, "actor_id": actor.id, "actor_role": actor.role, "at": uow.now(),
        "note": note, "changes": changes}])


def _bump(uow: UnitOfWork, report: Report, before: int, **values) -> None:
    """Move the report's version (and set ``values``), refusing a stale one."""
    table = Report.__table__
    moved = uow.session.execute(update(table).where(
        table.c.id == report.id, table.c.version == before).values(
        version=before + 1, **values)).rowcount
    if moved != 1:
        uow.rollback()
        raise Conflict("the report was changed by someone else; reload and try again")
    uow.session.expire(report)


def _text(value: object, field: str, *, required: bool) -> str | None:
    text = str(value or "").strip()
    if len(text) > MAX_NOTE:
        raise ValidationError(f"at most {MAX_NOTE} characters", fields={field: "too long"})
    if required and not text:
        raise ValidationError(f"{field} is required", fields={field: "required"})
    return text or None


def _expected(report: Report, expected_version: object) -> int:
    if str(expected_version).isdigit() and int(expected_version) != report.version:
        raise Conflict("the report was changed by someone else; reload and try again")
    return report.version


def open_report(uow: UnitOfWork, actor: Actor, period: object) -> Report:
    """The actor's unit's report for the period, created as a draft if there is none."""
    if actor.role not in STAFF:
        raise PermissionDenied("only the reporting unit's staff fill its report",
                               event="report")
    unit = uow.session.get(Unit, actor.unit_id)
    text = checked_period(unit.level, period)
    report = find(uow.session, unit.id, text)
    if report is not None:
        return report
    report = Report(unit_id=unit.id, to_unit_id=unit.parent_id, period=text,
                    due_on=due_on(uow, REPORTING_LEVEL[unit.level], text), status=DRAFT,
                    submissions=0, created_by_id=actor.id, created_at=uow.now())
    uow.session.add(report)
    try:
        uow.flush()
    except Conflict:  # opened by a colleague at the same moment
        report = find(uow.session, unit.id, text)
        if report is None:
            raise
        return report
    _history(uow, report, report.version, "open", None, DRAFT, actor)
    uow.commit()
    return report


def save_note(uow: UnitOfWork, report_id: object, actor: Actor, *, cover_note: object,
              expected_version: object = None) -> ReportResult:
    """Save the cover note of a draft or returned report."""
    report = get_report(uow, report_id, actor)
    if actor.role not in STAFF or actor.unit_id != report.unit_id:
        raise PermissionDenied("only the reporting unit's staff fill its report",
                               event="save")
    if report.status not in (DRAFT, RETURNED):
        raise ValidationError("a submitted report is locked",
                              fields={"cover_note": "locked"})
    note = _text(cover_note, "cover_note", required=False)
    before = _expected(report, expected_version)
    _bump(uow, report, before, cover_note=note)
    uow.commit()
    return ReportResult(report.id, report.status, before + 1)


def _transition(uow: UnitOfWork, report_id: object, actor: Actor, event: str, *,
                expected_version: object, values: dict, inputs: dict,
                note: str | None = None, changes: dict | None = None) -> ReportResult:
    report = get_report(uow, report_id, actor)
    before_version = _expected(report, expected_version)
    rule = REPORT_RULEBOOK.by_event[event]
    ctx = uow.context()
    REPORT_RULEBOOK.require(rule, report, actor, ctx, inputs)
    before = report.status
    REPORT_RULEBOOK.fire(report, event, actor, ctx)
    after = report.status
    uow.session.expire(report)
    if callable(values):
        values, changes = values(report)
    _bump(uow, report, before_version, status=after, **values)
    _history(uow, report, before_version + 1, event, before, after, actor, note=note,
             changes=changes)
    _tell(uow, report, event, note)
    uow.commit()
    return ReportResult(report.id, after, before_version + 1)


#: who hears of an event: the receiving unit's staff of a submission, the reporting
#: unit's staff of a receipt or return
TELL = {"submit": ("to_unit_id", "{unit} 已报送 {period} 情况,请签收",
                   "{unit} 报送了 {period} 观摩评议排名及整改情况。"),
        "receive": ("unit_id", "{period} 报送已被{to}签收", "{to} 已签收 {period} 报送。"),
        "return": ("unit_id", "{period} 报送被{to}退回,请修改后重新报送",
                   "退回意见:{note}")}


def _tell(uow: UnitOfWork, report: Report, event: str, note: str | None) -> None:
    column, title, body = TELL[event]
    unit, to = uow.session.get(Unit, report.unit_id), uow.session.get(Unit, report.to_unit_id)
    roles = {"township": STAFF, "county": STAFF, "city": {Role.CITY_STAFF.value}}
    target = getattr(report, column)
    level = to.level if column == "to_unit_id" else unit.level
    users = active_users(uow.session, [target], roles[level]).get(target, [])
    words = {"unit": unit.name, "to": to.name, "period": report.period, "note": note or ""}
    notify_rows(uow, [{
        "user_id": user_id, "kind": "report", "title": title.format(**words)[:200],
        "body": body.format(**words), "subject": f"report:{unit.id}:{report.period}",
        "dedupe_key": f"r:{report.id}:{report.version}:{event}:{user_id}"}
        for user_id in users])


def submit(uow: UnitOfWork, report_id: object, actor: Actor, *, cover_note: object = None,
           expected_version: object = None) -> ReportResult:
    """报送: lock the snapshot and send the report to the level above."""
    report = get_report(uow, report_id, actor)
    note = report.cover_note if cover_note is None else _text(cover_note, "cover_note",
                                                               required=False)

    def values(rep: Report):
        unit = uow.session.get(Unit, rep.unit_id)
        snap = build_snapshot(uow, unit, rep.period)
        return ({"cover_note": note, "snapshot": snap, "submissions": rep.submissions + 1,
                 "submitted_at": uow.now(), "submitted_by_id": actor.id,
                 "received_at": None, "received_by_id": None},
                {"snapshot": snap, "cover_note": note})

    return _transition(uow, report_id, actor, "submit", expected_version=expected_version,
                       values=values, inputs={"cover_note": note})


def receive(uow: UnitOfWork, report_id: object, actor: Actor, *,
            expected_version: object = None) -> ReportResult:
    """签收: the level above marks the report received."""
    return _transition(uow, report_id, actor, "receive", expected_version=expected_version,
                       values={"received_at": uow.now(), "received_by_id": actor.id,
                               "return_note": None}, inputs={})


def send_back(uow: UnitOfWork, report_id: object, actor: Actor, *, note: object,
              expected_version: object = None) -> ReportResult:
    """退回: the level above returns the report with a note; it is corrected and resubmitted."""
    text = _text(note, "note", required=False)
    return _transition(uow, report_id, actor, "return", expected_version=expected_version,
                       values={"return_note": text}, inputs={"note": text}, note=text)


# --- the level above's view -----------------------------------------------------------


@dataclass
class Incoming:
    unit_id: int
    code: str
    name: str
    report: Report | None
    due: dt.date
    overdue: bool


def incoming(uow: UnitOfWork, actor: Actor, period: object, *,
             under: int | None = None) -> list[Incoming]:
    """The reports due to the actor's unit for the period, one row per reporting unit,
    including those not yet opened. A city reads its counties' half-year reports, a
    county its townships' quarterly ones (``under``: a county of the city, for its
    townships' quarterly reports)."""
    session = uow.session
    receiver = session.get(Unit, under if under is not None else actor.unit_id)
    if receiver is None or not actor.sees(receiver):
        raise NotFound("no such unit")
    level = {"city": "county", "county": "township"}.get(receiver.level)
    if level is None:
        raise PermissionDenied("only counties and the city receive reports", event="receive")
    text = checked_period(level, period)
    due = due_on(uow, REPORTING_LEVEL[level], text)
    today = uow.today()
    units = session.execute(select(Unit.id, Unit.code, Unit.name).where(
        Unit.parent_id == receiver.id, Unit.level == level, Unit.active.is_(True))
        .order_by(Unit.code)).all()
    reports = {r.unit_id: r for r in session.scalars(select(Report).where(
        Report.to_unit_id == receiver.id, Report.period == text))}
    out = []
    for u in units:
        report = reports.get(u.id)
        sent = report is not None and report.status in (SUBMITTED, RECEIVED)
        out.append(Incoming(u.id, u.code, u.name, report, due, not sent and due < today))
    return out


def overdue_for(uow: UnitOfWork, actor: Actor) -> list[dict]:
    """Reports in the actor's scope not submitted by their due date, for the board.

    The most recent period of each kind whose due date has passed: townships'
    quarterly reports and counties' half-year reports below the actor's unit.
    """
    session = uow.session
    today = uow.today()
    out: list[dict] = []
    if actor.role not in (Role.SUPERVISOR.value, Role.COUNTY_STAFF.value,
                          Role.CITY_STAFF.value):
        return out
    scope = getattr(Unit, actor.scope_column)
    for level, kind in REPORTING_LEVEL.items():
        period = last_due_period(uow, kind, today)
        if period is None:
            continue
        sent = select(Report.unit_id).where(Report.period == period,
                                            Report.status.in_((SUBMITTED, RECEIVED)))
        parent = Unit.__table__.alias("parent")
        rows = session.execute(
            select(Unit.id, Unit.name, parent.c.name, Report.id, Report.status)
            .join(parent, parent.c.id == Unit.parent_id)
            .outerjoin(Report, (Report.unit_id == Unit.id) & (Report.period == period))
            .where(scope == actor.unit_id, Unit.level == level, Unit.active.is_(True),
                   Unit.id != actor.unit_id, Unit.id.not_in(sent))
            .order_by(Unit.code)).all()
        due = due_on(uow, kind, period)
        out.extend({"unit_id": r[0], "name": r[1], "to": r[2], "report_id": r[3],
                    "status": r[4] or "missing", "period": period, "due": due,
                    "days": (today - due).days} for r in rows)
    return out
