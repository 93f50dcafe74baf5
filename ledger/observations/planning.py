"""Planning a cycle's observations (细化观摩方案): the plan, groups, batches, schedule,
liaisons (分包联系), themes and the cycle's settings.

The observing unit of a cycle writes its own plan: each township for the
villages of a ``village_quarterly`` cycle, each county for the townships of a
``township_half_yearly`` one.  Its staff split the targets into groups (who
observes) and batches (on which day); every target gets a group and a date.
The level above reads the plan (``plan_of(..., observing_unit_id=...)``) but
never writes it.  Anything outside the actor's scope answers ``NotFound``.

Assigning a group or a batch to a target is a plain UPDATE of two columns,
not a lifecycle event: it does not bump the observation's version, so a page
showing the start button does not go stale because someone scheduled it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, select, true, update
from sqlalchemy.orm import Session

from ledger.core.actors import Actor
from ledger.core.db import dialect_insert
from ledger.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ledger.core.models import (
    AppSetting,
    Cycle,
    CycleKind,
    Level,
    Liaison,
    Observation,
    ObservationBatch,
    ObservationFile,
    ObservationGroup,
    ObservationGroupMember,
    ObservationPlan,
    ObservationStatus,
    Role,
    Unit,
    User,
)
from ledger.core.uow import UnitOfWork
from ledger.observations.access import MAX_TEXT
from ledger.observations.cycles import OBSERVING_LEVEL, period_bounds
from ledger.observations.record import Saved

#: the plan's texts, in the order of the 细化观摩方案
PLAN_FIELDS = ("goals", "methods", "steps", "rectification", "guidance", "use_of_results")
#: the staff role of each observing level
STAFF_OF = {Level.TOWNSHIP: Role.TOWNSHIP_STAFF, Level.COUNTY: Role.COUNTY_STAFF}
#: targets that may still be given a group or a date
SCHEDULABLE = (ObservationStatus.PLANNED.value, ObservationStatus.IN_PROGRESS.value)
#: longest group, batch or theme name
MAX_NAME = 100
MAX_THEME = 200
MAX_THEMES = 100
MAX_DEADLINE_WORKDAYS = 250

THEMES_KEY = "observation_themes"
DEFAULT_THEMES = ("三会一课", "组织生活会", "主题党日", "党员作用发挥", "“四议两公开”工作法",
                  "党务村务财务公开", "软弱涣散整顿")
#: a unit's first observation focuses on the basics, whatever the cycle's theme
FIRST_THEME = "阵地建设、氛围营造、制度上墙"


# --- read model -------------------------------------------------------------------


@dataclass
class GroupView:
    id: int
    name: str
    #: (user id, display name) of the member users
    members: list[tuple[int, str]]
    outside: list[str]
    targets: int = 0


@dataclass
class BatchView:
    id: int
    name: str
    day: dt.date
    targets: int = 0


@dataclass
class TargetView:
    """One observation of the plan: its target unit, state, group, date and theme."""

    observation_id: int
    unit_id: int
    unit_code: str
    unit_name: str
    status: str
    group_id: int | None
    group_name: str | None
    batch_id: int | None
    batch_name: str | None
    day: dt.date | None
    theme: str | None
    #: the unit's first observation in a cycle of this kind (theme: ``FIRST_THEME``)
    first: bool


@dataclass
class PlanView:
    """Everything the plan page shows for one cycle and observing unit."""

    cycle: Cycle
    unit: Unit
    plan: ObservationPlan | None
    files: list[ObservationFile]
    groups: list[GroupView]
    batches: list[BatchView]
    targets: list[TargetView]
    #: who may be put into a group: the unit's active users and its liaisons
    member_choices: list[tuple[int, str]]
    #: whether the actor may change it (the observing unit's staff) or only read it
    editable: bool
    period_first: dt.date = field(init=False)
    period_last: dt.date = field(init=False)

    def __post_init__(self) -> None:
        self.period_first, self.period_last = period_bounds(self.cycle.kind, self.cycle.period)

    @property
    def without_group(self) -> int:
        return sum(1 for t in self.targets if t.group_id is None)

    @property
    def without_date(self) -> int:
        return sum(1 for t in self.targets if t.batch_id is None)


# --- who plans --------------------------------------------------------------------


def _key(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _cycle(uow: UnitOfWork, cycle_id: object) -> Cycle:
    key = _key(cycle_id)
    cycle = uow.session.get(Cycle, key) if key is not None else None
    if cycle is None:
        raise NotFound("no such cycle")
    return cycle


def _observing_level(cycle: Cycle) -> Level:
    return OBSERVING_LEVEL[CycleKind(cycle.kind)]


def _observes(session: Session, cycle: Cycle, unit_id: int) -> bool:
    return session.scalar(select(Observation.id).where(
        Observation.cycle_id == cycle.id, Observation.observing_unit_id == unit_id).limit(1)
    ) is not None


def observing_unit(uow: UnitOfWork, cycle: Cycle, actor: Actor) -> Unit:
    """The actor's own unit when its staff plan in this cycle (``PermissionDenied`` else)."""
    level = _observing_level(cycle)
    if actor.role != STAFF_OF[level].value or actor.unit_level != level.value:
        raise PermissionDenied("only the observing unit's staff plan its observations",
                               event="plan")
    if not _observes(uow.session, cycle, actor.unit_id):
        raise NotFound("this unit observes nothing in this cycle")
    return uow.session.get(Unit, actor.unit_id)


