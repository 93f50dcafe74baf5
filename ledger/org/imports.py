"""Import organisation units and users from .xlsx or .csv files (SPEC §3).

Reading and checking come first: every bad row is reported with its line
number as the file shows it (the header is line 1), its column and a short
code; when any row is bad nothing is imported.  Otherwise all rows are added
in one transaction.  Column headers may be English or Chinese.

A file costs the server little whatever it holds: a workbook whose members
unpack to more than ``MAX_XLSX_BYTES`` is refused before it is parsed (a zip
member never yields more than the size it declares), sheets are streamed
(``read_only``) without trusting their claimed dimension, at most
``MAX_COLUMNS`` columns a row are read, reading stops past ``MAX_ROWS`` data
rows (``MAX_LINES`` lines with blank ones), a cell is kept to ``MAX_CELL``
characters (longer is a row error) and values echoed in errors are short.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.core import xlsx
from ledger.core.actors import Actor
from ledger.core.errors import ValidationError
from ledger.core.models import LEVEL_ORDER, Level, Role, Unit, User
from ledger.core.uow import UnitOfWork
from ledger.org.admin import (
    child_level,
    decode_text,
    require_admin,
    role_fits,
)
from ledger.org.directory import add_unit, hash_password
from ledger.org.passwords import password_problem

#: column → accepted header names (compared case-insensitively, spaces trimmed)
UNIT_COLUMNS = {
    "code": ("code", "代码", "单位代码", "区划代码", "统计用区划代码"),
    "name": ("name", "名称", "单位名称"),
    "level": ("level", "层级", "级别"),
    "parent_code": ("parent_code", "上级代码", "上级单位代码"),
}
USER_COLUMNS = {
    "username": ("username", "用户名", "账号"),
    "display_name": ("display_name", "姓名", "显示名"),
    "role": ("role", "角色"),
    "unit_code": ("unit_code", "单位代码"),
    "email": ("email", "邮箱", "电子邮箱"),
    "phone": ("phone", "电话", "手机", "联系电话"),
    "post": ("post", "职务"),
    "password": ("password", "初始密码", "密码"),
}
UNIT_REQUIRED = ("code", "name", "level", "parent_code")
USER_REQUIRED = ("username", "display_name", "role", "unit_code", "password")
#: Chinese headers of the templates, in column order
CHINESE_HEADERS = {
    "units": ["代码", "名称", "层级", "上级代码"],
    "users": ["用户名", "姓名", "角色", "单位代码", "邮箱", "电话", "职务", "初始密码"],
}

LEVEL_WORDS = {
    "city": Level.CITY, "市": Level.CITY, "地级市": Level.CITY,
    "county": Level.COUNTY, "县": Level.COUNTY, "区": Level.COUNTY, "县级市": Level.COUNTY,
    "县(市、区)": Level.COUNTY,
    "township": Level.TOWNSHIP, "乡镇": Level.TOWNSHIP, "乡": Level.TOWNSHIP,
    "镇": Level.TOWNSHIP, "街道": Level.TOWNSHIP,
    "village": Level.VILLAGE, "村": Level.VILLAGE, "社区": Level.VILLAGE,
    "村(社区)": Level.VILLAGE,
}
ROLE_WORDS = {
    **{r.value: r for r in Role},
    "市委组织部": Role.CITY_STAFF, "县委组织部": Role.COUNTY_STAFF,
    "乡镇党委": Role.TOWNSHIP_STAFF, "乡镇党(工)委": Role.TOWNSHIP_STAFF,
    "乡镇党（工）委": Role.TOWNSHIP_STAFF,
    "村党组织书记": Role.VILLAGE_SECRETARY, "村书记": Role.VILLAGE_SECRETARY,
    "督查": Role.SUPERVISOR, "系统管理员": Role.ADMIN, "管理员": Role.ADMIN,
}
#: data rows per file (a province's units come in a few files)
MAX_ROWS = 5_000
#: lines read at most, blank ones included
MAX_LINES = 2 * MAX_ROWS
#: columns read per row (the templates have eight)
MAX_COLUMNS = 32
#: characters per cell; a longer one is a row error
MAX_CELL = 200
#: a workbook's members unpacked, together; and how many members it may have
MAX_XLSX_BYTES = 20 * 1024 * 1024
MAX_XLSX_MEMBERS = 1_000
#: characters of a bad value echoed back in the error list
ECHO_CHARS = 40
#: users per file: each password hash takes a noticeable fraction of a second
MAX_USER_ROWS = 2_000


@dataclass(frozen=True)
class Limits:
    """What one import reads at most; the defaults are those of units and users.

    Another import (the ledger's, ``ledger.items.ledger_import``) passes its own,
    and shares the reading code.
    """

    rows: int = MAX_ROWS
    columns: int = MAX_COLUMNS
    cell: int = MAX_CELL
    xlsx_bytes: int = MAX_XLSX_BYTES

    @property
    def lines(self) -> int:
        """Lines read at most, blank ones included."""
        return 2 * self.rows


UNIT_LIMITS = Limits()


@dataclass(frozen=True)
class RowError:
    """One problem of one row: ``code`` is a short English phrase the web translates."""

    line: int
    column: str
    code: str
    value: str = ""


class ImportRejected(ValidationError):
    """The file had bad rows; nothing was imported.  ``rows`` lists every problem."""

    code = "import_rejected"

    def __init__(self, rows: list[RowError]) -> None:
        super().__init__(f"{len({r.line for r in rows})} bad row(s); nothing was imported",
                         fields={"file": "bad rows"})
        self.rows = [replace(r, value=echo(r.value)) for r in rows]

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "rows": [r.__dict__ for r in self.rows]}


# --- reading ---------------------------------------------------------------------


def echo(value: str) -> str:
    """A value as shown back in an error list: at most ``ECHO_CHARS`` characters."""
    return value if len(value) <= ECHO_CHARS else value[:ECHO_CHARS] + "…"


def _cell(value: object, max_cell: int = MAX_CELL) -> str:
    """A cell as text: whole numbers without ``.0`` (Excel stores codes as numbers).

    Kept to one character more than ``max_cell``: enough to tell it is too long.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)[:max_cell + 64].strip()[:max_cell + 1]


