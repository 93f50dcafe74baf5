"""The ledger (台账) as an .xlsx workbook in the offices' usual columns (SPEC §11).

``export_ledger`` writes exactly the rows of a filtered, scoped list (all
pages, the list's sort order) without holding them in memory: the rows are
streamed from the database in batches (``yield_per``; a server-side cursor on
PostgreSQL), the names of units, cycles and standards and the evidence counts
are fetched once per batch (and cached), and XlsxWriter's ``constant_memory``
mode flushes every row to disk as soon as the next one starts.  Memory stays
flat however many rows there are.

The headers and labels are fixed Chinese, as the offices' sheets have them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from ledger.core.actors import Actor
from ledger.core.errors import ValidationError
from ledger.core.models import Cycle, Evidence, Item, Standard, Unit, status_of
from ledger.core.xlsx import workbook as xlsx_workbook
from ledger.items.ledger_columns import (
    CATEGORY_NAMES,
    CYCLE_KIND_NAMES,
    HEADERS,
    SET_NAMES,
    SOURCE_NAMES,
    STATUS_NAMES,
    WIDTHS,
)
from ledger.items.queries import SORTS, ItemFilter, days_between, open_predicate, scoped_items

#: the 台账 columns, in order (SPEC §11), shared with the import (``ledger_columns``)
COLUMNS = HEADERS

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: rows per database batch (one evidence count and at most one name query each)
BATCH = 2000
#: an .xlsx sheet holds 1,048,576 rows, the header included
MAX_ROWS = 1_048_575


@dataclass(frozen=True)
class ExportResult:
    """What was written: the number of item rows."""

    rows: int


def _row_statement(session: Session, actor: Actor, flt: ItemFilter, today: dt.date,
                   sort: str, warning_days: int):
    base = scoped_items(session, actor, flt, today, warning_days)
    overdue = and_(open_predicate(session), Item.deadline < today)
    columns = (
        Item.id, Item.number, Item.source, Item.cycle_id, Item.standard_id, Item.unit_id,
        Item.county_id, Item.township_id, Item.village_id, Item.description, Item.measures,
        Item.category, Item.responsible_person, Item.deadline, Item.deadline_provisional,
        Item.state, Item.submitted, Item.closed_at, Item.resolution, Item.rejection_count,
        Item.extension_count, Item.pending_extension,
        case((overdue, days_between(session, literal(today), Item.deadline)),
             else_=None).label("days_overdue"),
    )
    return base, base.with_only_columns(*columns).order_by(*SORTS[sort])


class _Names:
    """Names of units, cycles and standards, fetched for the ids a batch needs, then kept.

    A province has about 26,600 units, 20 cycles and 65 standards: small enough to
    keep, and each is asked for once however many items refer to it.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.units: dict[int, str] = {}
        self.cycles: dict[int, str] = {}
        self.standards: dict[int, str] = {}

    def load(self, rows) -> None:
        units = {r.county_id for r in rows} | {r.township_id for r in rows} \
            | {r.village_id for r in rows}
        missing = [i for i in units if i is not None and i not in self.units]
        if missing:
            self.units.update(self.session.execute(
                select(Unit.id, Unit.name).where(Unit.id.in_(missing))).all())
        missing = [i for i in {r.cycle_id for r in rows}
                   if i is not None and i not in self.cycles]
        if missing:
            for cid, kind, period in self.session.execute(
                    select(Cycle.id, Cycle.kind, Cycle.period).where(Cycle.id.in_(missing))):
                self.cycles[cid] = f"{period} {CYCLE_KIND_NAMES.get(kind, kind)}"
        missing = [i for i in {r.standard_id for r in rows}
                   if i is not None and i not in self.standards]
        if missing:
            for sid, set_, number, title in self.session.execute(
                    select(Standard.id, Standard.set, Standard.number, Standard.title)
                    .where(Standard.id.in_(missing))):
                self.standards[sid] = f"{SET_NAMES.get(set_, set_)} {number} {title}"

    def place(self, row) -> str:
        return "/".join(self.units.get(i, "") for i in (row.county_id, row.township_id,
                                                        row.village_id) if i is not None)


