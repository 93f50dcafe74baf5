"""Use cases of an observation's lifecycle: start, submit, revise, confirm, reopen.

Each one loads the observation in the actor's scope (``access``), asks the
observation rulebook whether the actor may fire the event now, fires it
through the shared machine, and writes the version-checked change and its
append-only history row in one transaction.  A stale ``expected_version`` or a
concurrent change is a ``Conflict``.

What happens besides the state: ``start`` lays out the checklist and seeds
the participants; ``submit`` needs every counted line answered and one
evaluation score; ``confirm`` freezes the score and records the findings in
the ledger in the same transaction; ``reopen`` unfreezes the score.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert

from ledger.core.actors import Actor
from ledger.core.errors import Conflict, ValidationError
from ledger.core.models import ObservationEvent
from ledger.core.uow import UnitOfWork
from ledger.observations.access import MAX_TEXT, get_observation
from ledger.observations.findings import record_findings
from ledger.observations.record import add_participants, ensure_record
from ledger.observations.sheet import completeness, score_of
from ledger.observations.workflow import RULEBOOK, RULES_BY_EVENT, fire

#: the timestamps each event sets to now (True) or clears (False)
STAMPS = {"start": {"started_at": True}, "submit": {"submitted_at": True},
          "revise": {"submitted_at": False}, "confirm": {"confirmed_at": True},
          "reopen": {"submitted_at": False, "confirmed_at": False}}


@dataclass(frozen=True)
class ObservationResult:
    """What a lifecycle event leaves behind."""

    id: int
    status: str
    version: int
    #: the ledger items a confirmation created
    findings: tuple[int, ...] = ()


def _not_too_long(inputs: dict[str, object]) -> None:
    too_long = {n: "too long" for n, v in inputs.items()
                if isinstance(v, str) and len(v) > MAX_TEXT}
    if too_long:
        raise ValidationError(f"at most {MAX_TEXT} characters", fields=too_long)


def _transition(uow: UnitOfWork, observation_id: object, actor: Actor, event: str, *,
                expected_version: int | None, inputs: dict[str, object] | None = None,
                note: str | None = None) -> ObservationResult:
    """The shared path of every lifecycle event: check, fire, stamp, record, commit."""
    inputs = inputs or {}
    obs = get_observation(uow, observation_id, actor)
    if expected_version is not None and obs.version != expected_version:
        raise Conflict("the observation was changed by someone else; reload and try again",
                       current_version=obs.version, status=obs.status)
    rule = RULES_BY_EVENT[event]
    ctx = uow.context()
    if rule.guards:
        completeness(uow, obs)
    RULEBOOK.require(rule, obs, actor, ctx, inputs)
    _not_too_long(inputs)
    from_status = obs.status
    # read before anything changes: a query would flush the change early
    score = score_of(uow, obs) if event == "confirm" else None
    fire(obs, event, actor, ctx)
    for column, now in STAMPS[event].items():
        setattr(obs, column, ctx.now if now else None)
    findings: list[int] = []
    if score is not None:
        obs.score, obs.score_breakdown = score.total, score.as_dict()
    elif event == "reopen":
        obs.score = obs.score_breakdown = None
    uow.flush()  # the version-checked UPDATE: a concurrent change is a Conflict here
    uow.session.execute(insert(ObservationEvent), [{
        "observation_id": obs.id, "seq": obs.version, "event": event,
        "from_status": from_status, "to_status": obs.status, "actor_id": actor.id,
        "actor_role": actor.role, "at": ctx.now, "note": note}])
    if event == "start":
        ensure_record(uow, obs)
        add_participants(uow, obs, actor)
    elif event == "confirm":
        with uow.one_transaction():
            findings = record_findings(uow, obs, actor)
    uow.commit()
    return ObservationResult(obs.id, obs.status, obs.version, tuple(findings))


def start(uow: UnitOfWork, observation_id: int, actor: Actor, *,
          expected_version: int | None = None) -> ObservationResult:
    """Begin the visit (planned → in progress): the record can now be filled."""
    return _transition(uow, observation_id, actor, "start", expected_version=expected_version)


def submit(uow: UnitOfWork, observation_id: int, actor: Actor, *,
           expected_version: int | None = None) -> ObservationResult:
    """Hand the filled record in for confirmation (in progress → submitted)."""
    return _transition(uow, observation_id, actor, "submit", expected_version=expected_version)


def revise(uow: UnitOfWork, observation_id: int, actor: Actor, *, reason: str,
           expected_version: int | None = None) -> ObservationResult:
    """Take a submitted record back for corrections, saying why."""
    return _transition(uow, observation_id, actor, "revise", expected_version=expected_version,
                       inputs={"reason": reason}, note=reason)


def confirm(uow: UnitOfWork, observation_id: int, actor: Actor, *,
            expected_version: int | None = None) -> ObservationResult:
    """Confirm the record (submitted → confirmed): it is locked from now on."""
    return _transition(uow, observation_id, actor, "confirm", expected_version=expected_version)


def reopen(uow: UnitOfWork, observation_id: int, actor: Actor, *, reason: str,
           expected_version: int | None = None) -> ObservationResult:
    """Reopen a confirmed record (the level above the observer only), saying why."""
    return _transition(uow, observation_id, actor, "reopen", expected_version=expected_version,
                       inputs={"reason": reason}, note=reason)