def _too_many_rows(limits: Limits) -> ValidationError:
    return ValidationError("the file has too many rows", fields={"file": "too many rows"},
                           max_rows=limits.rows)


def _capped(rows: Iterable[tuple[int, list[str]]],
            limits: Limits = UNIT_LIMITS) -> list[tuple[int, list[str]]]:
    """The rows, trailing empty cells dropped; stops past ``limits.rows`` data rows or
    ``limits.lines`` lines, so a hostile file is never read to its end."""
    out: list[tuple[int, list[str]]] = []
    data_rows = 0
    for line, cells in rows:
        if line > limits.lines + 1:
            raise _too_many_rows(limits)
        while cells and not cells[-1]:
            cells.pop()
        if cells and out:
            data_rows += 1
            if data_rows > limits.rows:
                raise _too_many_rows(limits)
        out.append((line, cells))
    return out


def _read_csv(data: bytes, limits: Limits = UNIT_LIMITS) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(decode_text(data), newline=""))

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = 1
        for row in reader:
            yield start, [_cell(c, limits.cell) for c in row[:limits.columns]]
            start = reader.line_num + 1

    try:
        return _capped(rows(), limits)
    except csv.Error as exc:  # a field beyond the csv module's limit (128 KiB), a NUL byte
        raise ValidationError("a cell of the file is far too long",
                              fields={"file": "cell too long"}) from exc