def _evidence_counts(session: Session, ids: list[int]) -> dict[int, int]:
    return dict(session.execute(
        select(Evidence.item_id, func.count()).where(Evidence.item_id.in_(ids))
        .group_by(Evidence.item_id)).all())


def _remarks(row) -> str:
    parts = []
    if row.resolution == "dismissed":
        parts.append("已撤销")
    if row.rejection_count:
        parts.append(f"已退回 {row.rejection_count} 次")
    if row.extension_count:
        parts.append(f"延期 {row.extension_count} 次")
    if row.pending_extension:
        parts.append("延期申请待批")
    if row.deadline_provisional and row.deadline is not None:
        parts.append("时限暂定")
    return ";".join(parts)


def local_time(moment: dt.datetime | None, zone: ZoneInfo) -> dt.datetime | None:
    """A stored instant as the naive local time Excel shows (SQLite returns naive UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


def export_ledger(session: Session, actor: Actor, flt: ItemFilter | None, path: str | Path, *,
                  today: dt.date, zone: ZoneInfo, sort: str = "newest", warning_days: int = 3,
                  limit: int | None = None) -> ExportResult:
    """Write the actor's filtered ledger to ``path`` as .xlsx; the same rows as the list.

    Scope, filter and sort are those of ``queries.list_items``; ``limit`` stops
    after that many rows (the list's first rows).  More rows than a sheet holds
    raise ``ValidationError`` before anything is written.
    """
    flt = flt or ItemFilter()
    if sort not in SORTS:
        raise ValidationError(f"unknown sort {sort!r}", fields={"sort": "unknown"})
    base, stmt = _row_statement(session, actor, flt, today, sort, warning_days)
    if limit is not None:
        stmt = stmt.limit(limit)
    elif session.scalar(select(func.count()).select_from(
            base.limit(MAX_ROWS + 1).subquery())) > MAX_ROWS:
        raise ValidationError("too many rows for one sheet; narrow the filter",
                              fields={"export": "too many rows"})

    # user text is never a formula, a link or a number (ledger.core.xlsx)
    workbook = xlsx_workbook(path, constant_memory=True, tmpdir=str(Path(path).parent))
    try:
        rows = _write_sheet(session, workbook, stmt, zone)
    finally:
        workbook.close()
    return ExportResult(rows)


def _write_sheet(session: Session, workbook, stmt, zone: ZoneInfo) -> int:
    sheet = workbook.add_worksheet("台账")
    head = workbook.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1,
                                "align": "center", "valign": "vcenter", "text_wrap": True})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for col, width in enumerate(WIDTHS):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, COLUMNS, head)

    names = _Names(session)
    text, number = sheet.write_string, sheet.write_number
    r = 0
    result = session.execute(stmt.execution_options(yield_per=BATCH))
    for batch in result.partitions():
        names.load(batch)
        evidence = _evidence_counts(session, [row.id for row in batch])
        for row in batch:
            r += 1
            number(r, 0, r)
            text(r, 1, row.number)
            text(r, 2, SOURCE_NAMES.get(row.source, row.source or ""))
            if row.cycle_id is not None:
                text(r, 3, names.cycles.get(row.cycle_id, ""))
            text(r, 4, names.place(row))
            if row.standard_id is not None:
                text(r, 5, names.standards.get(row.standard_id, ""))
            text(r, 6, row.description or "")
            if row.measures:
                text(r, 7, row.measures)
            if row.category:
                text(r, 8, CATEGORY_NAMES.get(row.category, row.category))
            if row.responsible_person:
                text(r, 9, row.responsible_person)
            if row.deadline is not None:
                sheet.write_datetime(r, 10, row.deadline, day)
            text(r, 11, STATUS_NAMES[status_of(row.state, bool(row.submitted))])
            closed = local_time(row.closed_at, zone)
            if closed is not None:
                sheet.write_datetime(r, 12, closed, moment)
            if row.days_overdue is not None:
                number(r, 13, int(row.days_overdue))
            number(r, 14, evidence.get(row.id, 0))
            remarks = _remarks(row)
            if remarks:
                text(r, 15, remarks)
    if r:
        sheet.autofilter(0, 0, r, len(COLUMNS) - 1)
    return r
