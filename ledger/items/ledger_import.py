"""Bring existing Excel ledgers (台账) in: read, match, preview, import all or nothing.

A sheet in the 台账 columns (``ledger_columns``; Chinese or English headers,
.xlsx or .csv in UTF-8 or GB18030) is read with the unit and user import's
reading code and caps (``ledger.org.imports``), with larger limits of its own.
Every row is then *matched*, never guessed:

- the unit (县/乡/村) by its code or by its names path (county/township/village,
  the county may be left out) among all units, then checked against the
  importer's scope;
- the standard by "基本标准 N" / "示范标准 N" (what follows is ignored) or by its
  exact title, in the current catalog; the cycle by "2026Q4 村级季度观摩" or a
  period that names one cycle;
- the status by the words of ``STATUS_WORDS``; dates as people type them;
- the responsible person by name among the unit's users who rectify, else kept
  as text with a warning.

``preview`` reports how each row will be read and every problem (line, column,
code); ``import_ledger`` checks again and accepts every row or none: one bad row
and nothing is written.  An accepted file is written in batches of ``BATCH``
rows, each in its own transaction, so a large import shows its progress and
never holds the database's write lock for long (SQLite has one writer); an
import cut short leaves its whole batches, and importing the file again writes
the rest.  An item is created directly in the state the sheet records, with
one history entry (event ``import``, declared in ``workflow.CREATIONS``) that
carries the row as it was: no events are invented.  The sheet's 问题编号 is kept
(a new number is given when there is none, and the row's content is remembered
in ``ImportedRowKey`` so that it too is recognised next time); importing the
same rows again changes nothing, a changed row is refused (change it in Sanhu
instead).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ledger.calendar import dates
from ledger.core.actors import Actor
from ledger.core.db import dialect_insert
from ledger.core.errors import PermissionDenied, ValidationError
from ledger.core.models import (
    Cycle,
    ImportedRowKey,
    Item,
    ItemEvent,
    LedgerImport,
    NumberSequence,
    Standard,
    State,
    Unit,
    User,
    status_of,
)
from ledger.core.uow import UnitOfWork
from ledger.core.xlsx import FORMULA_STARTS, NEUTRAL_PREFIX
from ledger.items.ledger_columns import (
    CATEGORY_NAMES,
    CONTENT_KEYS,
    CYCLE_KIND_NAMES,
    LEDGER_COLUMNS,
    REQUIRED,
    SET_NAMES,
    SOURCE_NAMES,
)
from ledger.items.search import terms
from ledger.items.workflow import CREATIONS_BY_EVENT, ITEM_LEVELS, RULES_BY_EVENT
from ledger.org.imports import ImportRejected, Limits, RowError, _cell, read_rows

#: a ledger sheet is longer and wordier than a list of units
LIMITS = Limits(rows=100_000, columns=40, cell=4_000, xlsx_bytes=400 * 1024 * 1024)
#: rows written per INSERT batch and per transaction
BATCH = 2_000

F, A, R, V, C = (s.value for s in (State.FOUND, State.ASSIGNED, State.RECTIFYING,
                                   State.VERIFIED, State.CLOSED))
#: 整改状态 words → (state, submitted).  已整改 / 整改完成 / 已完成 say the unit has
#: finished, not that anyone checked: they become 整改中·待验收 (awaiting verification).
STATUS_WORDS: dict[str, tuple[str, bool]] = {
    "已发现": (F, False), "发现": (F, False), "待交办": (F, False), "found": (F, False),
    "已交办": (A, False), "交办": (A, False), "待整改": (A, False), "assigned": (A, False),
    "整改中": (R, False), "正在整改": (R, False), "rectifying": (R, False),
    "整改中·待验收": (R, True), "待验收": (R, True), "已整改": (R, True),
    "整改完成": (R, True), "已完成": (R, True), "submitted": (R, True),
    "已验收": (V, False), "验收通过": (V, False), "verified": (V, False),
    "已销号": (C, False), "销号": (C, False), "closed": (C, False),
}
SOURCE_WORDS = {**{v: k for k, v in SOURCE_NAMES.items()}, **{k: k for k in SOURCE_NAMES},
                "督查": "inspection", "暗访": "inspection"}
CATEGORY_WORDS = {**{v: k for k, v in CATEGORY_NAMES.items()},
                  **{k: k for k in CATEGORY_NAMES}}
SET_WORDS = {**{v: k for k, v in SET_NAMES.items()}, **{k: k for k in SET_NAMES}}
#: people who rectify (may be a responsible person): the roles of ``accept``
RESPONSIBLE_ROLES = RULES_BY_EVENT["accept"].roles
PATH_SEPARATORS = re.compile(r"\s*[/／\\]\s*")
STANDARD_REF = re.compile(r"^(基本标准|示范标准|basic|demonstration)\s*(\d{1,3})(?!\d)", re.I)
#: a date as the deadline field reads it (``ledger.calendar.dates``), then a time
_DATE_TIME = re.compile(r"^(.+?)[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")
#: Excel's day numbers of 1955..2119, as a CSV of a date column holds them
_SERIAL = re.compile(r"^\d{5}(\.0+)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


# --- words and dates ---------------------------------------------------------


def _squash(word: str) -> str:
    """Spaces gone, the middle dots and ASCII case unified."""
    return re.sub(r"[\s]+", "", word).replace("・", "·").replace("•", "·").replace(
        "．", "·").lower()


_STATUS_KEYS = {_squash(k): v for k, v in STATUS_WORDS.items()}


def parse_status(word: str) -> tuple[str, bool] | None:
    """(state, submitted) for a 整改状态 word, None when the word is not known."""
    return _STATUS_KEYS.get(_squash(word or ""))


def parse_moment(value: str) -> dt.datetime | None:
    """A date (and time) as people type it, as a naive local time; None when blank.

    The date spellings of the deadline field (2026-12-31, 2026/12/31, 2026.12.31,
    2026年12月31日; ``ledger.calendar.dates``), with an optional time
    ("2026-12-31 10:30"), or an Excel day number.  ``ValueError`` when unreadable.
    """
    text = dates.normalise(value)
    if not text:
        return None
    if _SERIAL.match(text):
        return dt.datetime.combine(_EXCEL_EPOCH + dt.timedelta(days=int(float(text))),
                                   dt.time())
    timed = _DATE_TIME.match(text)
    day, hh, mm, ss = timed.groups() if timed else (text, None, None, None)
    return dt.datetime.combine(dates.parse_written_date(day),
                               dt.time(int(hh or 0), int(mm or 0), int(ss or 0)))


def parse_date(value: str) -> dt.date | None:
    """``parse_moment`` without the time."""
    moment = parse_moment(value)
    return None if moment is None else moment.date()


def sheet_cell(value: object, size: int) -> str:
    """A workbook cell as text: dates as ISO text, an export's neutralised text restored."""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M" if not value.second else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _cell(value, size)


