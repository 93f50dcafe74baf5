"""Turning a confirmed record's failed lines into ledger items (问题清单).

On confirmation every 不符合 line (and 基本符合 where the cycle says so) becomes
an item through the ledger's own ``record_finding``, inside the confirmation's
transaction: source 观摩, the cycle, the observation, the standard, the unit,
the line's note as description and its photos as evidence.  Where the cycle
sets a deadline in working days the item is assigned at once to the unit's
secretary.  A standard that already has an item for this observation (a
second confirmation after a reopen, or a problem added by hand) gets no
second one: the unique key on (observation, standard) backs this up.
"""

from __future__ import annotations

from sqlalchemy import select

from ledger.core.actors import Actor
from ledger.core.models import Cycle, Item, Observation, ObservationFile, Role, User
from ledger.core.uow import UnitOfWork
from ledger.items import services as items
from ledger.observations.record import blobs_of
from ledger.observations.sheet import lines_of

#: who is responsible for a finding, by the level of the observed unit
RESPONSIBLE_ROLE = {"village": Role.VILLAGE_SECRETARY.value, "township": Role.TOWNSHIP_STAFF.value}


def description_of(title: str, text: str, note: str | None) -> str:
    return f"{title}:{note}" if note else f"{title}:{text}"


def responsible_for(uow: UnitOfWork, obs: Observation) -> User | None:
    level = "village" if obs.village_id is not None else "township"
    return uow.session.scalar(
        select(User).where(User.unit_id == obs.unit_id, User.active.is_(True),
                           User.role == RESPONSIBLE_ROLE[level]).order_by(User.id).limit(1))


def record_findings(uow: UnitOfWork, obs: Observation, actor: Actor) -> list[int]:
    """Create the missing findings of ``obs``; the caller commits. Returns the new item ids."""
    cycle = uow.session.get(Cycle, obs.cycle_id)
    results = ("fail", "partial") if cycle.findings_include_partial else ("fail",)
    failed = [line for line in lines_of(uow, obs) if line.counted and line.result in results]
    if not failed:
        return []
    have = set(uow.session.scalars(select(Item.standard_id).where(
        Item.observation_id == obs.id, Item.standard_id.is_not(None))))
    files: dict[int, list] = {}
    for f in uow.session.scalars(select(ObservationFile).where(
            ObservationFile.observation_id == obs.id, ObservationFile.standard_id.is_not(None))):
        files.setdefault(f.standard_id, []).append(f)
    person = responsible_for(uow, obs) if cycle.finding_deadline_workdays else None
    created = []
    for line in failed:
        if line.standard_id in have:
            continue
        result = items.record_finding(
            uow, actor, unit_id=obs.unit_id, standard_id=line.standard_id,
            observation_id=obs.id, description=description_of(line.title, line.text, line.note),
            source="observation", severity="normal" if line.result == "fail" else "minor",
            files=blobs_of(files.get(line.standard_id, [])))
        if person is not None:
            items.assign(uow, result.id, actor, responsible_user_id=person.id,
                         category="deadline", deadline=f"{cycle.finding_deadline_workdays}w")
        created.append(result.id)
    return created
