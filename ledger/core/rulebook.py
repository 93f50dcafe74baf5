"""Workflows declared as data, each driven by one shared ``transitions`` machine.

A workflow is a table of ``Rule`` rows: the event, the states it leaves and
enters, the roles that may fire it, where the actor must stand relative to the
object (a *unit rule*), the inputs it needs and its guards.  ``Rulebook`` builds
one machine from the table (``auto_transitions=False``; no machine per object,
nothing registered per object, see LIBRARIES.md) and answers, from the same
table, who may fire what (``refusal``, ``allowed_events``), fires events
(``fire``) and draws the diagram (``mermaid``).  The ledger's items and the
observations each declare their own table and share this code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from transitions import Machine, MachineError

from ledger.core.actors import Actor
from ledger.core.errors import InvalidTransition, PermissionDenied, ValidationError
from ledger.core.uow import Context

#: a guard returns None when satisfied, otherwise the reason for refusal
Guard = Callable[[Any, Actor, Context], str | None]
#: a unit rule says whether the actor stands where the rule needs them
UnitRule = Callable[[Any, Actor], bool]


@dataclass(frozen=True)
class Rule:
    """One event of a workflow: where it applies, who may fire it, what it needs."""

    event: str
    source: tuple[str, ...]
    dest: str | None  # None: the state stays (an internal transition)
    roles: frozenset[str]
    unit_rule: str  # a key of the rulebook's unit rules
    needs: tuple[str, ...] = ()
    guards: tuple[Guard, ...] = ()
    #: changes the machine makes to the object after the event, besides the state
    effects: tuple[Callable[[Any], None], ...] = ()
    label: str = ""
    extra: dict = field(default_factory=dict)


def blank(value: object) -> bool:
    """None, an empty or all-space string, or an empty list counts as not given."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not value
    return False


def require_inputs(inputs: Mapping[str, object], names: Iterable[str]) -> None:
    """``ValidationError`` naming every input of ``names`` that is blank."""
    missing = {n: "required" for n in names if blank(inputs.get(n))}
    if missing:
        raise ValidationError("required input is missing: " + ", ".join(missing), fields=missing)


@dataclass(frozen=True)
class Refusal:
    """Why an event may not be fired: ``kind`` is "role", "unit", "state" or "guard"."""

    kind: str
    reason: str

    @property
    def is_permission(self) -> bool:
        """Role and unit refusals are about who acts; state and guard ones about when."""
        return self.kind in ("role", "unit")


def _condition(guard: Guard) -> Callable:
    def condition(event_data) -> bool:
        kw = event_data.kwargs
        return guard(event_data.model, kw["actor"], kw["ctx"]) is None

    condition.__name__ = guard.__name__
    return condition


def _effect(effect: Callable[[Any], None]) -> Callable:
    def after(event_data) -> None:
        effect(event_data.model)

    return after


