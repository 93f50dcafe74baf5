"""The funds table (以奖代补) of a cycle and observing unit as one .xlsx sheet.

Columns 序号, 单位, 排名, 类别, 得分, 奖补金额（元）, one row per ranked unit in rank
order, then a 合计 row and a line saying whether the table is approved (审定) or
still a draft, and which ranking version it was computed from. Written with
XlsxWriter in ``constant_memory`` mode to a file the caller streams, like the
other exports. Headers and labels are fixed Chinese, as the offices' sheets have them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ledger.core import xlsx
from ledger.core.actors import Actor
from ledger.core.errors import NotFound
from ledger.core.models import Cycle, FundsPlan, Ranking, Unit
from ledger.core.uow import UnitOfWork
from ledger.items.export import local_time
from ledger.results import funds
from ledger.results.funds_rules import total_of

COLUMNS = ("序号", "单位", "排名", "类别", "得分", "奖补金额（元）")
WIDTHS = (6, 24, 6, 8, 9, 16)
CLASS_NAMES = {"demonstration": "示范", "middle": "中间", "lagging": "后进"}
KIND_NAMES = {"class": "按类别", "band": "按名次段", "pool": "按得分分配资金池"}


@dataclass(frozen=True)
class FundsExport:
    """What was written: the number of unit rows, the cycle's period and the unit's name."""

    rows: int
    period: str
    unit_name: str


def export_funds(uow: UnitOfWork, ranking_id: object, actor: Actor, path: str | Path, *,
                 zone: ZoneInfo) -> FundsExport:
    """Write the funds table of a published ranking's cycle and observing unit to
    ``path`` (anyone who may read the ranking may download it)."""
    seen = funds.view(uow, ranking_id, actor)
    if seen.plan is None:
        raise NotFound("no funds rule has been saved")
    workbook = xlsx.workbook(path, constant_memory=True, tmpdir=str(Path(path).parent))
    try:
        _write(uow.session, workbook, seen.plan, seen.cycle, seen.unit, seen.rows, zone)
    finally:
        workbook.close()
    return FundsExport(len(seen.rows), seen.cycle.period, seen.unit.name)


def _write(session: Session, workbook, plan: FundsPlan, cycle: Cycle, unit: Unit,
           rows: list[dict], zone: ZoneInfo) -> None:
    head = workbook.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1,
                                "align": "center", "valign": "vcenter", "text_wrap": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    score = workbook.add_format({"num_format": "0.00"})
    bold = workbook.add_format({"bold": True})
    bold_money = workbook.add_format({"bold": True, "num_format": "#,##0.00"})
    sheet = workbook.add_worksheet("以奖代补")
    for col, width in enumerate(WIDTHS):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, COLUMNS, head)
    n = 0
    for n, row in enumerate(rows, start=1):
        sheet.write_number(n, 0, n)
        sheet.write_string(n, 1, row["name"])
        sheet.write_number(n, 2, row["rank"])
        sheet.write_string(n, 3, CLASS_NAMES.get(row["klass"], ""))
        if row["score"] is not None:
            sheet.write_number(n, 4, row["score"], score)
        sheet.write_number(n, 5, float(row["amount"]), money)
    sheet.write_string(n + 1, 1, "合计", bold)
    sheet.write_number(n + 1, 5, float(total_of(rows)), bold_money)
    ranking = session.get(Ranking, plan.ranking_id)
    if plan.status == funds.APPROVED:
        state = f"已审定（{local_time(plan.approved_at, zone):%Y-%m-%d %H:%M}）"
    else:
        state = "草稿，未审定"
    sheet.write_string(n + 3, 0, f"{unit.name} {cycle.period} 以奖代补 · "
                                 f"{KIND_NAMES[plan.rule['kind']]} · {state} · "
                                 f"依据排名第 {ranking.number} 版")