def _readable_unit(uow: UnitOfWork, cycle: Cycle, actor: Actor, unit_id: object) -> Unit:
    """An observing unit in the actor's scope, for reading its plan."""
    if actor.role == Role.VILLAGE_SECRETARY.value:
        raise PermissionDenied("plans are read by staff", event="plan")
    key = _key(unit_id)
    unit = uow.session.get(Unit, key) if key is not None else None
    if (unit is None or unit.level != _observing_level(cycle).value or not actor.sees(unit)
            or not _observes(uow.session, cycle, unit.id)):
        raise NotFound("no such plan")
    return unit


def _own(uow: UnitOfWork, model, row_id: object, cycle: Cycle, unit: Unit):
    """A group or batch of this cycle and observing unit (``NotFound`` otherwise)."""
    key = _key(row_id)
    row = uow.session.get(model, key) if key is not None else None
    if row is None or row.cycle_id != cycle.id or row.observing_unit_id != unit.id:
        raise NotFound("no such group or batch")
    return row


def _plan(session: Session, cycle: Cycle, unit_id: int) -> ObservationPlan | None:
    return session.scalar(select(ObservationPlan).where(
        ObservationPlan.cycle_id == cycle.id, ObservationPlan.observing_unit_id == unit_id))


def _eligible_members(cycle: Cycle, unit: Unit):
    """Active users of the observing unit, and the county staff who are its liaisons."""
    liaisons = select(Liaison.user_id).where(Liaison.township_id == unit.id)
    own = User.unit_id == unit.id
    liaison = (User.role == Role.COUNTY_STAFF.value) & (User.unit_id == unit.county_id) \
        & User.id.in_(liaisons)
    return select(User.id, User.display_name).where(User.active == true(), own | liaison)


