"""The county's ranking notice (通报排名, SPEC §6): its townships' places and ledger figures.

A county staff member of the observing county issues it for a published
ranking of a ``township_half_yearly`` cycle. It is a ``Notice`` numbered like
every other 通报 (``2026年第4季度第3号``, the same per-quarter sequence, so a
quarter's numbers never repeat) and carries a frozen copy of each township's
row: rank, score, class and the ledger figures of the cycle's period (found,
closed, overdue, reopened; ``ledger.results.figures``). What is printed never
changes afterwards: a later ledger change or a corrected ranking leaves it as
issued. One notice per ranking version; a corrected ranking, once published,
may be notified again.

The county's leaders (its active county staff and supervisors) and the ranked
townships' active staff get it in their inbox (and by e-mail where configured),
once each. Who may read it is ``ledger.supervision.board.ranking_notice_clause``:
users of the county and the city above, and the staff of the ranked townships.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ledger.core.actors import Actor
from ledger.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from ledger.core.models import (
    Cycle,
    Notice,
    NoticeRanking,
    Ranking,
    RankingRow,
    RankingStatus,
    Role,
    Unit,
    User,
)
from ledger.core.uow import UnitOfWork
from ledger.items.services import _next_number
from ledger.notify.reminders import notify_rows
from ledger.observations.cycles import period_bounds
from ledger.results.figures import Figures, figures_of
from ledger.results.rankings import get_ranking
from ledger.supervision.acts import notice_number, quarter_of
from ledger.supervision.board import ranking_notice_clause

#: the cycle kind in which a county ranks its townships
COUNTY_KIND = "township_half_yearly"
MAX_TITLE, MAX_BODY = 200, 20000
#: who hears of it: the county's leaders, and each ranked township's staff
LEADER_ROLES = (Role.COUNTY_STAFF.value, Role.SUPERVISOR.value)
TOWNSHIP_ROLES = (Role.TOWNSHIP_STAFF.value,)


@dataclass(frozen=True)
class IssuedNotice:
    """The notice issued: its id, number (and its parts) and how many were notified."""

    notice_id: int
    number: str
    year: int
    quarter: int
    serial: int
    notified: int


@dataclass
class RankingNotice:
    """A ranking notice as printed: the notice, its ranking's cycle and issuing county,
    the frozen rows in order (name, rank, score, klass, ``Figures``) and their total."""

    notice: Notice
    cycle: Cycle
    unit: Unit
    rows: list[dict]
    total: Figures
    #: the period the figures count (the cycle's first and last day)
    first: dt.date
    last: dt.date


def _texts(title: object, body: object) -> tuple[str, str]:
    title = title.strip() if isinstance(title, str) else ""
    body = body.strip() if isinstance(body, str) else ""
    errors = {}
    for name, value, limit in (("title", title, MAX_TITLE), ("body", body, MAX_BODY)):
        if not value:
            errors[name] = "required"
        elif len(value) > limit:
            errors[name] = "too long"
    if errors:
        raise ValidationError("required input is missing: " + ", ".join(errors)
                              if "required" in errors.values() else "input is too long",
                              fields=errors)
    return title, body


def issue_ranking_notice(uow: UnitOfWork, ranking_id: object, actor: Actor, *, title: str,
                         body: str) -> IssuedNotice:
    """通报排名: the county notifies its published ranking of its townships; commits.

    Refused: outside the actor's scope (``NotFound``); anyone but the observing
    county's staff (``PermissionDenied``); a ranking that is not published, not a
    county's, or already notified (``InvalidTransition``); an empty or overlong
    title or text (``ValidationError``).
    """
    title, body = _texts(title, body)
    ranking = get_ranking(uow, ranking_id, actor)
    if actor.role != Role.COUNTY_STAFF.value or actor.unit_id != ranking.observing_unit_id:
        raise PermissionDenied("only the observing county's staff notify its ranking",
                               event="notify_ranking")
    cycle = uow.session.get(Cycle, ranking.cycle_id)
    unit = uow.session.get(Unit, ranking.observing_unit_id)
    if cycle.kind != COUNTY_KIND or unit.level != "county":
        raise InvalidTransition("only a county's ranking of its townships is notified",
                                event="notify_ranking", status=ranking.status)
    if ranking.status != RankingStatus.PUBLISHED.value:
        raise InvalidTransition("only a published ranking is notified",
                                event="notify_ranking", status=ranking.status)
    if uow.session.scalar(select(Notice.id).where(Notice.ranking_id == ranking.id)):
        raise InvalidTransition("the ranking has been notified already",
                                event="notify_ranking", status=ranking.status)
    today, now = uow.today(), uow.now()
    year, quarter = today.year, quarter_of(today)
    serial = _next_number(uow, f"notice-{year}Q{quarter}")
    notice = Notice(year=year, quarter=quarter, serial=serial,
                    number=notice_number(year, quarter, serial), title=title, body=body,
                    unit_id=unit.id, created_by_id=actor.id, created_at=now,
                    ranking_id=ranking.id)
    uow.session.add(notice)
    try:
        uow.flush()
    except IntegrityError:  # the same ranking notified at the same moment elsewhere
        uow.rollback()
        raise InvalidTransition("the ranking has been notified already",
                                event="notify_ranking", status=ranking.status) from None
    rows = _snapshot(uow, ranking, cycle, unit, today)
    if rows:
        uow.session.execute(insert(NoticeRanking),
                            [{"notice_id": notice.id, **r} for r in rows])
    notified = _notify(uow, notice, unit, [r["unit_id"] for r in rows], now)
    uow.commit()
    return IssuedNotice(notice.id, notice.number, year, quarter, serial, notified)


def _snapshot(uow: UnitOfWork, ranking: Ranking, cycle: Cycle, unit: Unit,
              today: dt.date) -> list[dict]:
    """The rows to freeze: ranked townships by rank, then the excused ones by code."""
    first, last = period_bounds(cycle.kind, cycle.period)
    _total, per = figures_of(uow.session, unit, first, last, today, uow.settings.zone)
    ranked = uow.session.execute(
        select(RankingRow.unit_id, Unit.name, RankingRow.rank, RankingRow.score,
               RankingRow.klass)
        .join(Unit, Unit.id == RankingRow.unit_id)
        .where(RankingRow.ranking_id == ranking.id)
        .order_by(RankingRow.rank.is_(None), RankingRow.rank, Unit.code)).all()
    out = []
    for unit_id, name, rank, score, klass in ranked:
        f = per.get(unit_id, Figures())
        out.append({"unit_id": unit_id, "unit_name": name, "rank": rank, "score": score,
                    "klass": klass, "found": f.found, "closed": f.closed,
                    "overdue": f.overdue, "reopened": f.reopened})
    return out


def _notify(uow: UnitOfWork, notice: Notice, county: Unit, townships: list[int],
            now: dt.datetime) -> int:
    """One inbox notification per recipient (and the e-mail copies); how many."""
    people = uow.session.execute(
        select(User.id, User.unit_id).where(User.active.is_(True)).where(
            ((User.unit_id == county.id) & User.role.in_(LEADER_ROLES))
            | (User.unit_id.in_(townships) & User.role.in_(TOWNSHIP_ROLES)))
        .order_by(User.id)).all()
    text = f"{county.name} {notice.number}:{notice.title}"
    rows = [{"user_id": user_id, "kind": "notice",
             "audience": "county" if unit_id == county.id else "township",
             "notice_id": notice.id, "title": f"通报排名:{notice.title}"[:200], "body": text,
             "dedupe_key": f"rn:{notice.id}:{user_id}"} for user_id, unit_id in people]
    return notify_rows(uow, rows)


def get_ranking_notice(session, actor: Actor, notice_id: int) -> RankingNotice:
    """A ranking notice as issued, if the actor may read it (else ``NotFound``)."""
    notice = session.scalar(select(Notice).where(Notice.id == notice_id,
                                                 ranking_notice_clause(actor)))
    if notice is None:
        raise NotFound("no such notice")
    ranking = session.get(Ranking, notice.ranking_id)
    rows, total = [], Figures()
    for r in session.scalars(select(NoticeRanking).where(
            NoticeRanking.notice_id == notice.id).order_by(
            NoticeRanking.rank.is_(None), NoticeRanking.rank, NoticeRanking.unit_name)):
        figures = Figures(r.found, r.closed, r.overdue, r.reopened)
        total.add(figures)
        rows.append({"unit_id": r.unit_id, "name": r.unit_name, "rank": r.rank,
                     "score": r.score, "klass": r.klass, "figures": figures})
    cycle = session.get(Cycle, ranking.cycle_id)
    return RankingNotice(notice, cycle, session.get(Unit, notice.unit_id), rows, total,
                         *period_bounds(cycle.kind, cycle.period))


def notices_of(session, ranking_id: int) -> list[Notice]:
    """The ranking notice of a ranking (none or one), for the ranking page."""
    return list(session.scalars(select(Notice).where(Notice.ranking_id == ranking_id)))
