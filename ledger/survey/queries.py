"""Reading surveys: a year's overview of the villages in scope, a village's own surveys,
a survey's history and what replaying it gives.

The overview lists every active village in the actor's scope (optionally below
one township or county of it) with its survey of the year, or none yet, so the
township sees who has not filled in and the county what is left to archive.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session, aliased

from ledger.core.actors import Actor
from ledger.core.errors import NotFound, PermissionDenied
from ledger.core.models import Level, Role, Unit, User
from ledger.survey.models import Survey, SurveyEvent

#: who reads the overview and the export (a village secretary reads their own survey)
READERS = frozenset({Role.TOWNSHIP_STAFF.value, Role.COUNTY_STAFF.value, Role.CITY_STAFF.value,
                     Role.SUPERVISOR.value, Role.ADMIN.value})
#: the status shown for a village without a survey of the year
MISSING = "missing"
PAGE_SIZE = 200


@dataclass(frozen=True)
class OverviewRow:
    """One village of the overview and its survey of the year (if any)."""

    unit_id: int
    code: str
    name: str
    township: str
    survey_id: int | None
    status: str
    version: int | None
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    archived_at: dt.datetime | None


@dataclass
class Overview:
    """A year's surveys of the villages in scope (one page of them) and the counts."""

    year: int
    unit: Unit
    rows: list[OverviewRow]
    counts: dict[str, int]
    page: int
    pages: int
    #: (id, name) of the townships or counties the list may be narrowed to
    choices: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def require_reader(actor: Actor) -> None:
    if actor.role not in READERS:
        raise PermissionDenied("the surveys of several villages are read by staff",
                               event="overview")


def narrowed_unit(session: Session, actor: Actor, unit_id: object) -> Unit:
    """The actor's own unit, or a township or county in their scope (``NotFound`` else)."""
    if unit_id in (None, ""):
        return session.get(Unit, actor.unit_id)
    try:
        key = int(unit_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise NotFound("no such unit") from None
    unit = session.get(Unit, key)
    if unit is None or not actor.sees(unit) or unit.level not in (
            Level.CITY.value, Level.COUNTY.value, Level.TOWNSHIP.value):
        raise NotFound("no such unit")
    return unit


def villages_below(unit: Unit):
    """The SQL filter of the active villages in ``unit``'s subtree."""
    return ((getattr(Unit, f"{unit.level}_id") == unit.id) & (Unit.level == Level.VILLAGE.value)
            & (Unit.active == true()))


def overview(session: Session, actor: Actor, year: int, *, unit_id: object = None,
             status: str | None = None, page: int = 1) -> Overview:
    """The villages below the actor's unit (or a unit of their scope) with their survey
    of ``year``, by township and code; ``status`` narrows to one status (or "missing")."""
    require_reader(actor)
    unit = narrowed_unit(session, actor, unit_id)
    township = aliased(Unit)
    joined = (select(Unit.id).select_from(Unit)
              .outerjoin(Survey, (Survey.unit_id == Unit.id) & (Survey.year == year))
              .where(villages_below(unit)))
    state = func.coalesce(Survey.status, MISSING)
    counts = dict(session.execute(
        joined.with_only_columns(state, func.count()).group_by(state)).all())
    if status:
        joined = joined.where(Survey.status.is_(None) if status == MISSING
                              else Survey.status == status)
    shown = counts.get(status, 0) if status else sum(counts.values())
    pages = max(1, math.ceil(shown / PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = session.execute(
        joined.with_only_columns(
            Unit.id, Unit.code, Unit.name, township.name, Survey.id, state, Survey.version,
            Survey.submitted_at, Survey.accepted_at, Survey.archived_at)
        .join(township, township.id == Unit.township_id)
        .order_by(township.code, Unit.code).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    below = {Level.CITY.value: Level.COUNTY.value, Level.COUNTY.value: Level.TOWNSHIP.value}
    choices: list[tuple[int, str]] = []
    own = session.get(Unit, actor.unit_id)
    if own.level in below:
        levels = [below[own.level]] + ([Level.TOWNSHIP.value] if own.level == "city" else [])
        choices = [tuple(r) for r in session.execute(
            select(Unit.id, Unit.name).where(getattr(Unit, f"{own.level}_id") == own.id,
                                             Unit.level.in_(levels), Unit.active == true())
            .order_by(Unit.level, Unit.code))]
    return Overview(year, unit, [OverviewRow(*r) for r in rows], counts, page, pages, choices)


@dataclass(frozen=True)
class OwnSurvey:
    id: int
    year: int
    status: str
    updated_at: dt.datetime


def surveys_of_village(session: Session, actor: Actor) -> list[OwnSurvey]:
    """A village secretary's surveys of their village, newest year first."""
    if actor.role != Role.VILLAGE_SECRETARY.value:
        return []
    return [OwnSurvey(*r) for r in session.execute(
        select(Survey.id, Survey.year, Survey.status, Survey.updated_at)
        .where(Survey.unit_id == actor.unit_id).order_by(Survey.year.desc()))]


@dataclass(frozen=True)
class EventView:
    """One history row as pages show it."""

    seq: int
    event: str
    from_status: str | None
    to_status: str
    actor_name: str
    actor_role: str
    at: dt.datetime
    note: str | None
    changes: dict


def history(session: Session, survey: Survey) -> list[EventView]:
    """The survey's history, oldest first (the caller has checked scope)."""
    return [EventView(*r[:-1], r[-1] or {}) for r in session.execute(
        select(SurveyEvent.seq, SurveyEvent.event, SurveyEvent.from_status,
               SurveyEvent.to_status, User.display_name, SurveyEvent.actor_role,
               SurveyEvent.at, SurveyEvent.note, SurveyEvent.changes)
        .join(User, User.id == SurveyEvent.actor_id)
        .where(SurveyEvent.survey_id == survey.id).order_by(SurveyEvent.seq))]


def replay(events: Iterable[EventView]) -> tuple[str | None, dict]:
    """The status and answers the history rows add up to, applied in order."""
    status: str | None = None
    answers: dict = {}
    for event in events:
        if event.from_status != status:
            raise ValueError(f"history broken at seq {event.seq}: {event.from_status} after "
                             f"{status}")
        status = event.to_status
        for key, value in (event.changes or {}).items():
            if value is None:
                answers.pop(key, None)
            else:
                answers[key] = value
    return status, answers


def last_return_note(session: Session, survey: Survey) -> str | None:
    """What the township wrote when it last returned the survey."""
    return session.scalar(select(SurveyEvent.note).where(
        SurveyEvent.survey_id == survey.id, SurveyEvent.event == "return")
        .order_by(SurveyEvent.seq.desc()).limit(1))


def village_path(session: Session, survey: Survey) -> list[str]:
    """Names from the county down to the village (县 / 乡 / 村)."""
    ids = [i for i in (survey.county_id, survey.township_id, survey.village_id) if i]
    names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all())
    return [names[i] for i in ids if i in names]
