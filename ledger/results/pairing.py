"""Pairing (互帮): when a ranking is published, each 后进 unit is paired with a 示范 unit
for the next cycle, and the pair records its exchange visits.

The suggestion takes the 示范 units of the same ranking (the same township) in rank
order, round robin; where the ranking has none, the 示范 units of the same county in
that cycle. The observing unit may change the partner. Either unit's secretary
(or staff, for townships) and the observing unit's staff record visits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select

from ledger.core.actors import Actor
from ledger.core.db import dialect_insert
from ledger.core.errors import EvidenceRejected, NotFound, PermissionDenied, ValidationError
from ledger.core.evidence import safe_display_name
from ledger.core.models import (
    Pair,
    PairVisit,
    PairVisitPhoto,
    Ranking,
    RankingRow,
    Unit,
    UnitClass,
)
from ledger.core.uow import UnitOfWork
from ledger.results.workflow import STAFF

MAX_TEXT = 2000
#: photos per exchange visit
MAX_PHOTOS = 10


def suggest(uow: UnitOfWork, ranking: Ranking, actor: Actor) -> int:
    """Pair each 后进 unit of a just-published ranking (the caller commits); returns how many
    pairs were made. Pairs made before for the same cycle are kept."""
    rows = uow.session.execute(select(RankingRow.unit_id, RankingRow.klass, RankingRow.rank)
                               .where(RankingRow.ranking_id == ranking.id,
                                      RankingRow.klass.is_not(None))
                               .order_by(RankingRow.rank)).all()
    lagging = [u for u, k, _ in rows if k == "lagging"]
    partners = [u for u, k, _ in rows if k == "demonstration"]
    if lagging and not partners:
        unit = uow.session.get(Unit, ranking.observing_unit_id)
        partners = list(uow.session.scalars(
            select(UnitClass.unit_id).join(Unit, Unit.id == UnitClass.unit_id)
            .where(UnitClass.cycle_id == ranking.cycle_id, UnitClass.klass == "demonstration",
                   Unit.county_id == unit.county_id,
                   Unit.id.not_in(lagging)).order_by(Unit.code)))
    if not lagging or not partners:
        return 0
    now = uow.now()
    values = [{"cycle_id": ranking.cycle_id, "lagging_unit_id": u,
               "partner_unit_id": partners[i % len(partners)], "created_by_id": actor.id,
               "created_at": now} for i, u in enumerate(lagging)]
    ins = dialect_insert(uow.session, Pair.__table__).values(values)
    return uow.session.execute(ins.on_conflict_do_nothing(
        index_elements=["cycle_id", "lagging_unit_id"]).execution_options(
        preserve_rowcount=True)).rowcount


@dataclass
class PairView:
    pair: Pair
    lagging: Unit
    partner: Unit
    visits: list[PairVisit]
    #: whether the actor may record visits / change the partner
    may_record: bool
    may_change: bool
    #: each visit's photos, by visit id
    photos: dict


def _get(uow: UnitOfWork, pair_id: object, actor: Actor) -> tuple[Pair, Unit, Unit]:
    pair = uow.session.get(Pair, int(pair_id)) if str(pair_id).isdigit() else None
    if pair is None:
        raise NotFound("no such pair")
    lagging = uow.session.get(Unit, pair.lagging_unit_id)
    partner = uow.session.get(Unit, pair.partner_unit_id)
    if not (actor.sees(lagging) or actor.sees(partner)):
        raise NotFound("no such pair")
    return pair, lagging, partner


def _is_member(actor: Actor, *units: Unit) -> bool:
    return any(actor.unit_id == u.id for u in units)


def _is_observer(actor: Actor, lagging: Unit) -> bool:
    return actor.role in STAFF and actor.unit_id == lagging.parent_id


def view(uow: UnitOfWork, pair_id: object, actor: Actor) -> PairView:
    pair, lagging, partner = _get(uow, pair_id, actor)
    visits = uow.session.scalars(select(PairVisit).where(PairVisit.pair_id == pair.id)
                                 .order_by(PairVisit.day, PairVisit.id)).all()
    return PairView(pair, lagging, partner, list(visits),
                    _is_member(actor, lagging, partner) or _is_observer(actor, lagging),
                    _is_observer(actor, lagging),
                    photos_of(uow.session, [v.id for v in visits]))


def pairs_of(session, unit_id: int) -> list[Pair]:
    """The pairs a unit belongs to, newest cycle first (for its home page)."""
    return list(session.scalars(select(Pair).where(or_(
        Pair.lagging_unit_id == unit_id, Pair.partner_unit_id == unit_id))
        .order_by(Pair.cycle_id.desc(), Pair.id)))


def pair_for(session, cycle_id: int, unit_id: int) -> Pair | None:
    return session.scalar(select(Pair).where(Pair.cycle_id == cycle_id, or_(
        Pair.lagging_unit_id == unit_id, Pair.partner_unit_id == unit_id)).limit(1))


def change_partner(uow: UnitOfWork, pair_id: object, actor: Actor, *,
                   partner_unit_id: object) -> None:
    """The observing unit gives the 后进 unit another partner (a unit of the same level
    in its county, not the unit itself)."""
    pair, lagging, _ = _get(uow, pair_id, actor)
    if not _is_observer(actor, lagging):
        raise PermissionDenied("only the observing unit changes a pair", event="pair")
    partner = uow.session.get(Unit, int(partner_unit_id)) \
        if str(partner_unit_id).isdigit() else None
    if (partner is None or partner.id == lagging.id or partner.level != lagging.level
            or partner.county_id != lagging.county_id or not partner.active):
        raise ValidationError("the partner is another unit of the same level in the county",
                              fields={"partner_unit_id": "not a partner"})
    pair.partner_unit_id = partner.id
    uow.commit()


def record_visit(uow: UnitOfWork, pair_id: object, actor: Actor, *, day: object, who: str,
                 learned: str, photos: list[tuple[object, str]] = ()) -> int:
    """An exchange visit: the day (not in the future), who went, what was learned, and
    photos (``(data, filename)``; images only, stored after every other check passed)."""
    if len(photos) > MAX_PHOTOS:
        raise ValidationError("check the visit", fields={"photos": "too many"})
    fields = {}
    try:
        when = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
    except ValueError:
        when = None
        fields["day"] = "invalid date"
    who, learned = (who or "").strip(), (learned or "").strip()
    if not who:
        fields["who"] = "required"
    if not learned:
        fields["learned"] = "required"
    if len(who) > 200 or len(learned) > MAX_TEXT:
        fields["learned" if len(learned) > MAX_TEXT else "who"] = "too long"
    if when is not None and when > uow.today():
        fields["day"] = "in the future"
    if fields:
        raise ValidationError("check the visit", fields=fields)
    pair, lagging, partner = _get(uow, pair_id, actor)
    if not (_is_member(actor, lagging, partner) or _is_observer(actor, lagging)):
        raise PermissionDenied("only the pair and its observing unit record visits",
                               event="visit")
    staged = []
    try:  # checked before anything enters the store; a refused type stores nothing
        for data, filename in photos:
            staged.append(uow.evidence.stage(data, filename, kinds=("image",)))
    except EvidenceRejected as exc:
        for f in staged:
            uow.evidence.discard(f)
        raise ValidationError("a visit's photos are images",
                              fields={"photos": "not an image"}) from exc
    try:
        visit = PairVisit(pair_id=pair.id, day=when, who=who, learned=learned,
                          created_by_id=actor.id, created_at=uow.now())
        uow.session.add(visit)
        uow.flush()
        for f, (_, filename) in zip(staged, photos, strict=True):
            blob = uow.evidence.commit(f)
            uow.session.add(PairVisitPhoto(
                visit_id=visit.id, sha256=blob.sha256, size=blob.size, mime=blob.mime,
                original_name=safe_display_name(filename), uploaded_by_id=actor.id,
                uploaded_at=uow.now()))
    finally:
        for f in staged:
            uow.evidence.discard(f)
    uow.commit()
    return visit.id


def photos_of(session, visit_ids: list[int]) -> dict[int, list[PairVisitPhoto]]:
    out: dict[int, list[PairVisitPhoto]] = {}
    if visit_ids:
        for photo in session.scalars(select(PairVisitPhoto).where(
                PairVisitPhoto.visit_id.in_(visit_ids)).order_by(PairVisitPhoto.id)):
            out.setdefault(photo.visit_id, []).append(photo)
    return out


def photo_for_download(uow: UnitOfWork, pair_id: object, photo_id: object,
                       actor: Actor) -> PairVisitPhoto:
    """A visit's photo, for those who see the pair (``NotFound`` otherwise)."""
    pair, _, _ = _get(uow, pair_id, actor)
    photo = uow.session.get(PairVisitPhoto, int(photo_id)) if str(photo_id).isdigit() else None
    visit = uow.session.get(PairVisit, photo.visit_id) if photo else None
    if visit is None or visit.pair_id != pair.id:
        raise NotFound("no such photo")
    return photo
