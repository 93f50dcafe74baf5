"""A funds plan's (以奖代补) approval, declared as data beside the ranking's workflow.

draft → approved (by a staff member of the observing unit other than the one who
saved the rule last, while the plan's ranking is still the published one). An
approved plan is frozen: its rule is not saved again and its table not
recomputed. Only when the ranking it was computed from has been superseded by a
corrected publication may the unit ``reopen`` it, with a reason, to compute it
again from the correction.
"""

from __future__ import annotations

from ledger.core.actors import Actor
from ledger.core.models import FundsPlan, FundsStatus
from ledger.core.rulebook import Rule, Rulebook
from ledger.core.uow import Context
from ledger.results.workflow import STAFF

D, A = FundsStatus.DRAFT.value, FundsStatus.APPROVED.value
STATES = (D, A)


def is_observer(plan: FundsPlan, actor: Actor) -> bool:
    return actor.unit_id == plan.unit_id


def not_the_author(plan: FundsPlan, actor: Actor, ctx: Context) -> str | None:
    if actor.id == plan.saved_by_id:
        return "nobody approves a funds rule they saved"
    return None


def ranking_is_current(plan: FundsPlan, actor: Actor, ctx: Context) -> str | None:
    """Set by the service before asking: whether the plan's ranking is still published."""
    if not plan.ranking_current:
        return "the ranking was corrected: save the funds rule again first"
    return None


def ranking_superseded(plan: FundsPlan, actor: Actor, ctx: Context) -> str | None:
    if plan.ranking_current:
        return "an approved funds table is frozen"
    return None


RULES = (
    # an internal transition: saving the rule (and recomputing the table) keeps a draft
    Rule("save", (D,), None, STAFF, "observer", label="save the rule (保存规则)"),
    Rule("approve", (D,), A, STAFF, "observer", guards=(not_the_author, ranking_is_current),
         label="approve (审定)"),
    Rule("reopen", (A,), D, STAFF, "observer", ("reason",), guards=(ranking_superseded,),
         label="reopen after a ranking correction (重新核定)"),
)
RULEBOOK = Rulebook("funds plan", RULES, STATES, state_attribute="status",
                    unit_rules={"observer": is_observer})
RULES_BY_EVENT = RULEBOOK.by_event


def funds_mermaid() -> str:
    return RULEBOOK.mermaid(start=("save", D), final=(A,),
                            notes=((A, "frozen; reopened only when its ranking is corrected"),))
