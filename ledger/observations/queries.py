"""Lists of observations: the cycles with their counts, a cycle's targets, highlights.

Cycles and targets are scoped like items (the actor's subtree; a village
secretary only their village's confirmed records).  Highlights are the one
list that is not scoped: the 亮点 and 经验总结 of confirmed records are meant
to be shared city-wide (互学互鉴), and the list carries nothing of the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from ledger.core.actors import Actor
from ledger.core.errors import NotFound
from ledger.core.models import (
    Cycle,
    Observation,
    ObservationFile,
    ObservationSection,
    ObservationStatus,
    Role,
    Standard,
    Unit,
)
from ledger.org.directory import unit_in_scope

CONFIRMED = ObservationStatus.CONFIRMED.value
HIGHLIGHT_SECTIONS = ("highlights", "experience")
PAGE = 50


def visible(actor: Actor):
    """The filter on observations this actor may list."""
    clause = actor.scope_clause(Observation)
    if actor.role == Role.VILLAGE_SECRETARY.value:
        clause = and_(clause, Observation.status == CONFIRMED)
    return clause


def cycles_overview(session: Session, actor: Actor) -> list[dict]:
    """Every cycle, newest first, with the actor's observations counted by status."""
    counts: dict[int, dict[str, int]] = {}
    for cycle_id, status, n in session.execute(
            select(Observation.cycle_id, Observation.status, func.count())
            .where(visible(actor)).group_by(Observation.cycle_id, Observation.status)):
        counts.setdefault(cycle_id, {})[status] = n
    rows = []
    for c in session.scalars(select(Cycle).order_by(Cycle.period.desc(), Cycle.kind)):
        by_status = counts.get(c.id, {})
        rows.append({"cycle": c, "counts": by_status, "total": sum(by_status.values())})
    return rows


@dataclass
class TargetPage:
    cycle: Cycle
    rows: list[dict]
    total: int
    counts: dict[str, int]
    page: int
    pages: int


