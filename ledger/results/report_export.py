"""An upward report (报送) as .xlsx: a cover sheet, the ranking and the ledger figures.

Written from the snapshot dict (``ledger.results.reports.build_snapshot``), so a
submitted report exports exactly what was sent. The report is small (one row
per village of a township or township of a county), so it is built in memory.
"""

from __future__ import annotations

import io

from ledger.core import xlsx
from ledger.core.models import Report

CLASS_NAMES = {"demonstration": "示范", "middle": "中间", "lagging": "后进"}
STATUS_NAMES = {"draft": "填报中", "submitted": "已报送", "returned": "已退回",
                "received": "已签收"}
FIGURE_COLUMNS = ("序号", "单位", "区划代码", "发现问题", "已销号", "整改率(%)", "逾期未整改",
                  "回头看重开")
RANKING_COLUMNS = ("排名", "单位", "区划代码", "得分", "类别", "说明")


def _figure_row(n: object, name: str, code: str, f: dict) -> list:
    return [n, name, code, f["found"], f["closed"],
            "" if f["rate"] is None else f["rate"], f["overdue"], f["reopened"]]


def to_xlsx(snapshot: dict, report: Report | None) -> bytes:
    """The workbook's bytes."""
    out = io.BytesIO()
    book = xlsx.workbook(out, in_memory=True)
    bold = book.add_format({"bold": True})
    title = book.add_format({"bold": True, "font_size": 14})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})

    cover = book.add_worksheet("报送")
    cover.set_column(0, 0, 16)
    cover.set_column(1, 1, 60)
    level = "季度" if snapshot["kind"] == "village_quarterly" else "半年"
    cover.write(0, 0, f"{snapshot['unit']['name']} {snapshot['period']} {level}报送", title)
    lines = [("报送单位", snapshot["unit"]["name"]),
             ("报送至", (snapshot.get("to") or {}).get("name", "")),
             ("期间", f"{snapshot['first']} 至 {snapshot['last']}"),
             ("数据截至", snapshot["as_of"]),
             ("状态", STATUS_NAMES.get(report.status, "") if report else "未开始"),
             ("截止日期", report.due_on.isoformat() if report else ""),
             ("报送次数", report.submissions if report else 0),
             ("说明", (report.cover_note or "") if report else "")]
    for i, (label, value) in enumerate(lines, start=2):
        cover.write(i, 0, label, bold)
        cover.write(i, 1, value, wrap)

    sheet = book.add_worksheet("排名")
    sheet.set_column(1, 1, 24)
    sheet.set_column(2, 2, 16)
    sheet.set_column(5, 5, 40)
    ranking = snapshot.get("ranking")
    if ranking is None:
        sheet.write(0, 0, "本期排名尚未公示")
    else:
        sheet.write_row(0, 0, RANKING_COLUMNS, bold)
        for i, r in enumerate(ranking["rows"], start=1):
            sheet.write_row(i, 0, [r["rank"] if r["rank"] is not None else "", r["name"],
                                   r["code"], "" if r["score"] is None else r["score"],
                                   CLASS_NAMES.get(r["klass"] or "", ""),
                                   r["excused"] or ""])

    figures = book.add_worksheet("整改情况")
    figures.set_column(1, 1, 24)
    figures.set_column(2, 2, 16)
    figures.write_row(0, 0, FIGURE_COLUMNS, bold)
    for i, f in enumerate(snapshot["figures"], start=1):
        figures.write_row(i, 0, _figure_row(i, f["name"], f["code"], f))
    figures.write_row(len(snapshot["figures"]) + 1, 0,
                      _figure_row("合计", "", "", snapshot["total"]), bold)
    book.close()
    return out.getvalue()
