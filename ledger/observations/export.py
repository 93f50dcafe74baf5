"""Observations as .xlsx workbooks: a cycle's scores, and one record's checklist.

``export_cycle_scores`` writes one row per observation of a cycle in the
actor's scope, streamed like the ledger export (``ledger.items.export``): rows
come from the database in batches (``yield_per``), each batch's line and item
counts are one grouped query each, unit names are fetched once and kept, and
XlsxWriter's ``constant_memory`` mode writes every row out as the next starts.
A province cycle (25,000 observations) takes a few dozen queries in all.

``export_checklist`` writes the record of one observation (the sheet people
sign on paper): the header, the checklist by category, 听查看谈 with 亮点 and
经验总结, and the participants' evaluations.  ``record_of`` gathers the same
content for the printable page, so both always show the same thing.

The headers and labels are fixed Chinese, as the offices' sheets have them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.core import xlsx
from ledger.core.actors import Actor
from ledger.core.errors import NotFound
from ledger.core.models import (
    Cycle,
    Item,
    Observation,
    ObservationLine,
    ObservationStatus,
    Role,
    Standard,
    Unit,
)
from ledger.items.export import CYCLE_KIND_NAMES, SET_NAMES, local_time
from ledger.observations import scoring
from ledger.observations.access import get_observation
from ledger.observations.record import SECTIONS
from ledger.observations.sheet import LineView, Sheet, sheet_of

SCORE_COLUMNS = ("序号", "被观摩单位", "观摩单位", "状态", "模式", "主题", "清单得分", "评议得分",
                 "总分", "不符合项数", "基本符合项数", "问题数", "确认时间", "逾期未完成")
SCORE_WIDTHS = (6, 28, 14, 9, 9, 22, 10, 10, 9, 11, 12, 8, 17, 11)
LINE_COLUMNS = ("类别", "序号", "标准", "结果", "扣分", "说明", "重复问题")
LINE_WIDTHS = (24, 6, 60, 10, 8, 40, 9)
#: the participants' table sits in the checklist's columns (the comment in the wide one)
PARTICIPANT_COLUMNS = ("姓名", "评议得分", "评议意见", "单位")

STATUS_NAMES = {"planned": "计划中", "in_progress": "观摩中", "submitted": "已提交",
                "confirmed": "已确认"}
MODE_NAMES = {"focused": "重点", "selective": "选择性", "pushing": "鞭策性"}
RESULT_NAMES = {"conform": "符合", "partial": "基本符合", "fail": "不符合", "na": "不适用",
                None: "未填"}
SECTION_NAMES = {"listen": "听", "check": "查", "look": "看", "talk": "谈",
                 "highlights": "亮点", "experience": "经验总结"}
#: rows per database batch (one line-count and one item-count query each)
BATCH = 2000
SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIRMED = ObservationStatus.CONFIRMED.value


@dataclass(frozen=True)
class _Reading:
    """What ``access`` and ``sheet`` read through: only a session (exports never write)."""

    session: Session


def cycle_label(cycle: Cycle) -> str:
    """``2026Q4 村级季度观摩``, as the ledger export names cycles."""
    return f"{cycle.period} {CYCLE_KIND_NAMES.get(cycle.kind, cycle.kind)}"


def category_label(line: LineView) -> str:
    return f"{SET_NAMES.get(line.set, line.set)}·{line.category}"


def standard_text(line: LineView) -> str:
    """The standard as the catalog words it (its text usually starts with its title)."""
    return line.text if line.text.startswith(line.title) else f"{line.title}:{line.text}"


def _workbook(path: str | Path) -> xlsx.SafeWorkbook:
    """User text is never a formula, a link or a number (``ledger.core.xlsx``)."""
    return xlsx.workbook(path, constant_memory=True, tmpdir=str(Path(path).parent))


def _formats(workbook) -> dict:
    return {
        "head": workbook.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1,
                                     "align": "center", "valign": "vcenter",
                                     "text_wrap": True}),
        "moment": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "title": workbook.add_format({"bold": True, "font_size": 16}),
        "label": workbook.add_format({"bold": True}),
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
        "section": workbook.add_format({"bold": True, "font_size": 12}),
    }


# --- a cycle's scores ------------------------------------------------------------------


@dataclass(frozen=True)
class ScoresResult:
    """What was written: the number of observation rows and the cycle's period."""

    rows: int
    period: str


