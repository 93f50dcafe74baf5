"""The ledger workflow, declared as data in one place.

States, events, who may fire each event, what input it needs and which guards
apply are all in ``RULES``.  ``RULEBOOK`` (a ``ledger.core.rulebook.Rulebook``,
shared with the observation workflow) builds one ``transitions`` machine from
the table with ``auto_transitions=False`` and fires events on it: no machine
per item, nothing registered per object (see LIBRARIES.md).  ``allowed_events`` and
``workflow_mermaid`` read the same table, so the pages, the diagram and the
services can never disagree.

Unit rules: ``own`` means the actor belongs to the item's responsible unit
(the village secretary of that village); ``above`` means the item lies inside
the actor's subtree and below the actor's own unit (staff of the township or
county in charge, supervisors).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ledger.core.actors import Actor
from ledger.core.models import Item, Role, State
from ledger.core.rulebook import Rule, Rulebook
from ledger.core.uow import Context

F, A, R, V, C = (
    State.FOUND.value,
    State.ASSIGNED.value,
    State.RECTIFYING.value,
    State.VERIFIED.value,
    State.CLOSED.value,
)


def not_submitted(item: Item, actor: Actor, ctx: Context) -> str | None:
    return "the item is waiting for verification" if item.submitted else None


def is_submitted(item: Item, actor: Actor, ctx: Context) -> str | None:
    return None if item.submitted else "the item has not been submitted for verification"


def not_the_submitter(item: Item, actor: Actor, ctx: Context) -> str | None:
    return "nobody may verify their own submission" if item.submitted_by_id == actor.id else None


def within_follow_up(item: Item, actor: Actor, ctx: Context) -> str | None:
    if item.resolution != "rectified" or item.closed_at is None:
        return "only items closed as rectified can be reopened"
    closed = item.closed_at if item.closed_at.tzinfo else item.closed_at.replace(tzinfo=dt.UTC)
    if ctx.now - closed > dt.timedelta(days=ctx.follow_up_days):
        return "the follow-up window has passed"
    return None


def no_pending_extension(item: Item, actor: Actor, ctx: Context) -> str | None:
    return "an extension request is already pending" if item.pending_extension else None


def has_pending_extension(item: Item, actor: Actor, ctx: Context) -> str | None:
    return None if item.pending_extension else "there is no pending extension request"


def before_deadline(item: Item, actor: Actor, ctx: Context) -> str | None:
    if item.deadline is not None and ctx.today > item.deadline:
        return "an extension must be requested before the deadline"
    return None


def mark_submitted(item: Item) -> None:
    item.submitted = True


def clear_submitted(item: Item) -> None:
    item.submitted = False


STAFF = frozenset({Role.COUNTY_STAFF.value, Role.TOWNSHIP_STAFF.value})
COUNTY = frozenset({Role.COUNTY_STAFF.value})
#: who rectifies: the village secretary for a village's item; for an item against a
#: township (from a county's half-yearly observation), that township's own staff.
#: The "own" unit rule keeps township staff off their villages' items.
RESPONSIBLE = frozenset({Role.VILLAGE_SECRETARY.value, Role.TOWNSHIP_STAFF.value})
#: unit levels a finding (and its responsible unit) may be at
ITEM_LEVELS = frozenset({"township", "village"})

#: who may record a finding (create an item in ``found``), against a unit below them
RECORD_ROLES = frozenset({*STAFF, Role.SUPERVISOR.value})

#: who may bring existing ledger sheets in (导入台账): county staff for their county, admins
IMPORT_ROLES = frozenset({Role.COUNTY_STAFF.value, Role.ADMIN.value})


@dataclass(frozen=True)
class Creation:
    """An event that creates an item (no machine transition: there is no state before)."""

    event: str
    states: tuple[str, ...]
    roles: frozenset[str]
    label: str = ""


RULES: tuple[Rule, ...] = (
    Rule("assign", (F,), A, STAFF, "above",
         ("responsible_user_id", "category", "deadline"), label="assign (交办)"),
    Rule("reassign", (A,), A, COUNTY, "above",
         ("responsible_user_id", "reason"), label="reassign (改派)"),
    Rule("accept", (A,), R, RESPONSIBLE, "own", ("measures",), label="accept (签收)"),
    Rule("report_progress", (R,), None, RESPONSIBLE, "own", ("note",),
         (not_submitted,), label="report progress (报告进展)"),
    Rule("submit", (R,), None, RESPONSIBLE, "own", ("note", "evidence"),
         (not_submitted,), effects=(mark_submitted,), label="submit as resolved (申请销号)"),
    Rule("verify", (R,), V, STAFF, "above", ("method", "note"),
         (is_submitted, not_the_submitter), effects=(clear_submitted,), label="verify (验收)"),
    Rule("reject", (R,), None, STAFF, "above", ("reason",),
         (is_submitted, not_the_submitter), effects=(clear_submitted,), label="reject (退回)"),
    Rule("close", (V,), C, COUNTY, "above", (), label="close (销号)"),
    Rule("reopen", (C,), R, frozenset({Role.COUNTY_STAFF.value, Role.SUPERVISOR.value}),
         "above", ("reason",), (within_follow_up,), effects=(clear_submitted,),
         label="reopen (回头看)"),
    Rule("request_extension", (A, R), None, RESPONSIBLE, "own", ("deadline", "reason"),
         (not_submitted, no_pending_extension, before_deadline),
         label="request extension (申请延期)"),
    Rule("approve_extension", (A, R), None, COUNTY, "above", (),
         (has_pending_extension,), label="approve extension (批准延期)"),
    Rule("deny_extension", (A, R), None, COUNTY, "above", ("reason",),
         (has_pending_extension,), label="deny extension (驳回延期)"),
    Rule("dismiss", (F,), C, COUNTY, "above", ("reason",), label="dismiss (撤销)"),
)

STATES: tuple[str, ...] = tuple(s.value for s in State)

#: how items come to be: recorded as a finding, or imported from a ledger sheet in the
#: state the sheet records, with one history entry that carries the row as it was
CREATIONS: tuple[Creation, ...] = (
    Creation("record", (F,), RECORD_ROLES, label="record (登记)"),
    Creation("import", STATES, IMPORT_ROLES, label="import (导入台账)"),
)
CREATIONS_BY_EVENT: dict[str, Creation] = {c.event: c for c in CREATIONS}
#: the item workflow: its shared machine, refusals and diagram (``ledger.core.rulebook``)
RULEBOOK = Rulebook(
    "item", RULES, STATES,
    unit_rules={"own": lambda item, actor: item.unit_id == actor.unit_id,
                "above": lambda item, actor: actor.is_above(item)},
    describe=lambda item: item.status)
RULES_BY_EVENT: dict[str, Rule] = RULEBOOK.by_event
EVENTS: tuple[str, ...] = RULEBOOK.events
refusal = RULEBOOK.refusal
fire = RULEBOOK.fire


def allowed_events(item: Item, actor: Actor, ctx: Context) -> list[str]:
    """The events this actor may fire on this item now, in declaration order."""
    if not actor.sees(item):
        return []
    return RULEBOOK.allowed_events(item, actor, ctx)


def workflow_mermaid() -> str:
    """The state diagram as Mermaid text, generated from ``RULES``."""
    starts = [(f"{c.event} ({'/'.join(sorted(c.roles))})", state)
              for c in CREATIONS for state in c.states]
    return RULEBOOK.mermaid(starts=starts, final=(C,),
                            notes=((R, "submitted = 整改中·待验收 (until verify or reject)"),))