def _check_unpacked_size(data: bytes, limit: int = MAX_XLSX_BYTES) -> None:
    """Refuse a workbook that would unpack to more than ``limit`` bytes.

    The sizes come from the zip's directory; ``zipfile`` never yields more than
    a member declares, so a lying directory gets a broken file, not a big one.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            members = book.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise ValidationError("the file is not a readable .xlsx workbook",
                              fields={"file": "unreadable"}) from exc
    if (len(members) > MAX_XLSX_MEMBERS
            or sum(m.file_size for m in members) > limit):
        raise ValidationError("the workbook is too large once unpacked",
                              fields={"file": "too large"}, max_bytes=limit)


def _read_xlsx(data: bytes, limits: Limits = UNIT_LIMITS,
               cell: Callable[[object, int], str] = _cell) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    _check_unpacked_size(data, limits.xlsx_bytes)
    try:
        with warnings.catch_warnings():
            # style or data-validation warnings say nothing about the values
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ValidationError("the file is not a readable .xlsx workbook",
                              fields={"file": "unreadable"}) from exc
    try:
        sheet = book.worksheets[0]
        # the claimed dimension is not trusted: "A1:XFD1048576" would pad every row to
        # 16,384 cells, and one smaller than the data would hide rows
        sheet.reset_dimensions()
        rows = sheet.iter_rows(max_col=limits.columns, values_only=True)
        size = limits.cell
        try:
            return _capped(((n, [cell(v, size) for v in row])
                            for n, row in enumerate(rows, start=1)), limits)
        except ValidationError:
            raise
        except Exception as exc:  # a sheet that breaks while streamed
            raise ValidationError("the file is not a readable .xlsx workbook",
                                  fields={"file": "unreadable"}) from exc
    finally:
        book.close()


def read_rows(filename: str, data: bytes, limits: Limits = UNIT_LIMITS,
              cell: Callable[[object, int], str] = _cell) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every row of a .xlsx or .csv file; header included.

    Trailing empty cells are dropped; ``ValidationError`` with ``too large`` or
    ``too many rows`` when the file exceeds ``limits``.  ``cell`` turns a
    workbook's cell value (a number, a date) into text.
    """
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        return _read_xlsx(data, limits, cell)
    if name.endswith(".csv") or name.endswith(".txt"):
        return _read_csv(data, limits)
    raise ValidationError("upload a .xlsx or .csv file", fields={"file": "wrong type"})