def plan_of(uow: UnitOfWork, cycle_id: object, actor: Actor,
            observing_unit_id: object = None) -> PlanView:
    """The plan of the actor's observing unit in a cycle, or (read-only) of an observing
    unit in the actor's scope: plan, files, groups, batches and targets."""
    session = uow.session
    cycle = _cycle(uow, cycle_id)
    own = observing_unit_id is None or (
        _key(observing_unit_id) == actor.unit_id
        and actor.role == STAFF_OF[_observing_level(cycle)].value)
    unit = (observing_unit(uow, cycle, actor) if own
            else _readable_unit(uow, cycle, actor, observing_unit_id))
    plan = _plan(session, cycle, unit.id)
    files = [] if plan is None else list(session.scalars(select(ObservationFile).where(
        ObservationFile.plan_id == plan.id).order_by(ObservationFile.id)))
    groups = {g.id: GroupView(g.id, g.name, [], [n for n in (g.outside or "").splitlines() if n])
              for g in session.scalars(select(ObservationGroup).where(
                  ObservationGroup.cycle_id == cycle.id,
                  ObservationGroup.observing_unit_id == unit.id).order_by(ObservationGroup.name))}
    for gid, uid, name in session.execute(
            select(ObservationGroupMember.group_id, User.id, User.display_name)
            .join(User, User.id == ObservationGroupMember.user_id)
            .where(ObservationGroupMember.group_id.in_(list(groups) or [-1]))
            .order_by(User.display_name)):
        groups[gid].members.append((uid, name))
    batches = {b.id: BatchView(b.id, b.name, b.day) for b in session.scalars(
        select(ObservationBatch).where(
            ObservationBatch.cycle_id == cycle.id, ObservationBatch.observing_unit_id == unit.id)
        .order_by(ObservationBatch.day, ObservationBatch.name))}
    mine = (Observation.cycle_id == cycle.id) & (Observation.observing_unit_id == unit.id)
    seen_before = set(session.scalars(
        select(Observation.unit_id).join(Cycle, Cycle.id == Observation.cycle_id)
        .where(Cycle.kind == cycle.kind, Cycle.period < cycle.period,
               Observation.unit_id.in_(select(Observation.unit_id).where(mine)))))
    targets = []
    for obs, code, name in session.execute(
            select(Observation, Unit.code, Unit.name).join(Unit, Unit.id == Observation.unit_id)
            .where(mine).order_by(Unit.code)):
        group, batch = groups.get(obs.group_id), batches.get(obs.batch_id)
        if group:
            group.targets += 1
        if batch:
            batch.targets += 1
        first = obs.unit_id not in seen_before
        targets.append(TargetView(
            obs.id, obs.unit_id, code, name, obs.status, obs.group_id,
            group.name if group else None, obs.batch_id, batch.name if batch else None,
            batch.day if batch else None, FIRST_THEME if first else (obs.theme or cycle.theme),
            first))
    choices = [(uid, name) for uid, name in session.execute(
        _eligible_members(cycle, unit).order_by(User.display_name))]
    return PlanView(cycle, unit, plan, files, list(groups.values()), list(batches.values()),
                    targets, choices, editable=own)


# --- the plan's texts and attachments ------------------------------------------------


def _plan_values(plan: ObservationPlan | None) -> dict | None:
    if plan is None:
        return None
    return {**{name: getattr(plan, name) for name in PLAN_FIELDS}, "version": plan.version}


def save_plan(uow: UnitOfWork, cycle_id: object, actor: Actor, *, goals: str | None,
              methods: str | None, steps: str | None, rectification: str | None,
              guidance: str | None, use_of_results: str | None,
              expected_version: object = None) -> Saved:
    """Write the observing unit's plan for a cycle (created on first save).

    ``expected_version`` is the version the form was loaded with (``0``: no
    plan yet); when the plan has moved on since, nothing is saved and the
    ``Conflict`` carries the plan's current texts (``current``).
    """
    given = dict(zip(PLAN_FIELDS, (goals, methods, steps, rectification, guidance,
                                   use_of_results), strict=True))
    texts = {name: (str(v).strip() or None) if v is not None else None
             for name, v in given.items()}
    too_long = {name: "too long" for name, v in texts.items() if v and len(v) > MAX_TEXT}
    if too_long:
        raise ValidationError(f"at most {MAX_TEXT} characters", fields=too_long)
    expected = None
    if expected_version not in (None, ""):
        expected = _key(expected_version)
        if expected is None:
            raise ValidationError("bad version", fields={"version": "not a number"})
    cycle = _cycle(uow, cycle_id)
    unit = observing_unit(uow, cycle, actor)
    plan = _plan(uow.session, cycle, unit.id)
    if expected is not None and (plan.version if plan else 0) != expected:
        current = _plan_values(plan)
        uow.rollback()
        raise Conflict("someone else changed the plan; here is what it says now",
                       current=current)
    if plan is None:
        plan = ObservationPlan(cycle_id=cycle.id, observing_unit_id=unit.id)
        uow.session.add(plan)
    for name, value in texts.items():
        setattr(plan, name, value)
    plan.updated_by_id, plan.updated_at = actor.id, uow.now()
    try:
        uow.commit()
    except Conflict:
        raise Conflict("someone else changed the plan; here is what it says now",
                       current=_plan_values(_plan(uow.session, cycle, unit.id))) from None
    return Saved(plan.id, plan.version)


