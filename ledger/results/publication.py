"""The 公示 of a published ranking: an unguessable link, objections, answers.

Publishing gives the ranking a random token (``secrets.token_urlsafe``) and a
公示 period of ``PERIOD_WORKDAYS`` working days. Through the link anyone —
without signing in, e.g. from the village notice board or a WeChat group — sees
that ranking only: ranks, units, classes and scores, nothing of the ledger and
no other cycle. During the period anyone with the link may raise an objection
(name and contact optional); the objections are rate-limited per sender (a keyed
hash of the address: the address itself is not kept) and per ranking. The
observing unit's staff answer each one on record, and the answers appear on the
公示 page. A superseded ranking's link still opens, marked as superseded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update

from ledger.core.actors import Actor
from ledger.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationError
from ledger.core.models import (
    Cycle,
    Objection,
    Ranking,
    RankingRow,
    RankingStatus,
    Unit,
)
from ledger.core.uow import UnitOfWork
from ledger.results.workflow import STAFF

#: how long a 公示 lasts, in working days (SPEC §6: "a period")
PERIOD_WORKDAYS = 5
#: the longest objection or answer kept, in characters
MAX_BODY = 2000
#: objections per sender and ranking per hour, and per ranking per day
PER_SENDER_PER_HOUR = 3
PER_RANKING_PER_DAY = 200


def new_token() -> str:
    return secrets.token_urlsafe(32)


def open_publication(uow: UnitOfWork, ranking: Ranking) -> dict:
    """The token and the 公示's last day, for a ranking being published."""
    ends = uow.calendar.add_workdays(uow.today(), PERIOD_WORKDAYS).date
    return {"token": new_token(), "publication_ends_on": ends}


@dataclass
class PublicRanking:
    """What the 公示 page shows: nothing but this ranking."""

    ranking: Ranking
    cycle: Cycle
    unit: Unit
    rows: list[dict]
    objections: list[Objection]
    open: bool
    superseded: bool


def by_token(session, token: str) -> Ranking:
    if not token or len(token) > 64:
        raise NotFound("no such 公示")
    ranking = session.scalar(select(Ranking).where(Ranking.token == token))
    if ranking is None or ranking.status not in (RankingStatus.PUBLISHED.value,
                                                 RankingStatus.SUPERSEDED.value):
        raise NotFound("no such 公示")
    return ranking


def public_view(session, token: str, today: dt.date) -> PublicRanking:
    ranking = by_token(session, token)
    names = dict(session.execute(
        select(Unit.id, Unit.name).join(RankingRow, RankingRow.unit_id == Unit.id)
        .where(RankingRow.ranking_id == ranking.id)).all())
    rows = [{"rank": r.rank, "name": names[r.unit_id], "klass": r.klass, "score": r.score,
             "excused": r.excused is not None}
            for r in session.scalars(select(RankingRow).where(
                RankingRow.ranking_id == ranking.id).order_by(
                RankingRow.rank.is_(None), RankingRow.rank, RankingRow.unit_id))]
    objections = session.scalars(select(Objection).where(
        Objection.ranking_id == ranking.id).order_by(Objection.id)).all()
    superseded = ranking.status == RankingStatus.SUPERSEDED.value
    is_open = not superseded and ranking.publication_ends_on is not None \
        and today <= ranking.publication_ends_on
    return PublicRanking(ranking, session.get(Cycle, ranking.cycle_id),
                         session.get(Unit, ranking.observing_unit_id), rows, list(objections),
                         is_open, superseded)


def client_key(secret: str, address: str | None) -> str:
    """A keyed hash of the sender's address (the address itself is never stored)."""
    return hashlib.sha256(f"{secret}|{address or '-'}".encode()).hexdigest()


def _short(value: str | None, field: str, limit: int = 100) -> str | None:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationError(f"at most {limit} characters", fields={field: "too long"})
    return value or None


def raise_objection(uow: UnitOfWork, token: str, *, body: str, name: str | None = None,
                    contact: str | None = None, client: str) -> int:
    """Record an objection to a ranking during its 公示 period (no sign-in needed)."""
    text = (body or "").strip()
    if not text:
        raise ValidationError("write the objection", fields={"body": "required"})
    if len(text) > MAX_BODY:
        raise ValidationError(f"at most {MAX_BODY} characters", fields={"body": "too long"})
    name, contact = _short(name, "name"), _short(contact, "contact")
    ranking = by_token(uow.session, token)
    if ranking.status != RankingStatus.PUBLISHED.value or ranking.publication_ends_on is None \
            or uow.today() > ranking.publication_ends_on:
        raise InvalidTransition("the 公示 period is over", event="object",
                                status=ranking.status)
    now = uow.now()
    mine = uow.session.scalar(select(func.count()).select_from(Objection).where(
        Objection.ranking_id == ranking.id, Objection.client == client,
        Objection.created_at > now - dt.timedelta(hours=1)))
    total = uow.session.scalar(select(func.count()).select_from(Objection).where(
        Objection.ranking_id == ranking.id, Objection.created_at > now - dt.timedelta(days=1)))
    if mine >= PER_SENDER_PER_HOUR or total >= PER_RANKING_PER_DAY:
        raise ValidationError("too many objections from here; try again later",
                              fields={"body": "rate limited"})
    row = Objection(ranking_id=ranking.id, name=name, contact=contact, body=text,
                    client=client, created_at=now)
    uow.session.add(row)
    uow.commit()
    return row.id


def objections_of(session, ranking_id: int) -> list[Objection]:
    return list(session.scalars(select(Objection).where(
        Objection.ranking_id == ranking_id).order_by(Objection.id)))


def answer(uow: UnitOfWork, objection_id: object, actor: Actor, *, text: str) -> int:
    """The observing unit answers an objection, once, on record (shown on the 公示 page);
    returns the ranking's id."""
    row = uow.session.get(Objection, int(objection_id)) if str(objection_id).isdigit() else None
    ranking = uow.session.get(Ranking, row.ranking_id) if row else None
    unit = uow.session.get(Unit, ranking.observing_unit_id) if ranking else None
    if row is None or not actor.sees(unit):
        raise NotFound("no such objection")
    if actor.role not in STAFF or actor.unit_id != ranking.observing_unit_id:
        raise PermissionDenied("only the observing unit answers objections", event="answer")
    reply = (text or "").strip()
    if not reply:
        raise ValidationError("write the answer", fields={"answer": "required"})
    if len(reply) > MAX_BODY:
        raise ValidationError(f"at most {MAX_BODY} characters", fields={"answer": "too long"})
    done = uow.session.execute(update(Objection.__table__).where(
        Objection.__table__.c.id == row.id, Objection.__table__.c.answer.is_(None)).values(
        answer=reply, answered_by_id=actor.id, answered_at=uow.now())).rowcount
    if done != 1:
        uow.rollback()
        raise InvalidTransition("the objection has been answered already", event="answer",
                                status="answered")
    uow.commit()
    return ranking.id
