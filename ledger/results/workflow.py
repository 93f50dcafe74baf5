"""A ranking's approval and publication, declared as data beside the other workflows.

draft → approved (by a staff member of the observing unit who did not compute it,
once every target is ranked or excused) → published (公示); ``revise`` takes an
approved ranking back to draft. A published ranking is read-only: a correction
is a new version (``rankings.correct``) and the old one becomes superseded when
the new one is published.
"""

from __future__ import annotations

from ledger.core.actors import Actor
from ledger.core.models import Ranking, RankingStatus, Report, ReportStatus, Role
from ledger.core.rulebook import Rule, Rulebook
from ledger.core.uow import Context

D, A, P, X = (RankingStatus.DRAFT.value, RankingStatus.APPROVED.value,  # noqa: E741
              RankingStatus.PUBLISHED.value, RankingStatus.SUPERSEDED.value)
STATES = (D, A, P, X)
STAFF = frozenset({Role.TOWNSHIP_STAFF.value, Role.COUNTY_STAFF.value})


def is_observer(ranking: Ranking, actor: Actor) -> bool:
    return actor.unit_id == ranking.observing_unit_id


def not_the_author(ranking: Ranking, actor: Actor, ctx: Context) -> str | None:
    if actor.id == ranking.computed_by_id:
        return "nobody approves a ranking they computed"
    return None


def every_target_ranked(ranking: Ranking, actor: Actor, ctx: Context) -> str | None:
    """Set by the service before asking: targets neither confirmed nor excused."""
    if ranking.missing is None:
        return "the ranking has not been counted"
    if ranking.missing:
        return f"{ranking.missing} targets are neither confirmed nor excused"
    return None


RULES = (
    Rule("approve", (D,), A, STAFF, "observer", guards=(not_the_author, every_target_ranked),
         label="approve (审定)"),
    Rule("revise", (A,), D, STAFF, "observer", ("reason",), label="revise (退回修改)"),
    Rule("publish", (A,), P, STAFF, "observer", label="publish (公示)"),
)
RULEBOOK = Rulebook("ranking", RULES, STATES, state_attribute="status",
                    unit_rules={"observer": is_observer})
RULES_BY_EVENT = RULEBOOK.by_event


def ranking_mermaid() -> str:
    return RULEBOOK.mermaid(start=("compute", D), final=(P,),
                            notes=((P, "read-only; a corrected version, once published, "
                                       "supersedes it"),))


# --- upward reports (报送) ------------------------------------------------------------

RD, RS, RR, RC = (ReportStatus.DRAFT.value, ReportStatus.SUBMITTED.value,  # noqa: E741
                  ReportStatus.RETURNED.value, ReportStatus.RECEIVED.value)
REPORT_STATES = (RD, RS, RR, RC)
ABOVE = frozenset({Role.COUNTY_STAFF.value, Role.CITY_STAFF.value})


def is_reporter(report: Report, actor: Actor) -> bool:
    return actor.unit_id == report.unit_id


def is_receiver(report: Report, actor: Actor) -> bool:
    return actor.unit_id == report.to_unit_id


REPORT_RULES = (
    Rule("submit", (RD, RR), RS, STAFF, "reporter", ("cover_note",), label="submit (报送)"),
    Rule("receive", (RS,), RC, ABOVE, "receiver", label="receive (签收)"),
    Rule("return", (RS,), RR, ABOVE, "receiver", ("note",), label="return (退回)"),
)
REPORT_RULEBOOK = Rulebook("report", REPORT_RULES, REPORT_STATES, state_attribute="status",
                           unit_rules={"reporter": is_reporter, "receiver": is_receiver})


def report_mermaid() -> str:
    return REPORT_RULEBOOK.mermaid(start=("open", RD), final=(RC,),
                                   notes=((RS, "the snapshot is locked"),))