def _text(value: str) -> str:
    """The export writes an apostrophe before text that would be a formula: drop it."""
    if value[:1] == NEUTRAL_PREFIX and value[1:2] in FORMULA_STARTS:
        return value[1:]
    return value


# --- reading -------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """The rows of a file as {column key: text}, and the headers it had that we ignore."""

    records: list[tuple[int, dict[str, str]]]
    extra_columns: list[str]

    def to_json(self) -> bytes:
        """The rows as read, for the confirmation to check again without reading the file."""
        return json.dumps({"records": self.records, "extra": self.extra_columns},
                          ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Sheet:
        loaded = json.loads(data)
        return cls([(line, row) for line, row in loaded["records"]], loaded["extra"])


def read_sheet(filename: str, data: bytes) -> Sheet:
    """Read a ledger sheet; ``ImportRejected`` at once when a required column is missing."""
    rows = read_rows(filename, data, LIMITS, sheet_cell)
    if not rows:
        raise ValidationError("the file is empty", fields={"file": "empty"})
    aliases = {a.strip().lower(): c.key for c in LEDGER_COLUMNS for a in c.aliases}
    index: dict[str, int] = {}
    extra: list[str] = []
    for i, header in enumerate(rows[0][1]):
        key = aliases.get(header.strip().lower())
        if key is None or key in index:
            if header.strip():
                extra.append(header.strip())
            continue
        index[key] = i
    missing = [k for k in REQUIRED if k not in index]
    if missing:
        raise ImportRejected([RowError(1, k, "missing column") for k in missing])
    records = []
    rows.reverse()  # popped from the end, so the cells go as the records come
    rows.pop()
    while rows:
        line, cells = rows.pop()
        if not any(cells):
            continue
        records.append((line, {k: _text(cells[i]) if i < len(cells) else ""
                               for k, i in index.items()}))
    if not records:
        raise ValidationError("the file has no data rows", fields={"file": "empty"})
    return Sheet(records, extra)


# --- matching ------------------------------------------------------------------


@dataclass(slots=True)
class RowPlan:
    """How one row will be read: what it becomes, and what we warn about."""

    line: int
    row: dict[str, str]
    number: str | None = None
    unit_id: int | None = None
    unit_path: str = ""
    unit_code: str = ""
    ancestors: dict[str, int | None] = field(default_factory=dict)
    standard_id: int | None = None
    category_number: int | None = None
    standard_label: str = ""
    cycle_id: int | None = None
    cycle_period: str | None = None
    source: str = "other"
    category: str | None = None
    state: str = F
    submitted: bool = False
    deadline: dt.date | None = None
    closed_at: dt.datetime | None = None
    person_id: int | None = None
    person: str | None = None
    #: short English codes (the web translates them)
    warnings: list[str] = field(default_factory=list)
    #: the same row was imported before: nothing to do
    unchanged: bool = False
    #: a row without a number: its content key (see ``ImportedRowKey``)
    row_key: str | None = None

    @property
    def status(self) -> str:
        return status_of(self.state, self.submitted)


@dataclass(frozen=True)
class Preview:
    """The outcome of reading and matching a file, before anything is written."""

    plans: list[RowPlan]
    errors: list[RowError]
    extra_columns: list[str]
    #: the file as read (``Sheet.to_json`` keeps it for the confirmation)
    sheet: Sheet | None = None

    @property
    def new(self) -> list[RowPlan]:
        return [p for p in self.plans if not p.unchanged]

    @property
    def unchanged(self) -> int:
        return sum(1 for p in self.plans if p.unchanged)


def require_importer(actor: Actor) -> None:
    """County staff (their county) and admins may import ledgers; nobody else."""
    if actor.role not in CREATIONS_BY_EVENT["import"].roles:
        raise PermissionDenied(f"the role {actor.role} may not import ledgers", event="import")


class _Units:
    """Every unit by code and by names path, so a row outside the scope is named as such."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(select(Unit.id, Unit.code, Unit.name, Unit.level, Unit.city_id,
                                      Unit.county_id, Unit.township_id, Unit.village_id)).all()
        self.by_id = {r.id: r for r in rows}
        self.by_code = {r.code: r for r in rows}
        self.by_path: dict[tuple[str, ...], list] = {}
        for r in rows:
            names = self.names(r)
            for start in range(len(names)):  # the county (and city) may be left out
                self.by_path.setdefault(names[start:], []).append(r)

    def names(self, r) -> tuple[str, ...]:
        ids = (r.county_id, r.township_id, r.village_id)
        return tuple(self.by_id[i].name for i in ids if i is not None and i in self.by_id)

    def find(self, text: str, actor: Actor) -> tuple[object | None, str | None]:
        """(unit row, None) or (None, problem code); names in the actor's area come first."""
        if text in self.by_code:
            return self.by_code[text], None
        parts = tuple(p for p in PATH_SEPARATORS.split(text) if p)
        found = self.by_path.get(parts, [])
        if len(found) > 1:
            found = [u for u in found if actor.sees(u)] or found
        if len(found) > 1:
            return None, "ambiguous unit"
        return (found[0], None) if found else (None, "unknown unit")


def _standards(session: Session) -> tuple[dict, dict]:
    from ledger.catalog.standards import current_catalog

    catalog = current_catalog(session)
    if catalog is None:
        return {}, {}
    rows = session.scalars(select(Standard).where(
        Standard.catalog_version_id == catalog.id)).all()
    by_ref = {(s.set, s.number): s for s in rows}
    titles = Counter(s.title for s in rows)
    by_title = {s.title: s for s in rows if titles[s.title] == 1}
    return by_ref, by_title


def _cycles(session: Session) -> dict[str, Cycle | None]:
    out: dict[str, Cycle | None] = {}
    for c in session.scalars(select(Cycle)):
        for label in (f"{c.period} {CYCLE_KIND_NAMES.get(c.kind, c.kind)}", f"{c.period} {c.kind}",
                      f"{c.period}{CYCLE_KIND_NAMES.get(c.kind, c.kind)}"):
            out[label] = c
        out[c.period] = None if c.period in out else c  # a period alone: only if one cycle
    return out


def _chunks(values: Iterable, size: int = 500):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _people(session: Session, unit_ids: set[int]) -> dict[tuple[int, str], list[int]]:
    out: dict[tuple[int, str], list[int]] = {}
    for chunk in _chunks(sorted(unit_ids)):
        for uid, unit_id, name in session.execute(
                select(User.id, User.unit_id, User.display_name).where(
                    User.unit_id.in_(chunk), User.active.is_(True),
                    User.role.in_(sorted(RESPONSIBLE_ROLES)))):
            out.setdefault((unit_id, name.strip()), []).append(uid)
    return out


def _existing(session: Session, numbers: set[str]) -> dict[str, tuple]:
    """Items already holding a number: (id, county id, village id, township id, row imported)."""
    found: dict[str, tuple] = {}
    for chunk in _chunks(sorted(numbers)):
        rows = session.execute(select(Item.id, Item.number, Item.county_id, Item.township_id,
                                      Item.village_id, Item.city_id)
                               .where(Item.number.in_(chunk))).all()
        imported = dict(session.execute(
            select(ItemEvent.item_id, ItemEvent.changes).where(
                ItemEvent.item_id.in_([r.id for r in rows]),
                ItemEvent.event == "import")).all()) if rows else {}
        for r in rows:
            found[r.number] = (r, (imported.get(r.id) or {}).get("row"))
    return found


def _same_row(old: dict | None, new: dict[str, str]) -> bool:
    if old is None:
        return False
    return all((old.get(k) or "") == (new.get(k) or "") for k in CONTENT_KEYS)


class _Checker:
    """Reads and checks rows against what the database holds, collecting every problem."""

    def __init__(self, session: Session, actor: Actor, records) -> None:
        self.session, self.actor = session, actor
        self.units = _Units(session)
        self.by_ref, self.by_title = _standards(session)
        self.cycles = _cycles(session)
        self.errors: list[RowError] = []
        numbers = {r.get("number", "").strip() for _, r in records} - {""}
        self.existing = _existing(session, numbers)
        self.seen_numbers: dict[str, int] = {}
        self.seen_content: Counter[str] = Counter()

    def error(self, line: int, column: str, code: str, value: str = "") -> None:
        self.errors.append(RowError(line, column, code, value))

    def unit(self, plan: RowPlan) -> None:
        text = plan.row.get("unit", "").strip()
        if not text:
            self.error(plan.line, "unit", "required")
            return
        unit, problem = self.units.find(text, self.actor)
        if unit is None:
            self.error(plan.line, "unit", problem, text)
        elif not self.actor.sees(unit):
            self.error(plan.line, "unit", "not in your area", text)
        elif unit.level not in ITEM_LEVELS:
            self.error(plan.line, "unit", "not a township or village", text)
        else:
            plan.unit_id, plan.unit_code = unit.id, unit.code
            plan.unit_path = "/".join(self.units.names(unit))
            plan.ancestors = {"city_id": unit.city_id, "county_id": unit.county_id,
                              "township_id": unit.township_id, "village_id": unit.village_id}

    def standard(self, plan: RowPlan) -> None:
        text = plan.row.get("standard", "").strip()
        if not text:
            return
        match = STANDARD_REF.match(text)
        found = None
        if match:
            found = self.by_ref.get((SET_WORDS[match.group(1).lower()], int(match.group(2))))
        else:
            found = self.by_title.get(text)
        if found is None:
            self.error(plan.line, "standard", "unknown standard", text)
            return
        plan.standard_id, plan.category_number = found.id, found.category_number
        plan.standard_label = f"{SET_NAMES[found.set]} {found.number} {found.title}"

    def words(self, plan: RowPlan) -> None:
        line, row = plan.line, plan.row
        if cycle_text := row.get("cycle", "").strip():
            cycle = self.cycles.get(re.sub(r"\s+", " ", cycle_text))
            if cycle is None:
                self.error(line, "cycle", "unknown cycle", cycle_text)
            else:
                plan.cycle_id, plan.cycle_period = cycle.id, cycle.period
        if source := row.get("source", "").strip():
            plan.source = SOURCE_WORDS.get(source.lower(), "")
            if not plan.source:
                self.error(line, "source", "unknown source", source)
        if category := row.get("category", "").strip():
            plan.category = CATEGORY_WORDS.get(category.lower())
            if plan.category is None:
                self.error(line, "category", "unknown category", category)
        status = parse_status(row.get("status", ""))
        if status is None:
            self.error(line, "status", "unknown status" if row.get("status") else "required",
                       row.get("status", ""))
        else:
            plan.state, plan.submitted = status
        for key in ("deadline", "closed_at"):
            try:
                moment = parse_moment(row.get(key, ""))
            except ValueError:
                self.error(line, key, "unreadable date", row.get(key, ""))
                continue
            if key == "deadline":
                plan.deadline = None if moment is None else moment.date()
            else:
                plan.closed_at = moment
        if status is not None:
            if plan.state == C and plan.closed_at is None and not row.get("closed_at"):
                self.error(line, "closed_at", "a closed item needs its closing time")
            if plan.state != C and plan.closed_at is not None:
                plan.warnings.append("closing time ignored: the item is not closed")
                plan.closed_at = None
            if plan.state in (A, R) and plan.deadline is None and not row.get("deadline"):
                plan.warnings.append("no deadline: the item is never overdue")
        if not row.get("description", "").strip():
            self.error(line, "description", "required")

    def number(self, plan: RowPlan) -> None:
        number = plan.row.get("number", "").strip()
        if not number:
            plan.warnings.append("no number: a new one is given")
            content = json.dumps([(plan.row.get(k) or "").strip() for k in CONTENT_KEYS],
                                 ensure_ascii=False)
            self.seen_content[content] += 1  # equal rows are told apart by their order
            plan.row_key = hashlib.sha256(
                f"{content}#{self.seen_content[content]}".encode()).hexdigest()
            return
        if len(number) > 64 or any(ch.isspace() for ch in number):
            self.error(plan.line, "number", "not a usable number", number)
            return
        if number in self.seen_numbers:
            self.error(plan.line, "number", "duplicate in file", number)
            return
        self.seen_numbers[number] = plan.line
        plan.number = number
        held = self.existing.get(number)
        if held is None:
            return
        item, old_row = held
        county = plan.ancestors.get("county_id")
        if not self.actor.sees(item) or (county is not None and item.county_id != county):
            self.error(plan.line, "number", "number used elsewhere", number)
        elif old_row is None:
            self.error(plan.line, "number", "already in Sanhu; change it there", number)
        elif _same_row(old_row, plan.row):
            plan.unchanged = True
        else:
            self.error(plan.line, "number", "already imported; change it in Sanhu", number)

    def check(self, line: int, row: dict[str, str]) -> RowPlan:
        plan = RowPlan(line, row)
        for key, value in row.items():
            if len(value) > (100 if key == "person" else LIMITS.cell):
                self.error(line, key, "too long", value)
        self.unit(plan)
        self.standard(plan)
        self.words(plan)
        self.number(plan)
        plan.person = row.get("person", "").strip() or None
        return plan

    def known_rows(self, plans: list[RowPlan]) -> None:
        """Rows without a number imported before (by their content key) are unchanged."""
        wanted = {(p.ancestors.get("county_id"), p.row_key) for p in plans if p.row_key}
        known: set = set()
        for chunk in _chunks(sorted({key for _, key in wanted})):
            known.update(self.session.execute(select(
                ImportedRowKey.county_id, ImportedRowKey.key).where(
                    ImportedRowKey.key.in_(chunk))).all())
        for plan in plans:
            if plan.row_key and (plan.ancestors.get("county_id"), plan.row_key) in known:
                plan.unchanged = True
                plan.warnings.remove("no number: a new one is given")

    def people(self, plans: list[RowPlan]) -> None:
        people = _people(self.session, {p.unit_id for p in plans
                                        if p.person and p.unit_id is not None})
        for plan in plans:
            if not plan.person or plan.unit_id is None:
                continue
            ids = people.get((plan.unit_id, plan.person), [])
            if len(ids) == 1:
                plan.person_id = ids[0]
            elif ids:
                plan.warnings.append("several users have this name: kept as text")
            else:
                plan.warnings.append("no such user in the unit: kept as text")


def preview(session: Session, actor: Actor, filename: str, data: bytes,
            sheet: Sheet | None = None) -> Preview:
    """How every row of the file would be imported, and every problem; writes nothing.

    ``sheet``: the file as an earlier preview read it (the rows are then matched
    against the database again, but the file is not read a second time).
    """
    require_importer(actor)
    sheet = read_sheet(filename, data) if sheet is None else sheet
    checker = _Checker(session, actor, sheet.records)
    plans = [checker.check(line, row) for line, row in sheet.records]
    checker.known_rows(plans)
    checker.people(plans)
    bad = {e.line for e in checker.errors}
    return Preview([p for p in plans if p.line not in bad], checker.errors, sheet.extra_columns,
                   sheet)


# --- writing -------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the items it created (id, number) and the rows it left alone."""

    created: list[tuple[int, str]]
    unchanged: int
    extra_columns: list[str]


def _take_numbers(uow: UnitOfWork, prefix: str, count: int) -> range:
    """Reserve ``count`` serials for ``prefix`` at once (one upsert)."""
    table = NumberSequence.__table__
    ins = dialect_insert(uow.session, table).values(prefix=prefix, last=count)
    ins = ins.on_conflict_do_update(index_elements=["prefix"],
                                    set_={"last": table.c.last + count}).returning(table.c.last)
    last = int(uow.session.execute(ins).scalar_one())
    return range(last - count + 1, last + 1)


def _taken_numbers(uow: UnitOfWork, numbers: Iterable[str]) -> set[str]:
    taken: set[str] = set()
    for chunk in _chunks(sorted(numbers)):
        taken.update(uow.session.scalars(select(Item.number).where(Item.number.in_(chunk))))
    return taken


def _number_new_rows(uow: UnitOfWork, plans: list[RowPlan]) -> None:
    """Give rows without a 问题编号 the next numbers of their prefix, skipping any number
    already held (a sheet's own number may follow Sanhu's pattern)."""
    taken = {p.number for p in plans if p.number}
    wanting: dict[str, list[RowPlan]] = {}
    for plan in plans:
        if plan.number is None:
            prefix = f"{plan.cycle_period or uow.today().year}-{plan.unit_code}"
            wanting.setdefault(prefix, []).append(plan)
    for prefix, group in wanting.items():
        serials = iter(_take_numbers(uow, prefix, len(group)))
        for plan in group:
            plan.number = f"{prefix}-{next(serials):03d}"
    fresh = [p for group in wanting.values() for p in group]
    clashes = taken | _taken_numbers(uow, (p.number for p in fresh))
    for plan in fresh:
        while plan.number in clashes:
            prefix = plan.number.rsplit("-", 1)[0]
            plan.number = f"{prefix}-{_take_numbers(uow, prefix, 1)[0]:03d}"
            clashes |= _taken_numbers(uow, [plan.number])
        clashes.add(plan.number)


def _utc(local: dt.datetime | None, zone) -> dt.datetime | None:
    return None if local is None else local.replace(tzinfo=zone).astimezone(dt.UTC)


#: told the phase (``importing``), the rows written and the rows to write, before each
#: batch's commit with that batch's unit of work (so recorded progress is never ahead)
Progress = Callable[[UnitOfWork, int, int], None]


def import_ledger(uow: UnitOfWork, actor: Actor, filename: str, data: bytes, *,
                  zone, progress: Progress | None = None,
                  sheet: Sheet | None = None) -> ImportResult:
    """Import every row of the file or none (``ImportRejected`` lists every problem).

    Checked as a whole first; then written in batches of ``BATCH`` rows, each
    committed on its own: items in the recorded state, each with one ``import``
    history entry holding the file's name, the line and the row.  Rows imported
    before and unchanged are left alone, so running it again after an
    interruption writes only the rest.  ``sheet``: as for ``preview``.
    """
    checked = preview(uow.session, actor, filename, data, sheet)
    if checked.errors:
        raise ImportRejected(checked.errors)
    plans = checked.new
    if progress is not None:
        progress(uow, 0, len(plans))
    _number_new_rows(uow, plans)
    now = uow.now()
    items, history = Item.__table__, ItemEvent.__table__
    created: list[tuple[int, str]] = []
    for start in range(0, len(plans), BATCH):
        batch = plans[start:start + BATCH]
        conn = uow.session.connection()
        rows = [{
            "number": p.number, "source": p.source, "cycle_id": p.cycle_id,
            "observation_id": None, "standard_id": p.standard_id,
            "category_number": p.category_number, "unit_id": p.unit_id, **p.ancestors,
            "responsible_user_id": p.person_id, "responsible_person": p.person,
            "description": p.row["description"].strip(),
            "measures": p.row.get("measures", "").strip() or None,
            "category": p.category, "severity": "normal", "deadline": p.deadline,
            "deadline_provisional": False, "state": p.state, "submitted": p.submitted,
            "submitted_by_id": None, "rejection_count": 0, "verifier_id": None,
            "verified_at": None, "closed_at": _utc(p.closed_at, zone),
            "resolution": "rectified" if p.state == C else None, "extension_count": 0,
            "pending_extension": None, "supervision": None, "created_by_id": actor.id,
            "created_at": now, "updated_at": now, "version": 1,
            "search_terms": terms(p.number, p.row["description"], p.row.get("measures"),
                                  p.person),
        } for p in batch]
        # a plain executemany: RETURNING in parameter order makes SQLite insert row by row
        conn.execute(insert(items), rows)
        by_number = dict(conn.execute(select(items.c.number, items.c.id).where(
            items.c.number.in_([p.number for p in batch]))).all())
        ids = [by_number[p.number] for p in batch]
        conn.execute(insert(history), [{
            "item_id": item_id, "seq": 1, "event": "import", "from_status": None,
            "to_status": p.status, "actor_id": actor.id, "actor_role": actor.role, "at": now,
            "note": f"imported from {filename}, line {p.line}, by {actor.username}",
            "changes": {"file": filename, "line": p.line, "by": actor.username, "row": p.row},
        } for item_id, p in zip(ids, batch, strict=True)])
        keys = [{"county_id": p.ancestors["county_id"], "key": p.row_key, "item_id": item_id}
                for item_id, p in zip(ids, batch, strict=True) if p.row_key]
        if keys:
            conn.execute(insert(ImportedRowKey.__table__), keys)
        created.extend((item_id, p.number) for item_id, p in zip(ids, batch, strict=True))
        if progress is not None:
            progress(uow, len(created), len(plans))
        uow.commit()
    uow.commit()
    return ImportResult(created, checked.unchanged, checked.extra_columns)


# --- an import as a job with its progress -----------------------------------

log = logging.getLogger("sanhu.ledger_import")
#: items listed on the result page, and problems kept for a refused import
KEPT = 500
#: an import whose record has not moved for this long was stopped (its process went away)
STALE = dt.timedelta(minutes=10)
RUNNING = ("checking", "importing")


def start_job(uow: UnitOfWork, actor: Actor, filename: str, sha256: str) -> int:
    """Record a confirmed import about to run (state ``checking``); returns its id."""
    require_importer(actor)
    now = uow.now()
    job = LedgerImport(created_by_id=actor.id, filename=filename[:200], sha256=sha256,
                       state="checking", total=0, done=0, unchanged=0, created_at=now,
                       updated_at=now)
    uow.session.add(job)
    uow.commit()
    return job.id


def run_job(new_uow: Callable[[], UnitOfWork], job_id: int, actor: Actor, filename: str,
            data: bytes, *, zone, sheet: Sheet | None = None) -> str:
    """Run the import of ``start_job``'s record, keeping its progress; returns the end state.

    Each batch's commit also records the rows written, so the progress page
    never claims more than is in the ledger.  A refusal keeps the first
    ``KEPT`` problems; a failure keeps the error and the batches written.
    """
    def progress(uow: UnitOfWork, done: int, total: int) -> None:
        uow.session.execute(update(LedgerImport).where(LedgerImport.id == job_id).values(
            state="importing", done=done, total=total, updated_at=uow.now()))

    def finish(**values) -> None:
        with new_uow() as uow:
            now = uow.now()
            uow.session.execute(update(LedgerImport).where(LedgerImport.id == job_id).values(
                updated_at=now, finished_at=now, **values))
            uow.commit()

    try:
        with new_uow() as uow:
            result = import_ledger(uow, actor, filename, data, zone=zone, progress=progress,
                                   sheet=sheet)
    except ImportRejected as exc:
        finish(state="refused", outcome={"count": len(exc.rows), "problems": [
            [r.line, r.column, r.code, r.value] for r in exc.rows[:KEPT]]})
        return "refused"
    except Exception as exc:  # the database went away, a disk filled: keep what is written
        log.exception("ledger import %s failed", job_id)
        finish(state="failed", error=f"{type(exc).__name__}: {exc}"[:1000])
        return "failed"
    finish(state="done", done=len(result.created), total=len(result.created),
           unchanged=result.unchanged,
           outcome={"created": [list(c) for c in result.created[:KEPT]],
                    "created_count": len(result.created),
                    "extra_columns": result.extra_columns})
    return "done"


def job_of(session: Session, job_id: int, actor: Actor) -> LedgerImport | None:
    """The import record if ``actor`` may see it (who started it, or an admin)."""
    job = session.get(LedgerImport, job_id)
    if job is None or (job.created_by_id != actor.id and actor.role != "admin"):
        return None
    return job


def stopped(job: LedgerImport, now: dt.datetime) -> bool:
    """A running import whose record has not moved for ``STALE``: its process went away."""
    updated = job.updated_at if job.updated_at.tzinfo else job.updated_at.replace(
        tzinfo=dt.UTC)
    return job.state in RUNNING and now - updated > STALE


def sample_rows() -> list[list[str]]:
    """A few rows for the sample sheet (``docs/ledger-import-sample.xlsx``)."""
    return [
        ["1", "2026Q3-370102001001-001", "观摩", "", "示范县/示范街道/东村", "基本标准 12",
         "村务公开栏内容未及时更新", "每月更新公开栏", "限期整改", "张三", "2026/12/31",
         "整改中", "", "", "", ""],
        ["2", "", "自查", "", "370102001002", "", "党员活动室漏雨", "维修屋顶", "立行立改",
         "", "2026年11月30日", "已整改", "", "", "", "待验收"],
        ["3", "2026Q3-370102001001-007", "督查暗访", "", "示范街道/东村", "", "档案缺失",
         "补齐档案", "限期整改", "李四", "2026-10-31", "已销号", "2026-10-28 16:00", "", "",
         ""],
    ]



def sample_xlsx() -> bytes:
    """The sample sheet: the 台账 headers and ``sample_rows`` (see tools/)."""
    import io

    from ledger.core import xlsx

    out = io.BytesIO()
    book = xlsx.workbook(out, in_memory=True)
    sheet = book.add_worksheet("台账")
    head = book.add_format({"bold": True})
    for col, column in enumerate(LEDGER_COLUMNS):
        sheet.set_column(col, col, column.width)
    sheet.write_row(0, 0, [c.header for c in LEDGER_COLUMNS], head)
    for r, cells in enumerate(sample_rows(), start=1):
        sheet.write_row(r, 0, cells)
    book.close()
    return out.getvalue()