class _UnitNames:
    """Unit names fetched for the ids a batch needs, then kept (a province: ~26,600)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.names: dict[int, str] = {}

    def load(self, ids) -> None:
        missing = {i for i in ids if i is not None and i not in self.names}
        if missing:
            self.names.update(self.session.execute(
                select(Unit.id, Unit.name).where(Unit.id.in_(missing))).all())

    def path(self, *ids: int | None) -> str:
        return "/".join(self.names.get(i, "") for i in ids if i is not None)


def _line_counts(session: Session, batch) -> dict[int, dict[str, int]]:
    """Per observation: how many counted lines are 不符合 and 基本符合 (one grouped query)."""
    chosen = {row.id: set(row.categories or []) for row in batch if row.mode == "selective"}
    counts: dict[int, dict[str, int]] = {}
    for oid, result, set_, category, n in session.execute(
            select(ObservationLine.observation_id, ObservationLine.result, Standard.set,
                   Standard.category_number, func.count())
            .join(Standard, Standard.id == ObservationLine.standard_id)
            .where(ObservationLine.observation_id.in_([row.id for row in batch]),
                   ObservationLine.result.in_(scoring.DEDUCTING))
            .group_by(ObservationLine.observation_id, ObservationLine.result, Standard.set,
                      Standard.category_number)):
        if oid in chosen and f"{set_}:{category}" not in chosen[oid]:
            continue  # outside a selective observation's categories: does not count
        mine = counts.setdefault(oid, {})
        mine[result] = mine.get(result, 0) + n
    return counts


def _item_counts(session: Session, cycle_id: int, ids: list[int]) -> dict[int, int]:
    """Ledger items per observation (an observation's items carry its cycle: ix_items_cycle)."""
    return dict(session.execute(
        select(Item.observation_id, func.count())
        .where(Item.cycle_id == cycle_id, Item.observation_id.in_(ids))
        .group_by(Item.observation_id)).all())


def _scores_statement(cycle_id: int, actor: Actor):
    stmt = (select(Observation.id, Observation.unit_id, Observation.observing_unit_id,
                   Observation.county_id, Observation.township_id, Observation.village_id,
                   Observation.status, Observation.mode, Observation.categories,
                   Observation.theme, Observation.score_breakdown, Observation.confirmed_at,
                   Observation.late_at)
            .join(Unit, Unit.id == Observation.unit_id)
            .where(Observation.cycle_id == cycle_id, actor.scope_clause(Observation))
            .order_by(Unit.code, Observation.id))
    if actor.role == Role.VILLAGE_SECRETARY.value:
        stmt = stmt.where(Observation.status == CONFIRMED)  # nothing in progress (access)
    return stmt


def export_cycle_scores(session: Session, cycle_id: int, actor: Actor, path: str | Path, *,
                        zone: ZoneInfo = SHANGHAI) -> ScoresResult:
    """Write the scores of a cycle's observations in the actor's scope to ``path`` (.xlsx).

    One row per observation, in the order of the target units' codes; the
    scores are the frozen ones of confirmed records (blank otherwise).  An
    unknown cycle is ``NotFound``.
    """
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound("no such cycle")
    workbook = _workbook(path)
    try:
        rows = _write_scores(session, workbook, cycle, actor, zone)
    finally:
        workbook.close()
    return ScoresResult(rows, cycle.period)


def _write_scores(session: Session, workbook, cycle: Cycle, actor: Actor, zone: ZoneInfo) -> int:
    fmt = _formats(workbook)
    sheet = workbook.add_worksheet("观摩得分")
    for col, width in enumerate(SCORE_WIDTHS):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, SCORE_COLUMNS, fmt["head"])
    names = _UnitNames(session)
    text, number = sheet.write_string, sheet.write_number
    r = 0
    result = session.execute(_scores_statement(cycle.id, actor).execution_options(
        yield_per=BATCH))
    for batch in result.partitions():
        names.load({i for row in batch for i in (row.county_id, row.township_id,
                                                 row.village_id, row.observing_unit_id)})
        lines = _line_counts(session, batch)
        items = _item_counts(session, cycle.id, [row.id for row in batch])
        for row in batch:
            r += 1
            number(r, 0, r)
            text(r, 1, names.path(row.county_id, row.township_id, row.village_id))
            text(r, 2, names.names.get(row.observing_unit_id, ""))
            text(r, 3, STATUS_NAMES.get(row.status, row.status))
            text(r, 4, MODE_NAMES.get(row.mode, row.mode or ""))
            if row.theme or cycle.theme:
                text(r, 5, row.theme or cycle.theme)
            frozen = row.score_breakdown if row.status == CONFIRMED else None
            for col, key in ((6, "checklist"), (7, "evaluation"), (8, "total")):
                if frozen and frozen.get(key) is not None:
                    number(r, col, frozen[key])
            counts = lines.get(row.id, {})
            number(r, 9, counts.get("fail", 0))
            number(r, 10, counts.get("partial", 0))
            number(r, 11, items.get(row.id, 0))
            confirmed = local_time(row.confirmed_at, zone)
            if confirmed is not None:
                sheet.write_datetime(r, 12, confirmed, fmt["moment"])
            if row.late_at is not None and row.status != CONFIRMED:
                text(r, 13, "是")
    if r:
        sheet.autofilter(0, 0, r, len(SCORE_COLUMNS) - 1)
    return r


