"""The survey's lifecycle, declared as data beside the items' and the observations'.

draft → submitted (the village's secretary) → returned with a note (its
township's staff) → resubmitted → accepted (the township) → archived (its
county's staff).  ``save`` changes the answers of a draft or returned survey,
by the village's secretary only.  The table is driven by the shared
``ledger.core.rulebook.Rulebook``, so ``allowed_events``, the services, the
history and the diagram all read ``RULES``.

Unit rules: ``own`` — the actor's unit is the surveyed village; ``township`` —
the actor belongs to the village's township; ``county`` — to its county.
"""

from __future__ import annotations

from ledger.core.actors import Actor
from ledger.core.models import Role
from ledger.core.rulebook import Rule, Rulebook
from ledger.core.uow import Context
from ledger.survey.fields import missing
from ledger.survey.models import Survey, SurveyStatus

D, S, R, A, X = (SurveyStatus.DRAFT.value, SurveyStatus.SUBMITTED.value,
                 SurveyStatus.RETURNED.value, SurveyStatus.ACCEPTED.value,
                 SurveyStatus.ARCHIVED.value)
STATES: tuple[str, ...] = tuple(s.value for s in SurveyStatus)
#: the states in which the answers may change
EDITABLE = (D, R)

SECRETARY = frozenset({Role.VILLAGE_SECRETARY.value})
TOWNSHIP = frozenset({Role.TOWNSHIP_STAFF.value})
COUNTY = frozenset({Role.COUNTY_STAFF.value})


def is_own(survey: Survey, actor: Actor) -> bool:
    return actor.unit_id == survey.unit_id


def is_township(survey: Survey, actor: Actor) -> bool:
    return actor.unit_level == "township" and survey.township_id == actor.unit_id


def is_county(survey: Survey, actor: Actor) -> bool:
    return actor.unit_level == "county" and survey.county_id == actor.unit_id


def answers_complete(survey: Survey, actor: Actor, ctx: Context) -> str | None:
    """Every required field answered (and those a 是 makes required)."""
    gaps = missing(survey.answers or {})
    return f"{len(gaps)} required answers are missing" if gaps else None


RULES: tuple[Rule, ...] = (
    Rule("save", (D, R), None, SECRETARY, "own", label="save (保存)"),
    Rule("submit", (D,), S, SECRETARY, "own", guards=(answers_complete,), label="submit (报送)"),
    Rule("return", (S,), R, TOWNSHIP, "township", ("note",), label="return (退回修改)"),
    Rule("resubmit", (R,), S, SECRETARY, "own", guards=(answers_complete,),
         label="resubmit (重新报送)"),
    Rule("accept", (S,), A, TOWNSHIP, "township", label="accept (审核通过)"),
    Rule("archive", (A,), X, COUNTY, "county", label="archive (存档)"),
)

RULEBOOK = Rulebook("survey", RULES, STATES, state_attribute="status",
                    unit_rules={"own": is_own, "township": is_township, "county": is_county})
RULES_BY_EVENT: dict[str, Rule] = RULEBOOK.by_event
EVENTS: tuple[str, ...] = RULEBOOK.events
fire = RULEBOOK.fire


def allowed_events(survey: Survey, actor: Actor, ctx: Context) -> list[str]:
    """The events this actor may fire on this survey now, in declaration order."""
    if not actor.sees(survey):
        return []
    return RULEBOOK.allowed_events(survey, actor, ctx)


def survey_mermaid() -> str:
    """The survey state diagram as Mermaid text, generated from ``RULES``."""
    return RULEBOOK.mermaid(start=("open (village_secretary)", D), final=(X,),
                            notes=((X, "kept by the county; read-only"),))
