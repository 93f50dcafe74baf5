"""Reading a record: the checklist by category, what is still open, the score,
the previous observation of the same unit (因村制宜) and the items found.

One module answers all of these so the page, the confirmation, the exports
and the benchmark count the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ledger.core.models import (
    Cycle,
    Item,
    Observation,
    ObservationFile,
    ObservationLine,
    ObservationParticipant,
    ObservationSection,
    ObservationStatus,
    Pair,
    Standard,
    Unit,
    UnitClass,
    status_of,
)
from ledger.core.uow import UnitOfWork
from ledger.observations import scoring

FAILED = ("fail",)


@dataclass
class LineView:
    """A checklist line with its standard, as pages and exports show it."""

    id: int
    standard_id: int
    set: str
    number: int
    category_key: str
    category: str
    title: str
    text: str
    result: str | None
    note: str | None
    deduction: float | None
    version: int
    counted: bool = True
    failed_last_time: bool = False
    files: list = field(default_factory=list)

    @property
    def standard_key(self) -> str:
        return f"{self.set}:{self.number}"

    @property
    def repeat(self) -> bool:
        """Failed again: the same standard failed on the previous observation."""
        return self.failed_last_time and self.result in FAILED

    def as_score_line(self) -> scoring.Line:
        return scoring.Line(self.standard_key, self.category_key, self.result, self.deduction,
                            self.counted)


@dataclass
class Group:
    key: str
    name: str
    lines: list[LineView]

    @property
    def open(self) -> int:
        return sum(1 for line in self.lines if line.counted and line.result is None)


@dataclass
class Previous:
    """The unit's previous confirmed observation in a cycle of the same kind."""

    observation: Observation
    period: str
    failed: list[LineView]
    items: dict[int, dict]  # standard id → item number and status
    #: the unit's class in that cycle, once its ranking is published
    klass: str | None = None
    #: the unit it was paired with after that cycle (互帮), and whether it was the 后进 side
    paired_with: str | None = None
    learning: bool = False


def lines_of(uow: UnitOfWork, obs: Observation) -> list[LineView]:
    """The record's lines in catalog order, marking those a selective mode leaves out."""
    rows = uow.session.execute(
        select(ObservationLine, Standard)
        .join(Standard, Standard.id == ObservationLine.standard_id)
        .where(ObservationLine.observation_id == obs.id)
        .order_by(Standard.set, Standard.number)).all()
    chosen = set(obs.categories or []) if obs.mode == "selective" else None
    views = []
    for line, std in rows:
        key = f"{std.set}:{std.category_number}"
        views.append(LineView(line.id, std.id, std.set, std.number, key, std.category,
                              std.title, std.text, line.result, line.note, line.deduction,
                              line.version, counted=chosen is None or key in chosen))
    return views


def evaluations_of(uow: UnitOfWork, obs: Observation) -> list[float]:
    return [s for s in uow.session.scalars(select(ObservationParticipant.score).where(
        ObservationParticipant.observation_id == obs.id)) if s is not None]


def score_of(uow: UnitOfWork, obs: Observation, lines: list[LineView] | None = None
             ) -> scoring.Score:
    """The score as it stands (the frozen one of a confirmed record is on the row)."""
    lines = lines if lines is not None else lines_of(uow, obs)
    cycle = uow.session.get(Cycle, obs.cycle_id)
    return scoring.compute([line.as_score_line() for line in lines], evaluations_of(uow, obs),
                           cycle.checklist_weight, scoring.load_rules(uow.session))


def completeness(uow: UnitOfWork, obs: Observation) -> tuple[int, int]:
    """(lines still open, evaluation scores given); also set on ``obs`` for the guard."""
    open_lines = sum(1 for line in lines_of(uow, obs) if line.counted and line.result is None)
    evaluations = len(evaluations_of(uow, obs))
    obs.open_lines, obs.evaluations = open_lines, evaluations
    return open_lines, evaluations