def _header_map(header: list[str], columns: dict[str, tuple[str, ...]],
                required: tuple[str, ...]) -> dict[str, int]:
    """Column name → index, from a header row in English or Chinese."""
    names = {alias.lower(): col for col, aliases in columns.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        col = names.get(cell.strip().lower())
        if col is not None and col not in found:
            found[col] = index
    missing = [c for c in required if c not in found]
    if missing:
        raise ImportRejected([RowError(1, c, "missing column") for c in missing])
    return found


def read_records(filename: str, data: bytes, columns: dict[str, tuple[str, ...]],
                 required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: value}) for every non-empty data row."""
    rows = read_rows(filename, data)
    if not rows:
        raise ValidationError("the file is empty", fields={"file": "empty"})
    index = _header_map(rows[0][1], columns, required)
    records = []
    for line, cells in rows[1:]:
        if not any(cells):
            continue
        records.append((line, {col: cells[i] if i < len(cells) else ""
                               for col, i in index.items()}))
    if not records:
        raise ValidationError("the file has no data rows", fields={"file": "empty"})
    overlong = [RowError(line, col, "too long", value) for line, record in records
                for col, value in record.items() if len(value) > MAX_CELL]
    if overlong:
        raise ImportRejected(overlong)
    return records


def _lookup(session: Session, model: type, column, values: set[str]) -> dict:
    """Existing rows of ``model`` whose ``column`` is among ``values``, in chunks."""
    found, values = {}, sorted(values)
    for start in range(0, len(values), 500):
        chunk = values[start:start + 500]
        for obj in session.scalars(select(model).where(column.in_(chunk))):
            found[getattr(obj, column.key)] = obj
    return found


def _taken_or_unusable(actor: Actor, value: str, holder: Unit | None) -> str | None:
    """Why a new unit code or username cannot be used, saying no more than the importer
    may know.

    ``holder`` is the unit that already has the code (or whose user has the
    name).  Inside the importer's area: "already exists", which they can see on
    their own pages anyway.  Outside it (another county, the city above) the
    answer is "not available", exactly the answer for a value with white space
    in it, so an import never tells whether a code or a name is used elsewhere,
    let alone where.
    """
    if any(ch.isspace() for ch in value):
        return "not available"
    if holder is None:
        return None
    return "already exists" if actor.sees(holder) else "not available"


def _user_units(session: Session, names: set[str]) -> dict[str, Unit]:
    """The unit of each existing user among ``names``, by username, in chunks."""
    found, names_ = {}, sorted(names)
    for start in range(0, len(names_), 500):
        chunk = names_[start:start + 500]
        found.update(session.execute(select(User.username, Unit).join(
            Unit, Unit.id == User.unit_id).where(User.username.in_(chunk))).all())
    return found


def _required(line: int, record: dict[str, str], names: tuple[str, ...],
              errors: list[RowError]) -> bool:
    missing = [n for n in names if not record.get(n)]
    errors.extend(RowError(line, n, "required") for n in missing)
    return not missing


def _too_long(line: int, record: dict[str, str], limits: dict[str, int],
              errors: list[RowError]) -> bool:
    bad = [n for n, limit in limits.items() if len(record.get(n, "")) > limit]
    errors.extend(RowError(line, n, "too long", record[n]) for n in bad)
    return bool(bad)


# --- units -----------------------------------------------------------------------


@dataclass(frozen=True)
class UnitPlan:
    line: int
    code: str
    name: str
    level: str
    parent_code: str


def check_units(session: Session, actor: Actor,
                records: list[tuple[int, dict[str, str]]]) -> list[UnitPlan]:
    """Every unit row checked; ``ImportRejected`` lists all problems."""
    require_admin(actor)
    errors: list[RowError] = []
    codes = {r["code"] for _, r in records if r.get("code")}
    parents = {r["parent_code"] for _, r in records if r.get("parent_code")}
    existing = _lookup(session, Unit, Unit.code, codes | parents)
    in_file: dict[str, str] = {}  # code → level of rows seen so far (good ones)
    seen: set[str] = set()
    plans = []
    for line, r in records:
        before = len(errors)
        _required(line, r, UNIT_REQUIRED, errors)
        _too_long(line, r, {"code": 32, "name": 100}, errors)
        code, level = r.get("code", ""), None
        if code:
            if code in seen:
                errors.append(RowError(line, "code", "duplicate in file", code))
            elif problem := _taken_or_unusable(actor, code, existing.get(code)):
                errors.append(RowError(line, "code", problem, code))
            seen.add(code)
        if r.get("level"):
            level = LEVEL_WORDS.get(r["level"].strip().lower())
            if level is None:
                errors.append(RowError(line, "level", "unknown level", r["level"]))
        parent_code = r.get("parent_code", "")
        if parent_code and level is not None:
            parent = existing.get(parent_code)
            if parent is not None and actor.sees(parent):
                parent_level = parent.level
            else:
                parent_level = in_file.get(parent_code)
            if parent_level is None:
                errors.append(RowError(line, "parent_code", "unknown parent", parent_code))
            elif child_level(parent_level) != level.value:
                errors.append(RowError(line, "parent_code", "parent not one level up",
                                       parent_code))
        if len(errors) == before:
            in_file[code] = level.value
            plans.append(UnitPlan(line, code, r["name"], level.value, parent_code))
    if errors:
        raise ImportRejected(errors)
    return plans


def import_units(uow: UnitOfWork, actor: Actor, filename: str, data: bytes) -> int:
    """Import every unit of the file or none; returns how many were added."""
    require_admin(actor)
    s = uow.session
    plans = check_units(s, actor, read_records(filename, data, UNIT_COLUMNS, UNIT_REQUIRED))
    by_code = _lookup(s, Unit, Unit.code, {p.parent_code for p in plans})
    # parents come first in the file, so each is known when its children are added
    ordered = sorted(plans, key=lambda p: LEVEL_ORDER.index(Level(p.level)))
    for plan in ordered:
        by_code[plan.code] = add_unit(s, code=plan.code, name=plan.name, level=plan.level,
                                      parent=by_code[plan.parent_code])
    uow.commit()
    return len(plans)


# --- users -----------------------------------------------------------------------


@dataclass(frozen=True)
class UserPlan:
    line: int
    record: dict[str, str]
    role: str
    unit: Unit


def check_users(session: Session, actor: Actor,
                records: list[tuple[int, dict[str, str]]]) -> list[UserPlan]:
    """Every user row checked; ``ImportRejected`` lists all problems."""
    require_admin(actor)
    errors: list[RowError] = []
    names = {r["username"] for _, r in records if r.get("username")}
    taken = _user_units(session, names)
    units = _lookup(session, Unit, Unit.code, {r["unit_code"] for _, r in records
                                                if r.get("unit_code")})
    seen: set[str] = set()
    plans = []
    for line, r in records:
        before = len(errors)
        _required(line, r, USER_REQUIRED, errors)
        _too_long(line, r, {"username": 64, "display_name": 100, "email": 255, "phone": 32,
                            "post": 100}, errors)
        username = r.get("username", "")
        if username:
            if username in seen:
                errors.append(RowError(line, "username", "duplicate in file", username))
            elif problem := _taken_or_unusable(actor, username, taken.get(username)):
                errors.append(RowError(line, "username", problem, username))
            seen.add(username)
        role = ROLE_WORDS.get(r.get("role", "").strip().lower()) if r.get("role") else None
        if r.get("role") and role is None:
            errors.append(RowError(line, "role", "unknown role", r["role"]))
        unit = units.get(r.get("unit_code", ""))
        if r.get("unit_code") and (unit is None or not actor.sees(unit)):
            errors.append(RowError(line, "unit_code", "unknown unit", r["unit_code"]))
            unit = None
        if role is not None and unit is not None and not role_fits(role, unit.level):
            errors.append(RowError(line, "role", "role does not fit the unit's level",
                                   r["role"]))
        if r.get("password") and (problem := password_problem(r["password"], username)):
            errors.append(RowError(line, "password", problem))
        if len(errors) == before:
            plans.append(UserPlan(line, r, role.value, unit))
    if errors:
        raise ImportRejected(errors)
    return plans


def _hash_all(passwords: list[str]) -> list[str]:
    """Argon2 hashes of many passwords; the library releases the GIL, so use every core."""
    workers = max(1, min(8, os.cpu_count() or 1))
    if len(passwords) < 4 or workers == 1:
        return [hash_password(p) for p in passwords]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(hash_password, passwords))


def import_users(uow: UnitOfWork, actor: Actor, filename: str, data: bytes) -> int:
    """Import every user of the file or none; returns how many were added.

    Hashing is the slow part (about 0.15 s a password), so it happens only
    once every row has passed, spread over the machine's cores.
    """
    require_admin(actor)
    s = uow.session
    records = read_records(filename, data, USER_COLUMNS, USER_REQUIRED)
    if len(records) > MAX_USER_ROWS:
        raise ValidationError("the file has too many rows", fields={"file": "too many rows"})
    plans = check_users(s, actor, records)
    hashes = _hash_all([p.record["password"] for p in plans])
    s.add_all(User(username=p.record["username"], display_name=p.record["display_name"],
                   role=p.role, unit_id=p.unit.id, password_hash=digest,
                   email=p.record.get("email") or None, phone=p.record.get("phone") or None,
                   post=p.record.get("post") or None)
              for p, digest in zip(plans, hashes, strict=True))
    uow.commit()
    return len(plans)


# --- templates -------------------------------------------------------------------

IMPORTERS: dict[str, Callable[[UnitOfWork, Actor, str, bytes], int]] = {
    "units": import_units, "users": import_users,
}
EXAMPLES = {
    "units": [["370102001", "示范街道", "乡镇", "370102"]],
    "users": [["zhangsan", "张三", "村党组织书记", "370102001001", "", "13800000000",
               "村党组织书记", "Cun-Shu-Ji-7391"]],
}


def template_headers(kind: str, chinese: bool = True) -> list[str]:
    """The header row of an import template."""
    if chinese:
        return CHINESE_HEADERS[kind]
    return list(UNIT_COLUMNS if kind == "units" else USER_COLUMNS)


def template_csv(kind: str, chinese: bool = True) -> bytes:
    """An empty CSV template (UTF-8 with BOM, so Excel shows Chinese correctly)."""
    out = io.StringIO()
    csv.writer(out).writerow(template_headers(kind, chinese))
    return out.getvalue().encode("utf-8-sig")


def template_xlsx(kind: str, chinese: bool = True, notes: list[str] | None = None) -> bytes:
    """An .xlsx template: the header on the first sheet, an example and notes on the second.

    Every column is formatted as text, so codes keep their leading zeros.
    """
    out = io.BytesIO()
    book = xlsx.workbook(out, in_memory=True)
    text = book.add_format({"num_format": "@"})
    bold = book.add_format({"bold": True, "num_format": "@"})
    headers = template_headers(kind, chinese)
    sheet = book.add_worksheet(kind)
    sheet.set_column(0, len(headers) - 1, 18, text)
    sheet.write_row(0, 0, headers, bold)
    example = book.add_worksheet("example" if not chinese else "示例")
    example.set_column(0, len(headers) - 1, 18, text)
    rows = [headers, *EXAMPLES[kind]]
    for note in notes or []:
        rows.extend([[], [note]])
    for r, row in enumerate(rows):
        example.write_row(r, 0, row)
    book.close()
    return out.getvalue()