def attach_plan_file(uow: UnitOfWork, cycle_id: object, actor: Actor, *, data,
                     filename: str) -> int:
    """Attach a document or photo to the plan (an empty plan is created if needed).

    Refused types (and names contradicting the content) raise ``EvidenceRejected``
    before anything is written; the file enters the store only with its row.
    """
    cycle = _cycle(uow, cycle_id)
    unit = observing_unit(uow, cycle, actor)
    staged = uow.evidence.stage(data, filename)
    try:
        plan = _plan(uow.session, cycle, unit.id)
        if plan is None:
            plan = ObservationPlan(cycle_id=cycle.id, observing_unit_id=unit.id,
                                   updated_by_id=actor.id, updated_at=uow.now())
            uow.session.add(plan)
            uow.flush()
        blob = uow.evidence.commit(staged)  # only now, with the row about to commit
        row = ObservationFile(plan_id=plan.id, sha256=blob.sha256, size=blob.size,
                              mime=blob.mime, kind=blob.kind, original_name=staged.name,
                              uploaded_by_id=actor.id, uploaded_at=uow.now())
        uow.session.add(row)
        uow.commit()
    finally:
        uow.evidence.discard(staged)
    return row.id


def plan_file_for_download(uow: UnitOfWork, file_id: object, actor: Actor) -> ObservationFile:
    """A plan's file for someone in the observing unit's subtree or above it (else NotFound)."""
    key = _key(file_id)
    row = uow.session.get(ObservationFile, key) if key is not None else None
    if row is None or row.plan_id is None:
        raise NotFound("no such file")
    plan = uow.session.get(ObservationPlan, row.plan_id)
    unit = uow.session.get(Unit, plan.observing_unit_id)
    own_unit = uow.session.get(Unit, actor.unit_id)
    if not (actor.sees(unit) or getattr(own_unit, f"{unit.level}_id", None) == unit.id):
        raise NotFound("no such file")
    return row


# --- groups and batches ----------------------------------------------------------------


def _name(value: object, field: str = "name") -> str:
    name = str(value or "").strip()
    if not name:
        raise ValidationError("enter a name", fields={field: "required"})
    if len(name) > MAX_NAME:
        raise ValidationError(f"at most {MAX_NAME} characters", fields={field: "too long"})
    return name


def _ids(values: object, field: str) -> list[int]:
    if values is None or values == "":
        return []
    if isinstance(values, (str, int)):
        values = [values]
    ids = [_key(v) for v in values]  # type: ignore[union-attr]
    if None in ids:
        raise ValidationError("unknown id", fields={field: "not a number"})
    return sorted(set(ids))  # type: ignore[arg-type]


def _outside(value: object) -> str | None:
    lines = value.splitlines() if isinstance(value, str) else list(value or [])  # type: ignore
    names = [str(n).strip() for n in lines if str(n).strip()]
    if any(len(n) > MAX_NAME for n in names) or len("\n".join(names)) > MAX_TEXT:
        raise ValidationError("names of at most 100 characters, one per line",
                              fields={"outside": "too long"})
    return "\n".join(names) or None


def _unique_name(uow: UnitOfWork, model, cycle: Cycle, unit: Unit, name: str,
                 row_id: int | None) -> None:
    clash = uow.session.scalar(select(model.id).where(
        model.cycle_id == cycle.id, model.observing_unit_id == unit.id, model.name == name,
        model.id != (row_id or -1)))
    if clash is not None:
        raise ValidationError("this name is already used in the plan",
                              fields={"name": "already used"})