# --- one record ---------------------------------------------------------------------------


@dataclass
class Record:
    """Everything the record's checklist export and printable page show."""

    observation: Observation
    cycle: Cycle
    unit_path: list[str]
    observing_unit: str
    sheet: Sheet
    #: total, checklist, evaluation (None: nobody scored), checklist_weight, categories
    score: dict
    #: True: the frozen score of a confirmed record; False: as it stands now
    frozen: bool
    #: standard id → points the line takes off (0 unless 基本符合 or 不符合 and counted)
    deductions: dict[int, float]
    #: category key → category name, for the breakdown
    category_names: dict[str, str]

    @property
    def period_label(self) -> str:
        return cycle_label(self.cycle)

    @property
    def sections(self) -> list[tuple[str, str]]:
        """(section name, text) of 听 查 看 谈 亮点 经验总结, in that order."""
        return [(name, self.sheet.sections[name].body if name in self.sheet.sections else "")
                for name in SECTIONS]

    @property
    def category_deductions(self) -> list[tuple[str, float]]:
        """(category, points it took off after its cap) of the categories that lost points."""
        def order(key: str) -> tuple[str, int]:
            set_, _, number = key.partition(":")
            return set_, int(number) if number.isdigit() else 0

        categories = self.score.get("categories") or {}
        return [(self.category_names.get(key, key), categories[key][1])
                for key in sorted(categories, key=order) if categories[key][1]]

    def result_of(self, line: LineView) -> str | None:
        """The line's result as it counts: a line outside the chosen categories is 不适用."""
        return line.result if line.counted else "na"


def record_of(session: Session, observation_id: object, actor: Actor) -> Record:
    """The record of one observation the actor may see (``NotFound`` otherwise).

    The scope is ``access.get_observation``'s: a village secretary sees their
    village's record only once it is confirmed.
    """
    reading = _Reading(session)
    obs = get_observation(reading, observation_id, actor)
    sheet = sheet_of(reading, obs)
    cycle = session.get(Cycle, obs.cycle_id)
    ids = [i for i in (obs.county_id, obs.township_id, obs.village_id) if i is not None]
    names = dict(session.execute(select(Unit.id, Unit.name).where(
        Unit.id.in_([*ids, obs.observing_unit_id]))).all())
    frozen = obs.status == CONFIRMED and bool(obs.score_breakdown)
    score = dict(obs.score_breakdown) if frozen else sheet.score.as_dict()
    rules = scoring.load_rules(session)
    deductions = {line.standard_id: scoring.line_deduction(line.as_score_line(), rules)
                  for line in sheet.lines}
    category_names = {line.category_key: category_label(line) for line in sheet.lines}
    return Record(obs, cycle, [names.get(i, "") for i in ids],
                  names.get(obs.observing_unit_id, ""), sheet, score, frozen, deductions,
                  category_names)


def export_checklist(session: Session, observation_id: object, actor: Actor, path: str | Path,
                     *, zone: ZoneInfo = SHANGHAI) -> Record:
    """Write one observation's record to ``path`` (.xlsx); ``NotFound`` outside the scope.

    Returns the record written (the web names the download after it).
    """
    record = record_of(session, observation_id, actor)
    workbook = _workbook(path)
    try:
        _write_record(workbook, record, zone)
    finally:
        workbook.close()
    return record


