"""The 台账 columns (SPEC §11), defined once for the export and the import.

``LEDGER_COLUMNS`` names each column by a key, its Chinese header as the
offices' sheets (and our export) write it, the English header the import also
accepts, its width in the export and whether an import needs it.  The export
writes the headers and widths from here; the import reads headers through
``aliases`` and keeps a row's cells under the keys.  The label tables turn the
stored values into the Chinese words the sheets use, and back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LedgerColumn:
    """One column of the ledger sheet."""

    key: str
    header: str
    english: str
    width: int
    #: an import refuses a file without this column
    required: bool = False
    #: computed by Sanhu (row number, days overdue, evidence count): read, never imported
    derived: bool = False

    @property
    def aliases(self) -> tuple[str, ...]:
        return (self.header, self.english, self.key)


LEDGER_COLUMNS: tuple[LedgerColumn, ...] = (
    LedgerColumn("row", "序号", "No.", 6, derived=True),
    LedgerColumn("number", "问题编号", "Number", 22),
    LedgerColumn("source", "问题来源", "Source", 9),
    LedgerColumn("cycle", "观摩周期", "Cycle", 20),
    LedgerColumn("unit", "县/乡/村", "Unit", 24, required=True),
    LedgerColumn("standard", "对应标准", "Standard", 30),
    LedgerColumn("description", "问题描述", "Description", 48, required=True),
    LedgerColumn("measures", "整改措施", "Measures", 40),
    LedgerColumn("category", "整改类别", "Category", 10),
    LedgerColumn("person", "责任人", "Responsible person", 10),
    LedgerColumn("deadline", "整改时限", "Deadline", 12),
    LedgerColumn("status", "整改状态", "Status", 14, required=True),
    LedgerColumn("closed_at", "销号时间", "Closed at", 17),
    LedgerColumn("days_overdue", "逾期天数", "Days overdue", 9, derived=True),
    LedgerColumn("evidence", "佐证材料数", "Evidence files", 10, derived=True),
    LedgerColumn("remarks", "备注", "Remarks", 22),
)
COLUMN_KEYS: tuple[str, ...] = tuple(c.key for c in LEDGER_COLUMNS)
HEADERS: tuple[str, ...] = tuple(c.header for c in LEDGER_COLUMNS)
WIDTHS: tuple[int, ...] = tuple(c.width for c in LEDGER_COLUMNS)
REQUIRED: tuple[str, ...] = tuple(c.key for c in LEDGER_COLUMNS if c.required)
#: the cells that say what an item is (a re-import compares these)
CONTENT_KEYS: tuple[str, ...] = tuple(c.key for c in LEDGER_COLUMNS if not c.derived)

SOURCE_NAMES = {"observation": "观摩", "inspection": "督查暗访", "patrol": "巡察",
                "self_check": "自查", "other": "其他", "rectification": "整顿"}
CATEGORY_NAMES = {"immediate": "立行立改", "deadline": "限期整改", "long_term": "长期坚持"}
STATUS_NAMES = {"found": "已发现", "assigned": "已交办", "rectifying": "整改中",
                "submitted": "整改中·待验收", "verified": "已验收", "closed": "已销号"}
SET_NAMES = {"basic": "基本标准", "demonstration": "示范标准"}
CYCLE_KIND_NAMES = {"village_quarterly": "村级季度观摩", "township_half_yearly": "乡镇半年观摩"}