def targets(session: Session, actor: Actor, cycle_id: int, *, status: str | None = None,
            page: int = 1) -> TargetPage:
    """A cycle's observations in the actor's area, 50 to a page, by unit code."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound("no such cycle")
    where = [Observation.cycle_id == cycle_id, visible(actor)]
    counts = dict(session.execute(select(Observation.status, func.count())
                                  .where(*where).group_by(Observation.status)).all())
    if status in {s.value for s in ObservationStatus}:
        where.append(Observation.status == status)
    total = session.scalar(select(func.count()).select_from(Observation).where(*where)) or 0
    pages = max(1, -(-total // PAGE))
    page = min(max(1, page), pages)
    target, observer = aliased(Unit), aliased(Unit)
    result = session.execute(
        select(Observation, target.code, target.name, observer.name.label("observer_name"))
        .join(target, target.id == Observation.unit_id)
        .join(observer, observer.id == Observation.observing_unit_id)
        .where(*where).order_by(target.code).offset((page - 1) * PAGE).limit(PAGE)).all()
    rows = [{"observation": o, "code": code, "name": name, "observer": obs_name}
            for o, code, name, obs_name in result]
    return TargetPage(cycle, rows, total, counts, page, pages)


def observations_after(session: Session, actor: Actor, *, cycle_id: int | None = None,
                       status: str | None = None, unit_id: int | None = None,
                       limit: int = 50, after: int | None = None
                       ) -> tuple[list[dict], int | None]:
    """A keyset page (by id) of the observations the actor may list, for clients that
    pull: the same visibility as the cycle pages (``visible``).

    ``unit_id`` keeps the observations of that unit's subtree (``NotFound``
    outside the scope), ``cycle_id`` those of one cycle (``NotFound`` for an
    unknown cycle).  Returns the rows (the observation with its target's and
    observer's code and name, and its cycle's period) and the id to continue
    after when more may follow (None on the last page).
    """
    where = [visible(actor)]
    if cycle_id is not None:
        if session.get(Cycle, cycle_id) is None:
            raise NotFound("no such cycle")
        where.append(Observation.cycle_id == cycle_id)
    if status is not None:
        where.append(Observation.status == status)
    if unit_id is not None:
        unit = unit_in_scope(session, actor, unit_id)
        where.append(getattr(Observation, f"{unit.level}_id") == unit.id)
    if after is not None:
        where.append(Observation.id > after)
    limit = max(1, min(limit, 500))
    target, observer = aliased(Unit), aliased(Unit)
    result = session.execute(
        select(Observation, target.code, target.name, observer.code, observer.name,
               Cycle.period)
        .join(target, target.id == Observation.unit_id)
        .join(observer, observer.id == Observation.observing_unit_id)
        .join(Cycle, Cycle.id == Observation.cycle_id)
        .where(*where).order_by(Observation.id).limit(limit + 1)).all()
    more = len(result) > limit
    rows = [{"observation": o, "code": code, "name": name, "observer_code": obs_code,
             "observer": obs_name, "period": period}
            for o, code, name, obs_code, obs_name, period in result[:limit]]
    return rows, (rows[-1]["observation"].id if more else None)


def unit_path(session: Session, obs: Observation) -> list[str]:
    """Names from the county down to the target (县 / 乡 / 村)."""
    ids = [i for i in (obs.county_id, obs.township_id, obs.village_id) if i is not None]
    names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())
    return [names[i] for i in ids if i in names]


# --- highlights ------------------------------------------------------------------


@dataclass
class HighlightPage:
    rows: list[dict]
    total: int
    page: int
    pages: int
    themes: list[str]
    counties: list[tuple[int, str]]
    #: (key, name) of the standards' categories
    categories: list[tuple[str, str]]


def highlights(session: Session, *, q: str = "", theme: str = "", county: int | None = None,
               kind: str = "", category: str = "", page: int = 1) -> HighlightPage:
    """Confirmed records with a 亮点 or 经验总结, newest first, searchable city-wide."""
    hl, ex = aliased(ObservationSection), aliased(ObservationSection)
    target = aliased(Unit)
    base = (select(Observation.id)
            .join(hl, and_(hl.observation_id == Observation.id, hl.name == "highlights"))
            .join(ex, and_(ex.observation_id == Observation.id, ex.name == "experience"))
            .join(Cycle, Cycle.id == Observation.cycle_id)
            .join(target, target.id == Observation.unit_id)
            .where(Observation.status == CONFIRMED, or_(hl.body != "", ex.body != "")))
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        base = base.where(or_(hl.body.like(like), ex.body.like(like), target.name.like(like)))
    if theme:
        base = base.where(or_(Observation.theme == theme, and_(Observation.theme.is_(None),
                                                                Cycle.theme == theme)))
    if county:
        base = base.where(Observation.county_id == county)
    if kind:
        base = base.where(Cycle.kind == kind)
    if category:
        base = base.where(or_(hl.category == category, ex.category == category))
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // 20))
    page = min(max(1, page), pages)
    ids = session.scalars(base.order_by(Observation.confirmed_at.desc(), Observation.id.desc())
                          .offset((page - 1) * 20).limit(20)).all()
    rows = []
    if ids:
        observations = {o.id: o for o in session.scalars(
            select(Observation).where(Observation.id.in_(ids)))}
        periods = dict(session.execute(select(Cycle.id, Cycle.period)).all())
        texts: dict[int, dict[str, str]] = {}
        for oid, name, body, key in session.execute(
                select(ObservationSection.observation_id, ObservationSection.name,
                       ObservationSection.body, ObservationSection.category)
                .where(ObservationSection.observation_id.in_(ids),
                       ObservationSection.name.in_(HIGHLIGHT_SECTIONS))):
            texts.setdefault(oid, {})[name] = body
            if key:
                texts[oid].setdefault("categories", set()).add(key)
        photos: dict[int, list[int]] = {}
        for fid, oid in session.execute(
                select(ObservationFile.id, ObservationFile.observation_id)
                .where(ObservationFile.observation_id.in_(ids),
                       ObservationFile.section.in_(HIGHLIGHT_SECTIONS),
                       ObservationFile.kind == "image").order_by(ObservationFile.id)):
            photos.setdefault(oid, []).append(fid)
        wanted = {i for o in observations.values()
                  for i in (o.county_id, o.township_id, o.village_id) if i is not None}
        names = dict(session.execute(select(Unit.id, Unit.name).where(
            Unit.id.in_(wanted))).all())
        for oid in ids:
            o = observations[oid]
            path = [names[i] for i in (o.county_id, o.township_id, o.village_id) if i in names]
            rows.append({"observation": o, "path": path,
                         "period": periods.get(o.cycle_id), "theme": o.theme,
                         "highlights": texts.get(oid, {}).get("highlights", ""),
                         "experience": texts.get(oid, {}).get("experience", ""),
                         "categories": sorted(texts.get(oid, {}).get("categories", ())),
                         "photos": photos.get(oid, [])})
    themes = sorted({t for t in session.scalars(select(Observation.theme).where(
        Observation.status == CONFIRMED, Observation.theme.is_not(None)).distinct()) if t})
    counties = session.execute(select(Unit.id, Unit.name).where(Unit.level == "county")
                               .order_by(Unit.code)).all()
    names = {f"{s}:{n}": name for s, n, name in session.execute(
        select(Standard.set, Standard.category_number, Standard.category).distinct())}
    return HighlightPage(rows, total, page, pages, themes, [tuple(c) for c in counties],
                         sorted(names.items()))


def highlight_file(session: Session, file_id: int) -> ObservationFile:
    """A photo of a confirmed record's 亮点 or 经验总结: visible to every signed-in user."""
    row = session.get(ObservationFile, file_id)
    if row is None or row.observation_id is None or row.section not in HIGHLIGHT_SECTIONS:
        raise NotFound("no such file")
    status = session.scalar(select(Observation.status).where(
        Observation.id == row.observation_id))
    if status != CONFIRMED:
        raise NotFound("no such file")
    return row