def header_rows(record: Record, zone: ZoneInfo = SHANGHAI) -> list[tuple[str, object]]:
    """The header block: (label, value) of unit, cycle, observer, state, mode, theme, score."""
    obs, score = record.observation, record.score
    categories = ";".join(f"{name} {points:g}" for name, points in record.category_deductions)
    weight = score.get("checklist_weight", record.cycle.checklist_weight)
    rows: list[tuple[str, object]] = [
        ("被观摩单位", "/".join(record.unit_path)),
        ("观摩周期", record.period_label),
        ("观摩单位", record.observing_unit),
        ("状态", STATUS_NAMES.get(obs.status, obs.status)),
        ("模式", MODE_NAMES.get(obs.mode, obs.mode or "")),
        ("主题", obs.theme or record.cycle.theme or ""),
        ("清单得分", score.get("checklist")),
        ("评议得分", score.get("evaluation")),
        ("权重", f"清单 {weight}% / 评议 {100 - weight}%"),
        ("总分", score.get("total")),
        ("分类扣分", categories or "无"),
        ("得分说明", "确认时冻结" if record.frozen else "暂算(尚未确认)"),
    ]
    confirmed = local_time(obs.confirmed_at, zone)
    if confirmed is not None:
        rows.append(("确认时间", confirmed.strftime("%Y-%m-%d %H:%M")))
    return rows


def _tall(sheet, row: int, body: str, per_line: int) -> None:
    """Give a wrapped, merged cell room: Excel does not fit merged rows by itself."""
    lines = sum(max(1, math.ceil(len(part) / per_line)) for part in body.splitlines() or [""])
    if lines > 1:
        sheet.set_row(row, 15 * lines)


def _write_record(workbook, record: Record, zone: ZoneInfo) -> None:
    fmt = _formats(workbook)
    sheet = workbook.add_worksheet("观摩记录表")
    for col, width in enumerate(LINE_WIDTHS):
        sheet.set_column(col, col, width)
    last = len(LINE_COLUMNS) - 1
    text = sheet.write_string
    text(0, 0, "观摩记录表", fmt["title"])
    r = 1
    for label, value in header_rows(record, zone):
        r += 1
        text(r, 0, label, fmt["label"])
        if isinstance(value, int | float):
            sheet.write_number(r, 1, value)
        elif value:
            sheet.merge_range(r, 1, r, last, str(value), fmt["wrap"])
    r += 2
    text(r, 0, "观摩清单", fmt["section"])
    r += 1
    sheet.write_row(r, 0, LINE_COLUMNS, fmt["head"])
    for group in record.sheet.groups:
        for line in group.lines:
            r += 1
            result = record.result_of(line)
            text(r, 0, category_label(line), fmt["wrap"])
            sheet.write_number(r, 1, line.number)
            text(r, 2, standard_text(line), fmt["wrap"])
            text(r, 3, RESULT_NAMES.get(result, result or ""))
            if result in scoring.DEDUCTING:
                sheet.write_number(r, 4, record.deductions.get(line.standard_id, 0.0))
            if line.note:
                text(r, 5, line.note, fmt["wrap"])
            if line.repeat:
                text(r, 6, "是")
    r += 2
    text(r, 0, "听查看谈与亮点", fmt["section"])
    r += 1
    text(r, 0, "环节", fmt["head"])
    sheet.merge_range(r, 1, r, last, "内容", fmt["head"])
    for name, body in record.sections:
        r += 1
        _tall(sheet, r, body, 60)
        text(r, 0, SECTION_NAMES[name], fmt["label"])
        sheet.merge_range(r, 1, r, last, body, fmt["wrap"])
    r += 2
    text(r, 0, "参加人员及评议", fmt["section"])
    r += 1
    sheet.write_row(r, 0, PARTICIPANT_COLUMNS, fmt["head"])
    for person in record.sheet.participants:
        r += 1
        text(r, 0, person.name)
        if person.score is not None:
            sheet.write_number(r, 1, person.score)
        if person.comment:
            text(r, 2, person.comment, fmt["wrap"])
        if person.affiliation:
            text(r, 3, person.affiliation)