def save_group(uow: UnitOfWork, cycle_id: object, actor: Actor, *, name: str,
               member_ids: object, outside: object, group_id: object = None) -> int:
    """Create or change a group of observers: users of the observing unit, the county
    liaisons of the township, and outside participants by name (one per line)."""
    name = _name(name)
    outside_names = _outside(outside)
    ids = _ids(member_ids, "member_ids")
    if not ids and not outside_names:
        raise ValidationError("a group needs at least one observer",
                              fields={"member_ids": "required"})
    cycle = _cycle(uow, cycle_id)
    unit = observing_unit(uow, cycle, actor)
    group = _own(uow, ObservationGroup, group_id, cycle, unit) if group_id not in (None, "") \
        else None
    eligible = set(uow.session.scalars(
        _eligible_members(cycle, unit).with_only_columns(User.id).where(User.id.in_(ids))))
    if set(ids) - eligible:
        raise ValidationError("members are active users of the observing unit or its liaisons",
                              fields={"member_ids": "unknown member"})
    _unique_name(uow, ObservationGroup, cycle, unit, name, group.id if group else None)
    if group is None:
        group = ObservationGroup(cycle_id=cycle.id, observing_unit_id=unit.id, name=name)
        uow.session.add(group)
    group.name, group.outside = name, outside_names
    uow.flush()
    uow.session.execute(delete(ObservationGroupMember).where(
        ObservationGroupMember.group_id == group.id))
    if ids:
        uow.session.execute(insert(ObservationGroupMember),
                            [{"group_id": group.id, "user_id": uid} for uid in ids])
    uow.commit()
    return group.id


def _delete_assigned(uow: UnitOfWork, model, column, row_id: object, cycle_id: object,
                     actor: Actor, what: str) -> None:
    """Delete a group or batch no started observation uses; planned ones lose it."""
    cycle = _cycle(uow, cycle_id)
    unit = observing_unit(uow, cycle, actor)
    row = _own(uow, model, row_id, cycle, unit)
    table = Observation.__table__
    planned = ObservationStatus.PLANNED.value
    uow.session.execute(update(table).where(table.c[column] == row.id,
                                            table.c.status == planned).values({column: None}))
    if uow.session.scalar(select(func.count()).where(table.c[column] == row.id)):
        uow.rollback()
        raise ValidationError(f"this {what} is used by an observation that has started",
                              fields={column: "in use"})
    if model is ObservationGroup:
        uow.session.execute(delete(ObservationGroupMember).where(
            ObservationGroupMember.group_id == row.id))
    uow.session.delete(row)
    uow.commit()


def delete_group(uow: UnitOfWork, cycle_id: object, actor: Actor, group_id: object) -> None:
    """Delete a group, unless an observation that has started uses it."""
    _delete_assigned(uow, ObservationGroup, "group_id", group_id, cycle_id, actor, "group")