class Rulebook:
    """One workflow: its rules, its shared machine and the questions asked of both."""

    def __init__(self, name: str, rules: Iterable[Rule], states: Iterable[str], *,
                 unit_rules: Mapping[str, UnitRule], state_attribute: str = "state",
                 describe: Callable[[Any], str] | None = None) -> None:
        self.name = name
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.states: tuple[str, ...] = tuple(states)
        self.by_event: dict[str, Rule] = {r.event: r for r in self.rules}
        self.events: tuple[str, ...] = tuple(self.by_event)
        self.unit_rules = dict(unit_rules)
        self.state_attribute = state_attribute
        #: the status shown in refusals (items show their 待验收 sub-step)
        self.describe = describe or (lambda obj: getattr(obj, state_attribute))
        unknown = {r.unit_rule for r in self.rules} - set(self.unit_rules)
        if unknown:
            raise ValueError(f"{name}: rules name unknown unit rules {sorted(unknown)}")
        self.machine = self.build()

    def build(self, machine_class: type[Machine] = Machine, **kwargs) -> Machine:
        """A machine built from the rules (the shared one, or one for a diagram tool)."""
        transitions = []
        for rule in self.rules:
            spec: dict = {"trigger": rule.event, "source": list(rule.source), "dest": rule.dest,
                          "conditions": [_condition(g) for g in rule.guards]}
            if rule.effects:
                spec["after"] = [_effect(e) for e in rule.effects]
            transitions.append(spec)
        return machine_class(model=None, states=list(self.states), transitions=transitions,
                             initial=None, auto_transitions=False, send_event=True,
                             model_attribute=self.state_attribute, **kwargs)

    def unit_rule_holds(self, rule: Rule, obj: Any, actor: Actor) -> bool:
        return self.unit_rules[rule.unit_rule](obj, actor)

    def refusal(self, rule: Rule, obj: Any, actor: Actor, ctx: Context) -> Refusal | None:
        """Why ``actor`` may not fire ``rule`` on ``obj`` now, or None when they may.

        Scope (whether the actor sees the object at all) is checked by the caller,
        which must answer "not found" rather than give a reason.
        """
        if actor.role not in rule.roles:
            return Refusal("role", f"the role {actor.role} may not {rule.event}")
        if not self.unit_rule_holds(rule, obj, actor):
            return Refusal("unit", f"this {self.name} is not where you may {rule.event}")
        if getattr(obj, self.state_attribute) not in rule.source:
            return Refusal("state", f"{rule.event} is not possible while the {self.name} is "
                                    f"{self.describe(obj)}")
        for guard in rule.guards:
            reason = guard(obj, actor, ctx)
            if reason:
                return Refusal("guard", reason)
        return None

    def require(self, rule: Rule, obj: Any, actor: Actor, ctx: Context,
                inputs: Mapping[str, object]) -> None:
        """Raise ``PermissionDenied`` (who), ``InvalidTransition`` (when) or
        ``ValidationError`` (an input the rule needs is blank)."""
        refused = self.refusal(rule, obj, actor, ctx)
        if refused is not None:
            if refused.is_permission:
                raise PermissionDenied(refused.reason, event=rule.event)
            raise InvalidTransition(refused.reason, event=rule.event, status=self.describe(obj))
        require_inputs(inputs, rule.needs)

    def allowed_events(self, obj: Any, actor: Actor, ctx: Context) -> list[str]:
        """The events this actor may fire on this object now, in declaration order."""
        return [r.event for r in self.rules if self.refusal(r, obj, actor, ctx) is None]

    def fire(self, obj: Any, event: str, actor: Actor, ctx: Context) -> None:
        """Move ``obj`` through the shared machine; raises when the machine refuses.

        Callers check ``refusal`` first; this is the last line of defence, so a
        state change can only ever happen along a declared transition.
        """
        try:
            moved = self.machine.events[event].trigger(obj, actor=actor, ctx=ctx)
        except MachineError as exc:
            raise InvalidTransition(str(exc.value), event=event,
                                    status=self.describe(obj)) from exc
        if not moved:
            raise InvalidTransition(f"{event} refused by a guard", event=event,
                                    status=self.describe(obj))

    def mermaid(self, *, start: tuple[str, str] | None = None, final: Iterable[str] = (),
                notes: Iterable[tuple[str, str]] = (),
                starts: Iterable[tuple[str, str]] = ()) -> str:
        """The state diagram as Mermaid text, generated from the rules.

        ``start`` is the (event, state) that creates an object (``starts`` lists
        more, each with its label), ``final`` the states that end it, ``notes``
        (state, text) pairs shown beside states.
        """
        lines = ["stateDiagram-v2"]
        if start:
            lines.append(f"    [*] --> {start[1]}: {start[0]}")
        lines.extend(f"    [*] --> {state}: {label}" for label, state in starts)
        for rule in self.rules:
            for src in rule.source:
                guard = ""
                if rule.guards:
                    guard = " [" + ", ".join(g.__name__ for g in rule.guards) + "]"
                roles = "/".join(sorted(rule.roles))
                lines.append(f"    {src} --> {rule.dest or src}: {rule.event} ({roles}){guard}")
        lines.extend(f"    {state} --> [*]" for state in final)
        lines.extend(f"    note right of {state}: {text}" for state, text in notes)
        return "\n".join(lines)
