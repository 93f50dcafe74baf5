"""Importing the official holiday schedule (admins of the city only).

The calendar changes and the open items' provisional deadlines are settled in
the same use case, which is why it lives with the items rather than beside the
calendar or the other admin use cases (they must not depend on the items).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ledger.calendar.workdays import import_schedule, years_covered
from ledger.core.actors import Actor
from ledger.core.errors import PermissionDenied
from ledger.core.models import ACTIVE_STATES, Item, Level, Role
from ledger.core.uow import UnitOfWork
from ledger.items.services import settle_deadlines
from ledger.org.admin import require_admin


@dataclass(frozen=True)
class CalendarStatus:
    """Which years are official and whether deadlines rely on the Monday–Friday fallback."""

    years: list[tuple[int, bool]]
    next_year: int
    next_year_official: bool
    provisional_open_items: int

    @property
    def warning(self) -> bool:
        return self.provisional_open_items > 0 or not self.next_year_official


def calendar_status(uow: UnitOfWork, actor: Actor) -> CalendarStatus:
    """Years covered, next year's coverage and open items with provisional deadlines in scope."""
    require_admin(actor)
    s = uow.session
    years = years_covered(s)
    official = {y for y, o in years if o}
    next_year = uow.today().year + 1
    provisional = s.scalar(select(func.count()).select_from(Item).where(
        actor.scope_clause(Item), Item.state.in_(ACTIVE_STATES),
        Item.deadline_provisional.is_(True))) or 0
    return CalendarStatus(years, next_year, next_year in official, provisional)


def may_import_calendar(actor: Actor) -> bool:
    """The calendar is shared by the whole system: only an admin of the top unit changes it."""
    return actor.role == Role.ADMIN.value and actor.unit_level == Level.CITY.value


def import_calendar(uow: UnitOfWork, actor: Actor, text: str, source: str) -> list[int]:
    """Import an official schedule (``date,holiday|workday[,name]`` rows); all or nothing.

    The calendar is committed first, then the provisional deadlines are settled
    in short batches (``settle_deadlines``); importing the same rows again
    finishes a settle that was interrupted.
    """
    require_admin(actor)
    if not may_import_calendar(actor):
        raise PermissionDenied("only an administrator of the city may change the calendar")
    years = import_schedule(uow.session, text, source=source[:64])
    uow.commit()
    settle_deadlines(uow, actor, years)
    return years
