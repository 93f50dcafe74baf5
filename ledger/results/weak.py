"""软弱涣散: units 后进 k cycles in a row are flagged for the county's review.

A unit is flagged when its classes in its k most recent published cycles of one
kind (k from the admin's settings, default 2) are all 后进. The county's staff
record a determination (认定 / 不认定, reason, date) for the streak's last cycle;
when 认定, the 一村一策 plan's tasks are ledger items (source 整顿) assigned to the
unit's responsible person with their own deadlines, and go through the ledger's
workflow like any other item.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select

from ledger.core.actors import Actor
from ledger.core.errors import NotFound, PermissionDenied, ValidationError
from ledger.core.models import (
    Cycle,
    Role,
    Unit,
    UnitClass,
    User,
    WeakReview,
    WeakReviewItem,
)
from ledger.core.uow import UnitOfWork
from ledger.items import services as items
from ledger.results.classes import weak_after

DECISIONS = ("recognised", "not_recognised")
MAX_TEXT = 2000
RESPONSIBLE = {"village": Role.VILLAGE_SECRETARY.value, "township": Role.TOWNSHIP_STAFF.value}


@dataclass
class Flag:
    unit: Unit
    kind: str
    periods: list[str]
    cycle_id: int
    review: WeakReview | None


def flagged(session, actor: Actor) -> list[Flag]:
    """The units in the actor's scope flagged now, with their review if there is one."""
    k = weak_after(session)
    lagging = select(UnitClass.unit_id).where(UnitClass.klass == "lagging")
    rows = session.execute(
        select(UnitClass.unit_id, Cycle.kind, Cycle.period, Cycle.id, UnitClass.klass)
        .join(Cycle, Cycle.id == UnitClass.cycle_id).join(Unit, Unit.id == UnitClass.unit_id)
        .where(actor.scope_clause(Unit), UnitClass.unit_id.in_(lagging))
        .order_by(UnitClass.unit_id, Cycle.kind, Cycle.period.desc())).all()
    streaks: dict[tuple[int, str], list] = {}
    for unit_id, kind, period, cycle_id, klass in rows:
        streaks.setdefault((unit_id, kind), []).append((period, cycle_id, klass))
    hits = [(unit_id, kind, history[:k]) for (unit_id, kind), history in streaks.items()
            if len(history) >= k and all(klass == "lagging" for _, _, klass in history[:k])]
    ids = [unit_id for unit_id, _, _ in hits]
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    reviews = {(r.unit_id, r.cycle_id): r for r in session.scalars(
        select(WeakReview).where(WeakReview.unit_id.in_(ids)))}
    out = [Flag(units[unit_id], kind, [p for p, _, _ in reversed(recent)], recent[0][1],
                reviews.get((unit_id, recent[0][1]))) for unit_id, kind, recent in hits]
    return sorted(out, key=lambda f: f.unit.code)


def _county_staff_of(actor: Actor, unit: Unit) -> None:
    if actor.role != Role.COUNTY_STAFF.value or unit.county_id != actor.unit_id:
        raise PermissionDenied("the county records the determination", event="determine")


def determine(uow: UnitOfWork, unit_id: object, actor: Actor, *, decision: str, reason: str,
              decided_on: object, plan: str | None = None) -> int:
    """The county's determination on a flagged unit (once per streak)."""
    fields = {}
    if decision not in DECISIONS:
        fields["decision"] = "invalid choice"
    reason = (reason or "").strip()
    if not reason:
        fields["reason"] = "required"
    elif len(reason) > MAX_TEXT:
        fields["reason"] = "too long"
    plan = (plan or "").strip() or None
    if plan and len(plan) > MAX_TEXT:
        fields["plan"] = "too long"
    try:
        day = decided_on if isinstance(decided_on, dt.date) else dt.date.fromisoformat(
            str(decided_on))
    except ValueError:
        day = None
        fields["decided_on"] = "invalid date"
    if day is not None and day > uow.today():
        fields["decided_on"] = "in the future"
    if fields:
        raise ValidationError("check the determination", fields=fields)
    unit = uow.session.get(Unit, int(unit_id)) if str(unit_id).isdigit() else None
    if unit is None or not actor.sees(unit):
        raise NotFound("no such unit")
    _county_staff_of(actor, unit)
    flag = next((f for f in flagged(uow.session, actor) if f.unit.id == unit.id), None)
    if flag is None:
        raise ValidationError("the unit is not flagged", fields={"unit_id": "not flagged"})
    if flag.review is not None:
        raise ValidationError("the determination has been recorded already",
                              fields={"decision": "already decided"})
    review = WeakReview(unit_id=unit.id, cycle_id=flag.cycle_id, decision=decision,
                        reason=reason, decided_on=day, plan=plan, decided_by_id=actor.id,
                        created_at=uow.now())
    uow.session.add(review)
    uow.commit()
    return review.id


def add_task(uow: UnitOfWork, review_id: object, actor: Actor, *, description: str,
             deadline: str) -> int:
    """A task of the 一村一策 plan: a ledger item (source 整顿) assigned at once to the unit's
    responsible person with its deadline (a date, N days or N working days)."""
    review = uow.session.get(WeakReview, int(review_id)) if str(review_id).isdigit() else None
    unit = uow.session.get(Unit, review.unit_id) if review else None
    if review is None or not actor.sees(unit):
        raise NotFound("no such determination")
    _county_staff_of(actor, unit)
    if review.decision != "recognised":
        raise ValidationError("only a 认定 unit has a plan", fields={"description": "no plan"})
    person = uow.session.scalar(select(User).where(
        User.unit_id == unit.id, User.active.is_(True),
        User.role == RESPONSIBLE.get(unit.level, "")).order_by(User.id).limit(1))
    if person is None:
        raise ValidationError("the unit has no responsible person",
                              fields={"description": "no responsible person"})
    with uow.one_transaction():
        found = items.record_finding(uow, actor, unit_id=unit.id, description=description,
                                     source="rectification", note="一村一策")
        items.assign(uow, found.id, actor, responsible_user_id=person.id,
                     category="deadline", deadline=deadline)
        uow.session.execute(insert(WeakReviewItem), [{"review_id": review.id,
                                                      "item_id": found.id}])
    uow.commit()
    return found.id


def tasks_of(session, review_id: int) -> list[int]:
    return list(session.scalars(select(WeakReviewItem.item_id).where(
        WeakReviewItem.review_id == review_id)))
