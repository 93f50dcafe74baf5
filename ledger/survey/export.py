"""A year's village surveys as one .xlsx sheet: one row per village, one column per field.

The township exports its villages, the county all of its villages or one
township's.  Villages without a survey of the year are listed too (status
未填报), so the sheet shows who is missing.  Rows are read in batches
(``yield_per``) and written in XlsxWriter's ``constant_memory`` mode, as the
ledger export does.  Headers are the form's Chinese labels with their units.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger.core import xlsx
from ledger.core.actors import Actor
from ledger.core.models import Unit
from ledger.items.export import local_time
from ledger.survey.fields import FIELDS, Field, display
from ledger.survey.models import Survey
from ledger.survey.queries import MISSING, narrowed_unit, require_reader, villages_below

FIXED_COLUMNS = ("序号", "县（市、区）", "乡镇（街道）", "村（社区）", "区划代码", "年度", "状态",
                 "报送时间", "审核通过时间", "存档时间")
FIXED_WIDTHS = (6, 14, 14, 16, 14, 6, 9, 17, 17, 17)
STATUS_NAMES = {MISSING: "未填报", "draft": "填报中", "submitted": "已报送", "returned": "已退回",
                "accepted": "审核通过", "archived": "已存档"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
BATCH = 1000


def header(field: Field) -> str:
    """``活动场所面积（平方米）``: the label and, where there is one, the unit."""
    return f"{field.label}（{field.unit}）" if field.unit else field.label


@dataclass(frozen=True)
class SurveyExport:
    """What was written: the number of village rows, the year and the unit exported."""

    rows: int
    year: int
    unit_name: str


def export_surveys(session: Session, actor: Actor, year: int, path: str | Path, *,
                   unit_id: object = None, zone: ZoneInfo = SHANGHAI) -> SurveyExport:
    """Write the surveys of ``year`` of the villages below the actor's unit (or below
    ``unit_id``, a township or county of their scope) to ``path``."""
    require_reader(actor)
    unit = narrowed_unit(session, actor, unit_id)
    workbook = xlsx.workbook(path, constant_memory=True, tmpdir=str(Path(path).parent))
    try:
        rows = _write(session, workbook, unit, year, zone)
    finally:
        workbook.close()
    return SurveyExport(rows, year, unit.name)


def _cell(sheet, row: int, col: int, field: Field, value, fmt: dict) -> None:
    if value is None:
        return
    if field.type in ("int", "decimal"):
        sheet.write_number(row, col, value)
    elif field.type == "date":
        sheet.write_datetime(row, col, dt.datetime.fromisoformat(value), fmt["date"])
    else:
        sheet.write_string(row, col, display(field, value))


def _write(session: Session, workbook, unit: Unit, year: int, zone: ZoneInfo) -> int:
    head = workbook.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1,
                                "align": "center", "valign": "vcenter", "text_wrap": True})
    fmt = {"date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
           "moment": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})}
    sheet = workbook.add_worksheet(f"{year}年调查表")
    for col, width in enumerate(FIXED_WIDTHS):
        sheet.set_column(col, col, width)
    first = len(FIXED_COLUMNS)
    sheet.set_column(first, first + len(FIELDS) - 1, 14)
    sheet.set_row(0, 45)
    for col, title in enumerate((*FIXED_COLUMNS, *map(header, FIELDS))):
        sheet.write_string(0, col, title, head)
    sheet.freeze_panes(1, 4)
    county, township = aliased(Unit), aliased(Unit)
    stmt = (select(county.name, township.name, Unit.name, Unit.code, Survey.status,
                   Survey.submitted_at, Survey.accepted_at, Survey.archived_at, Survey.answers)
            .select_from(Unit)
            .join(township, township.id == Unit.township_id)
            .join(county, county.id == Unit.county_id)
            .outerjoin(Survey, (Survey.unit_id == Unit.id) & (Survey.year == year))
            .where(villages_below(unit))
            .order_by(county.code, township.code, Unit.code)
            .execution_options(yield_per=BATCH))
    n = 0
    for n, (cname, tname, vname, code, status, sent, accepted, archived, answers) in enumerate(
            session.execute(stmt), start=1):
        sheet.write_number(n, 0, n)
        for col, text in enumerate((cname, tname, vname, code), start=1):
            sheet.write_string(n, col, text or "")
        sheet.write_number(n, 5, year)
        sheet.write_string(n, 6, STATUS_NAMES.get(status or MISSING, status or ""))
        for col, moment in enumerate((sent, accepted, archived), start=7):
            if moment is not None:
                sheet.write_datetime(n, col, local_time(moment, zone), fmt["moment"])
        answers = answers or {}
        for col, field in enumerate(FIELDS, start=first):
            _cell(sheet, n, col, field, answers.get(field.key), fmt)
    return n