def previous_of(uow: UnitOfWork, obs: Observation) -> Previous | None:
    """The last confirmed observation of the same unit in an earlier cycle of this kind."""
    cycle = uow.session.get(Cycle, obs.cycle_id)
    row = uow.session.execute(
        select(Observation, Cycle.period).join(Cycle, Cycle.id == Observation.cycle_id)
        .where(Observation.unit_id == obs.unit_id, Cycle.kind == cycle.kind,
               Cycle.period < cycle.period,
               Observation.status == ObservationStatus.CONFIRMED.value)
        .order_by(Cycle.period.desc()).limit(1)).first()
    if row is None:
        return None
    before, period = row
    failed = [line for line in lines_of(uow, before) if line.counted and line.result in FAILED]
    items = {
        sid: {"id": iid, "number": number, "status": status_of(state, submitted)}
        for sid, iid, number, state, submitted in uow.session.execute(
            select(Item.standard_id, Item.id, Item.number, Item.state, Item.submitted)
            .where(Item.observation_id == before.id))}
    klass = uow.session.scalar(select(UnitClass.klass).where(
        UnitClass.cycle_id == before.cycle_id, UnitClass.unit_id == before.unit_id))
    pair = uow.session.execute(select(Pair).where(
        Pair.cycle_id == before.cycle_id,
        (Pair.lagging_unit_id == before.unit_id) | (Pair.partner_unit_id == before.unit_id))
        .limit(1)).scalar()
    paired_with, learning = None, False
    if pair is not None:
        learning = pair.lagging_unit_id == before.unit_id
        other = pair.partner_unit_id if learning else pair.lagging_unit_id
        paired_with = uow.session.scalar(select(Unit.name).where(Unit.id == other))
    return Previous(before, period, failed, items, klass, paired_with, learning)


def mark_repeats(lines: list[LineView], previous: Previous | None) -> None:
    if previous is None:
        return
    keys = {line.standard_key for line in previous.failed}
    for line in lines:
        line.failed_last_time = line.standard_key in keys


def groups_of(lines: list[LineView], mode: str) -> list[Group]:
    """Lines by category in catalog order; a pushing observation starts with last time's
    failures."""
    groups: dict[str, Group] = {}
    first: list[LineView] = []
    for line in lines:
        if mode == "pushing" and line.failed_last_time:
            first.append(line)
            continue
        groups.setdefault(line.category_key, Group(line.category_key, line.category, []))
        groups[line.category_key].lines.append(line)
    out = list(groups.values())
    if first:
        out.insert(0, Group("previous", "", first))
    return out


def items_of(uow: UnitOfWork, obs: Observation) -> list[dict]:
    """The ledger items that came from this observation, with their live status."""
    rows = uow.session.execute(
        select(Item.id, Item.number, Item.standard_id, Item.state, Item.submitted,
               Item.description, Item.deadline)
        .where(Item.observation_id == obs.id).order_by(Item.id)).all()
    return [{"id": r.id, "number": r.number, "standard_id": r.standard_id,
             "status": status_of(r.state, r.submitted), "description": r.description,
             "deadline": r.deadline} for r in rows]


@dataclass
class Sheet:
    """Everything the observation page shows of the record."""

    lines: list[LineView]
    groups: list[Group]
    sections: dict[str, ObservationSection]
    participants: list[ObservationParticipant]
    files: list[ObservationFile]
    previous: Previous | None
    items: list[dict]
    score: scoring.Score

    @property
    def open(self) -> int:
        return sum(g.open for g in self.groups)


def sheet_of(uow: UnitOfWork, obs: Observation) -> Sheet:
    lines = lines_of(uow, obs)
    previous = previous_of(uow, obs)
    mark_repeats(lines, previous)
    files = uow.session.scalars(select(ObservationFile).where(
        ObservationFile.observation_id == obs.id).order_by(ObservationFile.id)).all()
    by_standard: dict[int, list] = {}
    for f in files:
        if f.standard_id is not None:
            by_standard.setdefault(f.standard_id, []).append(f)
    for line in lines:
        line.files = by_standard.get(line.standard_id, [])
    sections = {s.name: s for s in uow.session.scalars(select(ObservationSection).where(
        ObservationSection.observation_id == obs.id))}
    participants = uow.session.scalars(select(ObservationParticipant).where(
        ObservationParticipant.observation_id == obs.id).order_by(
        ObservationParticipant.id)).all()
    return Sheet(lines, groups_of(lines, obs.mode), sections, list(participants), list(files),
                 previous, items_of(uow, obs), score_of(uow, obs, lines))
