"""Who sees an observation, and loading one in the actor's scope.

Staff and supervisors see the observations of units in their subtree; a
village secretary sees their own village's record only once it is confirmed.
Anything else answers ``NotFound``, so its existence does not leak.
"""

from __future__ import annotations

from ledger.core.actors import Actor
from ledger.core.errors import NotFound
from ledger.core.models import Observation, ObservationStatus, Role
from ledger.core.uow import UnitOfWork

#: longest reason, note or text kept
MAX_TEXT = 2000


def may_see(obs: Observation, actor: Actor) -> bool:
    """Scope, and a village secretary only their village's confirmed record."""
    if not actor.sees(obs):
        return False
    if actor.role == Role.VILLAGE_SECRETARY.value:
        return obs.status == ObservationStatus.CONFIRMED.value
    return True


def get_observation(uow: UnitOfWork, observation_id: object, actor: Actor) -> Observation:
    """The observation if ``actor`` may see it, else ``NotFound``."""
    try:
        key = int(observation_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise NotFound("no such observation") from None
    obs = uow.session.get(Observation, key)
    if obs is None or not may_see(obs, actor):
        raise NotFound("no such observation")
    return obs
