"""The observation workflow, declared as data beside the ledger's.

planned → in_progress → submitted → confirmed (locked); ``revise`` takes a
submitted record back for corrections, ``reopen`` takes a confirmed one back,
by the level above the observing unit only and with a reason.  The table is
driven by the shared ``ledger.core.rulebook.Rulebook``, so ``allowed_events``,
the services, the history and ``sanhu workflow --mermaid --observation`` all
read ``RULES``.

Unit rules: ``observer`` means the actor belongs to the observing unit (the
township for a village, the county for a township); ``above_observer`` means
the actor belongs to the unit directly above it (the county for a township's
record, the city for a county's).
"""

from __future__ import annotations

from ledger.core.actors import Actor
from ledger.core.models import Observation, ObservationStatus, Role
from ledger.core.rulebook import Rule, Rulebook
from ledger.core.uow import Context

P, I, S, C = (ObservationStatus.PLANNED.value,  # noqa: E741  (short names for the table)
              ObservationStatus.IN_PROGRESS.value, ObservationStatus.SUBMITTED.value,
              ObservationStatus.CONFIRMED.value)
STATES: tuple[str, ...] = tuple(s.value for s in ObservationStatus)

#: who observes: township staff their villages, county staff their townships
OBSERVERS = frozenset({Role.TOWNSHIP_STAFF.value, Role.COUNTY_STAFF.value})
#: who may reopen a confirmed record: the level above the observing unit
ABOVE = frozenset({Role.COUNTY_STAFF.value, Role.CITY_STAFF.value})


def target_level(obs: Observation) -> str:
    """The level of the observed unit (its deepest ancestor column that is set)."""
    return "village" if obs.village_id is not None else "township"


#: target level → (level of the observing unit, level directly above it)
LEVELS = {"village": ("township", "county"), "township": ("county", "city")}


def is_observer(obs: Observation, actor: Actor) -> bool:
    return actor.unit_id == obs.observing_unit_id


def is_above_observer(obs: Observation, actor: Actor) -> bool:
    above = LEVELS[target_level(obs)][1]
    return actor.unit_level == above and getattr(obs, f"{above}_id") == actor.unit_id


def record_complete(obs: Observation, actor: Actor, ctx: Context) -> str | None:
    """Every counted checklist line answered and at least one evaluation score given.

    The services count both (``sheet.completeness``) before asking.
    """
    if obs.open_lines is None:
        return "the record has not been counted"
    if obs.open_lines:
        return f"{obs.open_lines} checklist lines are still open"
    if not obs.evaluations:
        return "no participant has given an evaluation score yet"
    return None


RULES: tuple[Rule, ...] = (
    Rule("start", (P,), I, OBSERVERS, "observer", label="start (开始观摩)"),
    Rule("submit", (I,), S, OBSERVERS, "observer", guards=(record_complete,),
         label="submit (提交)"),
    Rule("revise", (S,), I, OBSERVERS, "observer", ("reason",), label="revise (退回修改)"),
    Rule("confirm", (S,), C, OBSERVERS, "observer", label="confirm (确认)"),
    Rule("reopen", (C,), I, ABOVE, "above_observer", ("reason",), label="reopen (重新打开)"),
)

RULEBOOK = Rulebook("observation", RULES, STATES, state_attribute="status",
                    unit_rules={"observer": is_observer, "above_observer": is_above_observer})
RULES_BY_EVENT: dict[str, Rule] = RULEBOOK.by_event
EVENTS: tuple[str, ...] = RULEBOOK.events
refusal = RULEBOOK.refusal
fire = RULEBOOK.fire


def allowed_events(obs: Observation, actor: Actor, ctx: Context) -> list[str]:
    """The events this actor may fire on this observation now, in declaration order."""
    if not actor.sees(obs):
        return []
    return RULEBOOK.allowed_events(obs, actor, ctx)


def observation_mermaid() -> str:
    """The observation state diagram as Mermaid text, generated from ``RULES``."""
    return RULEBOOK.mermaid(start=("open cycle", P), final=(C,),
                            notes=((C, "locked: reopened only by the level above, with a reason"),))