def _day(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValidationError("enter a date (YYYY-MM-DD)", fields={"day": "invalid date"}) \
            from None


def save_batch(uow: UnitOfWork, cycle_id: object, actor: Actor, *, name: str, day: object,
               batch_id: object = None) -> int:
    """Create or change a batch: the day (inside the cycle's period) a set of targets
    is visited."""
    name, day = _name(name), _day(day)
    cycle = _cycle(uow, cycle_id)
    unit = observing_unit(uow, cycle, actor)
    first, last = period_bounds(cycle.kind, cycle.period)
    if not first <= day <= last:
        raise ValidationError(f"the day must fall in {cycle.period} ({first} to {last})",
                              fields={"day": "outside the period"})
    batch = _own(uow, ObservationBatch, batch_id, cycle, unit) if batch_id not in (None, "") \
        else None
    _unique_name(uow, ObservationBatch, cycle, unit, name, batch.id if batch else None)
    if batch is None:
        batch = ObservationBatch(cycle_id=cycle.id, observing_unit_id=unit.id)
        uow.session.add(batch)
    batch.name, batch.day = name, day
    uow.commit()
    return batch.id


def delete_batch(uow: UnitOfWork, cycle_id: object, actor: Actor, batch_id: object) -> None:
    """Delete a batch, unless an observation that has started uses it."""
    _delete_assigned(uow, ObservationBatch, "batch_id", batch_id, cycle_id, actor, "batch")


def schedule(uow: UnitOfWork, cycle_id: object, actor: Actor, observation_ids: object, *,
             group_id: object = None, batch_id: object = None) -> int:
    """Give the unit's targets a group and/or a batch; returns how many were changed.

    Only the observing unit's own targets (others: ``NotFound``), and only while
    planned or in progress; all or nothing.
    """
    ids = _ids(observation_ids, "observation_ids")
    if not ids:
        raise ValidationError("choose the observations", fields={"observation_ids": "required"})
    if group_id in (None, "") and batch_id in (None, ""):
        raise ValidationError("choose a group or a batch", fields={"group_id": "required"})
    cycle = _cycle(uow, cycle_id)
    unit = observing_unit(uow, cycle, actor)
    values = {}
    if group_id not in (None, ""):
        values["group_id"] = _own(uow, ObservationGroup, group_id, cycle, unit).id
    if batch_id not in (None, ""):
        values["batch_id"] = _own(uow, ObservationBatch, batch_id, cycle, unit).id
    table = Observation.__table__
    mine = (table.c.cycle_id == cycle.id) & (table.c.observing_unit_id == unit.id) \
        & table.c.id.in_(ids)
    states = dict(uow.session.execute(select(table.c.id, table.c.status).where(mine)).all())
    if len(states) != len(ids):
        raise NotFound("no such observation")
    if any(s not in SCHEDULABLE for s in states.values()):
        raise ValidationError("submitted and confirmed observations keep their group and date",
                              fields={"observation_ids": "already submitted or confirmed"})
    changed = uow.session.execute(update(table).where(mine, table.c.status.in_(SCHEDULABLE))
                                  .values(values)).rowcount
    if changed != len(ids):
        uow.rollback()
        raise Conflict("some of these observations changed meanwhile; reload and try again")
    uow.commit()
    return changed


# --- liaisons (分包联系) -------------------------------------------------------------------


@dataclass(frozen=True)
class LiaisonView:
    user_id: int
    display_name: str
    township_id: int
    township_code: str
    township_name: str
    assigned_at: dt.datetime


def _liaison_township(uow: UnitOfWork, actor: Actor, township_id: object) -> Unit:
    if actor.role not in (Role.COUNTY_STAFF.value, Role.ADMIN.value):
        raise PermissionDenied("liaisons are assigned by county staff or an admin",
                               event="liaison")
    key = _key(township_id)
    unit = uow.session.get(Unit, key) if key is not None else None
    if unit is None or unit.level != Level.TOWNSHIP.value or not actor.sees(unit):
        raise NotFound("no such township")
    return unit


def assign_liaison(uow: UnitOfWork, actor: Actor, *, user_id: object,
                   township_id: object) -> bool:
    """Assign a county staff member as liaison to a township of their county; True when new."""
    township = _liaison_township(uow, actor, township_id)
    key = _key(user_id)
    user = uow.session.get(User, key) if key is not None else None
    if (user is None or not user.active or user.role != Role.COUNTY_STAFF.value
            or user.unit_id != township.county_id):
        raise ValidationError("a liaison is an active county staff member of the township's "
                              "county", fields={"user_id": "not county staff of this county"})
    ins = dialect_insert(uow.session, Liaison.__table__).values(
        user_id=user.id, township_id=township.id, assigned_by_id=actor.id,
        assigned_at=uow.now()).on_conflict_do_nothing(index_elements=["user_id", "township_id"])
    created = uow.session.execute(ins.execution_options(preserve_rowcount=True)).rowcount == 1
    uow.commit()
    return created


def remove_liaison(uow: UnitOfWork, actor: Actor, *, user_id: object,
                   township_id: object) -> None:
    """End a liaison; observations they already joined keep them as participants."""
    township = _liaison_township(uow, actor, township_id)
    row = uow.session.get(Liaison, (_key(user_id) or -1, township.id))
    if row is None:
        raise NotFound("no such liaison")
    uow.session.delete(row)
    uow.commit()


def liaisons_of(uow: UnitOfWork, actor: Actor) -> list[LiaisonView]:
    """The liaisons of the townships in the actor's scope, by township."""
    rows = uow.session.execute(
        select(Liaison.user_id, User.display_name, Unit.id, Unit.code, Unit.name,
               Liaison.assigned_at)
        .join(User, User.id == Liaison.user_id).join(Unit, Unit.id == Liaison.township_id)
        .where(actor.scope_clause(Unit)).order_by(Unit.code, User.display_name))
    return [LiaisonView(*row) for row in rows]


# --- themes ------------------------------------------------------------------------------


def themes(session: Session) -> list[str]:
    """The theme list the admin keeps (the defaults until it is edited)."""
    value = session.scalar(select(AppSetting.value).where(AppSetting.key == THEMES_KEY))
    return list(value) if isinstance(value, list) and value else list(DEFAULT_THEMES)


def save_themes(uow: UnitOfWork, actor: Actor, themes: object) -> list[str]:
    """Replace the theme list (admin only): one theme per entry or line, duplicates dropped."""
    if actor.role != Role.ADMIN.value:
        raise PermissionDenied("only an admin keeps the theme list", event="themes")
    entries = themes.splitlines() if isinstance(themes, str) else list(themes or [])  # type: ignore
    cleaned = list(dict.fromkeys(str(t).strip() for t in entries if str(t).strip()))
    if not cleaned:
        raise ValidationError("enter at least one theme", fields={"themes": "required"})
    if len(cleaned) > MAX_THEMES or any(len(t) > MAX_THEME for t in cleaned):
        raise ValidationError(f"at most {MAX_THEMES} themes of {MAX_THEME} characters",
                              fields={"themes": "too long"})
    now = uow.now()
    ins = dialect_insert(uow.session, AppSetting.__table__).values(
        key=THEMES_KEY, value=cleaned, updated_at=now)
    uow.session.execute(ins.on_conflict_do_update(
        index_elements=["key"], set_={"value": ins.excluded.value, "updated_at": now}))
    uow.commit()
    return cleaned


def theme_for(uow: UnitOfWork, obs: Observation) -> str | None:
    """The observation's theme: ``FIRST_THEME`` for a unit never observed in an earlier
    cycle of this kind, else its own theme or the cycle's."""
    cycle = uow.session.get(Cycle, obs.cycle_id)
    earlier = uow.session.scalar(
        select(Observation.id).join(Cycle, Cycle.id == Observation.cycle_id)
        .where(Observation.unit_id == obs.unit_id, Cycle.kind == cycle.kind,
               Cycle.period < cycle.period).limit(1))
    return FIRST_THEME if earlier is None else (obs.theme or cycle.theme)


# --- the cycle's settings ---------------------------------------------------------------


def _whole(value: object, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, float) and not value.is_integer():
        raise ValueError
    number = int(str(value).strip()) if isinstance(value, str) else int(value)  # type: ignore
    if not low <= number <= high:
        raise ValueError
    return number


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def save_cycle_settings(uow: UnitOfWork, cycle_id: object, actor: Actor, *, theme: str | None,
                        checklist_weight: object, findings_include_partial: object,
                        finding_deadline_workdays: object) -> Cycle:
    """The cycle's theme, the checklist's share of the score (0–100, the evaluation gets
    the rest), whether 基本符合 lines become findings, and the findings' deadline in
    working days (1–250, or none: not assigned at once).  City staff or an admin."""
    if actor.role not in (Role.CITY_STAFF.value, Role.ADMIN.value):
        raise PermissionDenied("the city sets a cycle's rules", event="cycle_settings")
    errors: dict[str, str] = {}
    theme = str(theme).strip() if theme is not None else ""
    if len(theme) > MAX_THEME:
        errors["theme"] = "too long"
    weight = deadline = None
    try:
        weight = _whole(checklist_weight, 0, 100)
    except (TypeError, ValueError):
        errors["checklist_weight"] = "a whole number from 0 to 100"
    if finding_deadline_workdays not in (None, ""):
        try:
            deadline = _whole(finding_deadline_workdays, 1, MAX_DEADLINE_WORKDAYS)
        except (TypeError, ValueError):
            errors["finding_deadline_workdays"] = \
                f"a whole number of working days from 1 to {MAX_DEADLINE_WORKDAYS}"
    if errors:
        raise ValidationError("check the cycle's settings", fields=errors)
    cycle = _cycle(uow, cycle_id)
    cycle.theme = theme or None
    cycle.checklist_weight = weight
    cycle.findings_include_partial = _flag(findings_include_partial)
    cycle.finding_deadline_workdays = deadline
    uow.commit()
    return cycle
