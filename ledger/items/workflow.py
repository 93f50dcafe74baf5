"""The ledger workflow, declared as data in one place.

States, events, who may fire each event, what input it needs and which guards
apply are all in ``RULES``.  One shared ``transitions`` machine (``RULEBOOK``)
is built from the same table with ``auto_transitions=False`` and fired as
``RULEBOOK.events[name].trigger(item, ...)``: no machine per item, nothing
registered per object (see LIBRARIES.md).  ``allowed_events`` and
``workflow_mermaid`` read the same table, so the pages, the diagram and the
services can never disagree.

Unit rules: ``own`` means the actor belongs to the item's responsible unit
(the village secretary of that village); ``above`` means the item lies inside
the actor's subtree and below the actor's own unit (staff of the township or
county in charge, supervisors).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from transitions import Machine, MachineError

from ledger.core.actors import Actor
from ledger.core.errors import InvalidTransition
from ledger.core.models import Item, Role, State
from ledger.core.uow import Context

F, A, R, V, C = (
    State.FOUND.value,
    State.ASSIGNED.value,
    State.RECTIFYING.value,
    State.VERIFIED.value,
    State.CLOSED.value,
)


#: a guard returns None when satisfied, otherwise the reason for refusal
Guard = Callable[[Item, Actor, Context], str | None]


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


@dataclass(frozen=True)
class Rule:
    """One event of the workflow: where it applies, who may fire it, what it needs."""

    event: str
    source: tuple[str, ...]
    dest: str | None  # None: the state stays (an internal transition)
    roles: frozenset[str]
    unit_rule: str  # "own" or "above"
    needs: tuple[str, ...] = ()
    guards: tuple[Guard, ...] = ()
    #: the submitted sub-step after the event: True, False, or None (unchanged)
    submitted_after: bool | None = None
    label: str = ""
    extra: dict = field(default_factory=dict)


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

RULES: tuple[Rule, ...] = (
    Rule("assign", (F,), A, STAFF, "above",
         ("responsible_user_id", "category", "deadline"), label="assign (交办)"),
    Rule("reassign", (A,), A, COUNTY, "above",
         ("responsible_user_id", "reason"), label="reassign (改派)"),
    Rule("accept", (A,), R, RESPONSIBLE, "own", ("measures",), label="accept (签收)"),
    Rule("report_progress", (R,), None, RESPONSIBLE, "own", ("note",),
         (not_submitted,), label="report progress (报告进展)"),
    Rule("submit", (R,), None, RESPONSIBLE, "own", ("note", "evidence"),
         (not_submitted,), submitted_after=True, label="submit as resolved (申请销号)"),
    Rule("verify", (R,), V, STAFF, "above", ("method", "note"),
         (is_submitted, not_the_submitter), submitted_after=False, label="verify (验收)"),
    Rule("reject", (R,), None, STAFF, "above", ("reason",),
         (is_submitted, not_the_submitter), submitted_after=False, label="reject (退回)"),
    Rule("close", (V,), C, COUNTY, "above", (), label="close (销号)"),
    Rule("reopen", (C,), R, frozenset({Role.COUNTY_STAFF.value, Role.SUPERVISOR.value}),
         "above", ("reason",), (within_follow_up,), submitted_after=False,
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

RULES_BY_EVENT: dict[str, Rule] = {r.event: r for r in RULES}
EVENTS: tuple[str, ...] = tuple(RULES_BY_EVENT)
STATES: tuple[str, ...] = tuple(s.value for s in State)


def _machine_condition(guard: Guard) -> Callable:
    def condition(event_data) -> bool:
        kw = event_data.kwargs
        return guard(event_data.model, kw["actor"], kw["ctx"]) is None

    condition.__name__ = guard.__name__
    return condition


def _set_submitted(value: bool) -> Callable:
    def after(event_data) -> None:
        event_data.model.submitted = value

    return after


def _machine_transitions() -> list[dict]:
    out = []
    for rule in RULES:
        spec: dict = {
            "trigger": rule.event,
            "source": list(rule.source),
            "dest": rule.dest,
            "conditions": [_machine_condition(g) for g in rule.guards],
        }
        if rule.submitted_after is not None:
            spec["after"] = [_set_submitted(rule.submitted_after)]
        out.append(spec)
    return out


def build_rulebook(machine_class: type[Machine] = Machine, **kwargs) -> Machine:
    """The shared machine built from ``RULES`` (also used for the diagram)."""
    return machine_class(
        model=None,
        states=list(STATES),
        transitions=_machine_transitions(),
        initial=None,
        auto_transitions=False,
        send_event=True,
        **kwargs,
    )


RULEBOOK: Machine = build_rulebook()


def unit_rule_holds(rule: Rule, item: Item, actor: Actor) -> bool:
    if rule.unit_rule == "own":
        return item.unit_id == actor.unit_id
    return actor.is_above(item)


@dataclass(frozen=True)
class Refusal:
    """Why an event may not be fired: ``kind`` is "role", "unit", "state" or "guard"."""

    kind: str
    reason: str

    @property
    def is_permission(self) -> bool:
        """Role and unit refusals are about who acts; state and guard ones about when."""
        return self.kind in ("role", "unit")


def refusal(rule: Rule, item: Item, actor: Actor, ctx: Context) -> Refusal | None:
    """Why ``actor`` may not fire ``rule`` on ``item`` now, or None when they may.

    Scope (whether the actor sees the item at all) is checked by the caller,
    which must answer "not found" rather than give a reason.
    """
    if actor.role not in rule.roles:
        return Refusal("role", f"the role {actor.role} may not {rule.event}")
    if not unit_rule_holds(rule, item, actor):
        return Refusal("unit", f"this item is not where you may {rule.event}")
    if item.state not in rule.source:
        return Refusal("state", f"{rule.event} is not possible while the item is {item.status}")
    for guard in rule.guards:
        reason = guard(item, actor, ctx)
        if reason:
            return Refusal("guard", reason)
    return None


def allowed_events(item: Item, actor: Actor, ctx: Context) -> list[str]:
    """The events this actor may fire on this item now, in declaration order."""
    if not actor.sees(item):
        return []
    return [r.event for r in RULES if refusal(r, item, actor, ctx) is None]


def fire(item: Item, event: str, actor: Actor, ctx: Context) -> None:
    """Move ``item`` through the shared machine; raises when the machine refuses.

    Callers check ``refusal`` first; this is the last line of defence, so a
    state change can only ever happen along a declared transition.
    """


    try:
        moved = RULEBOOK.events[event].trigger(item, actor=actor, ctx=ctx)
    except MachineError as exc:
        raise InvalidTransition(str(exc.value), event=event, status=item.status) from exc
    if not moved:
        raise InvalidTransition(f"{event} refused by a guard", event=event, status=item.status)


def workflow_mermaid() -> str:
    """The state diagram as Mermaid text, generated from ``RULES``."""
    lines = ["stateDiagram-v2", f"    [*] --> {F}: record"]
    for rule in RULES:
        for src in rule.source:
            dest = rule.dest or src
            guard = ""
            if rule.guards:
                guard = " [" + ", ".join(g.__name__ for g in rule.guards) + "]"
            roles = "/".join(sorted(rule.roles))
            lines.append(f"    {src} --> {dest}: {rule.event} ({roles}){guard}")
    lines.append(f"    {C} --> [*]")
    lines.append(f"    note right of {R}: submitted = 整改中·待验收 (until verify or reject)")
    return "\n".join(lines)
