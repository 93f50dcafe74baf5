"""Helpers shared by the observation tests: open a cycle, fill a record."""

from __future__ import annotations

from sqlalchemy import select

from ledger.core.models import Observation, ObservationLine, ObservationParticipant, Standard
from ledger.observations import record
from ledger.observations import services as obs_svc
from ledger.observations.cycles import open_cycle


def observation_of(sanhu, world, kind: str, period: str, unit: str) -> int:
    with sanhu.uow() as uow:
        cycle = open_cycle(uow, kind, period)
    with sanhu.uow() as uow:
        return uow.session.scalar(select(Observation.id).where(
            Observation.cycle_id == cycle.cycle_id,
            Observation.unit_id == world.units[unit].id))


def standard_ids(sanhu, obs_id: int) -> dict[str, int]:
    """``{"basic:1": standard id, ...}`` of the record's lines."""
    with sanhu.uow() as uow:
        return {f"{s}:{n}": sid for s, n, sid in uow.session.execute(
            select(Standard.set, Standard.number, Standard.id)
            .join(ObservationLine, ObservationLine.standard_id == Standard.id)
            .where(ObservationLine.observation_id == obs_id))}


def fill(sanhu, obs_id: int, actor, *, fails: dict[str, str] | None = None,
         score: float = 90) -> None:
    """Answer the record: ``fails`` ({"basic:3": note}) 不符合, the rest 符合, one score."""
    ids = standard_ids(sanhu, obs_id)
    for key, note in (fails or {}).items():
        with sanhu.uow() as uow:
            record.save_line(uow, obs_id, ids[key], actor, result="fail", note=note)
    with sanhu.uow() as uow:
        record.mark_rest(uow, obs_id, actor)
    with sanhu.uow() as uow:
        pid = uow.session.scalar(select(ObservationParticipant.id).where(
            ObservationParticipant.observation_id == obs_id).limit(1))
    with sanhu.uow() as uow:
        record.save_evaluation(uow, obs_id, pid, actor, score=score)


def start_and_fill(sanhu, obs_id: int, actor, **kw) -> None:
    with sanhu.uow() as uow:
        obs_svc.start(uow, obs_id, actor)
    fill(sanhu, obs_id, actor, **kw)
