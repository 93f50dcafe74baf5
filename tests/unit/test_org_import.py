"""Reading and checking unit and user imports (.csv in UTF-8, BOM, GB18030; .xlsx)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from ledger.core.actors import Actor
from ledger.core.errors import PermissionDenied, ValidationError
from ledger.core.models import Unit, User
from ledger.org.directory import add_user, check_password
from ledger.org.imports import (
    UNIT_COLUMNS,
    UNIT_REQUIRED,
    ImportRejected,
    import_units,
    import_users,
    read_records,
    read_rows,
    template_csv,
    template_xlsx,
)

UNITS_CSV = "代码,名称,层级,上级代码\nT13,新乡,乡镇,K1\nV131,新村,村,T13\n"


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def problems(exc_info) -> list[tuple[int, str, str]]:
    return [(r.line, r.column, r.code) for r in exc_info.value.rows]


def count(sanhu, model) -> int:
    with sanhu.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def county_admin(sanhu, world) -> Actor:
    with sanhu.uow() as uow:
        unit = uow.session.get(Unit, world.units["K1"].id)
        user = add_user(uow.session, username="admin_K1", display_name="县管理员", role="admin",
                        unit=unit, password="pw-for-tests-1")
        uow.commit()
        return Actor.of(user, unit)


# --- reading ---------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_chinese_csv_reads_the_same_in_utf8_with_or_without_bom_and_gb18030(encoding):
    records = read_records("units.csv", UNITS_CSV.encode(encoding), UNIT_COLUMNS, UNIT_REQUIRED)
    assert records == [
        (2, {"code": "T13", "name": "新乡", "level": "乡镇", "parent_code": "K1"}),
        (3, {"code": "V131", "name": "新村", "level": "村", "parent_code": "T13"}),
    ]


def test_csv_line_numbers_count_blank_lines_and_quoted_line_breaks():
    data = 'code,name,level,parent_code\n\nT13,"新\n乡",township,K1\nV131,新村,village,T13\n'
    records = read_records("u.csv", data.encode(), UNIT_COLUMNS, UNIT_REQUIRED)
    assert [line for line, _ in records] == [3, 5]


def test_xlsx_cells_become_text_and_numeric_codes_lose_no_digits():
    data = xlsx([["code", "name", "level", "parent_code"], [370102001, "街道", "乡镇", 370102],
                 [None, None, None, None], ["V1", "村", "村", "370102001"]])
    records = read_records("units.xlsx", data, UNIT_COLUMNS, UNIT_REQUIRED)
    assert records[0] == (2, {"code": "370102001", "name": "街道", "level": "乡镇",
                              "parent_code": "370102"})
    assert records[1][0] == 4


def test_an_xlsx_file_is_recognised_by_content_even_with_another_name():
    rows = read_rows("export", xlsx([["a"], ["b"]]))
    assert rows == [(1, ["a"]), (2, ["b"])]


def test_a_broken_xlsx_or_an_unknown_type_is_refused():
    with pytest.raises(ValidationError) as broken:
        read_rows("units.xlsx", b"not a workbook")
    assert broken.value.fields == {"file": "unreadable"}
    with pytest.raises(ValidationError) as wrong:
        read_rows("units.pdf", b"%PDF-1.4")
    assert wrong.value.fields == {"file": "wrong type"}


def test_a_missing_column_is_reported_on_the_header_line():
    with pytest.raises(ImportRejected) as exc:
        read_records("u.csv", "代码,名称\nX,Y\n".encode(), UNIT_COLUMNS, UNIT_REQUIRED)
    assert problems(exc) == [(1, "level", "missing column"), (1, "parent_code", "missing column")]


def test_the_templates_have_the_header_and_no_data_rows():
    for data, name in ((template_xlsx("units"), "t.xlsx"), (template_csv("units"), "t.csv")):
        assert read_rows(name, data)[0] == (1, ["代码", "名称", "层级", "上级代码"])
        with pytest.raises(ValidationError) as exc:
            read_records(name, data, UNIT_COLUMNS, UNIT_REQUIRED)
        assert exc.value.fields == {"file": "empty"}
    assert read_rows("t.csv", template_csv("users", chinese=False))[0][1][0] == "username"


# --- units -----------------------------------------------------------------------


def test_every_bad_unit_row_is_reported_and_nothing_is_imported(sanhu, world):
    before = count(sanhu, Unit)
    data = ("code,name,level,parent_code\n"
            "T13,新乡,township,K1\n"      # 2 good
            "T13,重复,township,K1\n"      # 3 duplicate in file
            "V111,已有,village,T11\n"     # 4 exists in the database
            "V140,早了,village,T14\n"     # 5 parent only comes later
            "T14,后乡,township,K1\n"      # 6 good
            "V150,跳级,village,K1\n"      # 7 parent two levels up
            "V160,,hamlet,\n")            # 8 name, parent missing; unknown level
    with sanhu.uow() as uow, pytest.raises(ImportRejected) as exc:
        import_units(uow, world["admin"], "units.csv", data.encode())
    assert problems(exc) == [
        (3, "code", "duplicate in file"), (4, "code", "already exists"),
        (5, "parent_code", "unknown parent"), (7, "parent_code", "parent not one level up"),
        (8, "name", "required"), (8, "parent_code", "required"), (8, "level", "unknown level"),
    ]
    assert count(sanhu, Unit) == before


def test_good_units_are_imported_with_their_ancestors(any_sanhu, any_world):
    with any_sanhu.uow() as uow:
        assert import_units(uow, any_world["admin"], "units.csv", UNITS_CSV.encode()) == 2
    with any_sanhu.uow() as uow:
        village = uow.session.scalar(select(Unit).where(Unit.code == "V131"))
        town = uow.session.scalar(select(Unit).where(Unit.code == "T13"))
        assert (village.level, village.parent_id, village.township_id, village.county_id) == (
            "village", town.id, town.id, any_world.units["K1"].id)
        assert village.village_id == village.id


def test_a_county_admin_cannot_import_below_another_county(sanhu, world):
    actor = county_admin(sanhu, world)
    data = "code,name,level,parent_code\nT23,外县乡,township,K2\nT13,本县乡,township,K1\n"
    with sanhu.uow() as uow, pytest.raises(ImportRejected) as exc:
        import_units(uow, actor, "u.csv", data.encode())
    assert problems(exc) == [(2, "parent_code", "unknown parent")]


def test_only_administrators_may_import(sanhu, world):
    with sanhu.uow() as uow, pytest.raises(PermissionDenied):
        import_units(uow, world["county_K1"], "u.csv", UNITS_CSV.encode())


# --- users -----------------------------------------------------------------------

USERS_HEADER = "用户名,姓名,角色,单位代码,邮箱,电话,职务,初始密码\n"


def test_every_bad_user_row_is_reported_and_nobody_is_imported(sanhu, world):
    actor = county_admin(sanhu, world)
    before = count(sanhu, User)
    data = (USERS_HEADER
            + "zhao,赵一,村党组织书记,V111,,,书记,long-enough-1\n"   # 2 good
            + "zhao,赵二,village_secretary,V112,,,,long-enough-2\n"  # 3 duplicate in file
            + "city,市里,county_staff,K1,,,,long-enough-3\n"         # 4 username exists
            + "qian,钱三,county_staff,V111,,,,long-enough-4\n"       # 5 role does not fit
            + "sun,孙四,village_secretary,V211,,,,long-enough-5\n"   # 6 other county
            + "li,李五,mayor,K1,,,,short\n"                          # 7 role, password
            + "zhou zhou,,,,,,,\n")                                  # 8 many
    with sanhu.uow() as uow, pytest.raises(ImportRejected) as exc:
        import_users(uow, actor, "users.csv", data.encode("gb18030"))
    assert problems(exc) == [
        (3, "username", "duplicate in file"), (4, "username", "not available"),
        (5, "role", "role does not fit the unit's level"), (6, "unit_code", "unknown unit"),
        (7, "role", "unknown role"), (7, "password", "too short"),
        (8, "display_name", "required"), (8, "role", "required"), (8, "unit_code", "required"),
        (8, "password", "required"), (8, "username", "not available"),
    ]
    assert count(sanhu, User) == before


def test_good_users_are_imported_with_their_details_and_passwords(any_sanhu, any_world):
    data = xlsx([["username", "display_name", "role", "unit_code", "email", "phone", "post",
                  "password"],
                 ["zhao", "赵一", "村党组织书记", "V111", "z@example.cn", 13800000000, "书记",
                  "long-enough-1"],
                 ["qian", "钱二", "supervisor", "K2", None, None, None, "long-enough-2"]])
    with any_sanhu.uow() as uow:
        assert import_users(uow, any_world["admin"], "users.xlsx", data) == 2
    with any_sanhu.uow() as uow:
        zhao = uow.session.scalar(select(User).where(User.username == "zhao"))
        assert (zhao.role, zhao.unit_id, zhao.phone, zhao.post, zhao.email) == (
            "village_secretary", any_world.units["V111"].id, "13800000000", "书记",
            "z@example.cn")
        assert check_password(zhao, "long-enough-1")


# --- what a county's administrator may learn about other counties --------------------


def rows_by_value(exc_info) -> dict[str, tuple[str, str]]:
    return {r.value: (r.column, r.code) for r in exc_info.value.rows}


def test_a_county_admin_cannot_tell_a_code_of_another_county_from_an_unusable_one(sanhu, world):
    """Inside the county the importer hears that the unit exists; outside (another county,
    the city above) the code is just "not available", the same as a code with a space."""
    actor = county_admin(sanhu, world)
    data = ("code,name,level,parent_code\n"
            "V111,本县已有,village,T11\n"   # 2 mine: helpful
            "V211,外县已有,village,T11\n"   # 3 another county's village
            "K2,外县本身,village,T11\n"     # 4 another county
            "C,市本身,village,T11\n"        # 5 the city above
            "V 9,带空格,village,T11\n"      # 6 free but unusable
            "V901,外县上级,village,T21\n"   # 7 parent in another county
            "V902,没有上级,village,T99\n")  # 8 parent nowhere
    with sanhu.uow() as uow, pytest.raises(ImportRejected) as exc:
        import_units(uow, actor, "u.csv", data.encode())
    seen = rows_by_value(exc)
    assert seen["V111"] == ("code", "already exists")
    assert {seen[v] for v in ("V211", "K2", "C", "V 9")} == {("code", "not available")}
    assert seen["T21"] == seen["T99"] == ("parent_code", "unknown parent")
    assert len(exc.value.rows) == 7  # one problem a row: nothing else tells them apart


def test_a_county_admin_cannot_tell_a_username_of_another_county_from_an_unusable_one(sanhu,
                                                                                     world):
    actor = county_admin(sanhu, world)
    data = (USERS_HEADER
            + "sec_V111,本县已有,村党组织书记,V111,,,,long-enough-1\n"  # 2 mine: helpful
            + "sec_V211,外县已有,村党组织书记,V111,,,,long-enough-2\n"  # 3 another county
            + "sup_city,市里已有,村党组织书记,V111,,,,long-enough-3\n"  # 4 the city above
            + "new\tname,带空白,村党组织书记,V111,,,,long-enough-4\n"   # 5 free but unusable
            + "wang,外县单位,村党组织书记,V211,,,,long-enough-5\n"       # 6 unit elsewhere
            + "zhang,没有单位,村党组织书记,V999,,,,long-enough-6\n")     # 7 unit nowhere
    with sanhu.uow() as uow, pytest.raises(ImportRejected) as exc:
        import_users(uow, actor, "users.csv", data.encode())
    seen = rows_by_value(exc)
    assert seen["sec_V111"] == ("username", "already exists")
    assert {seen[v] for v in ("sec_V211", "sup_city", "new\tname")} == {
        ("username", "not available")}
    assert seen["V211"] == seen["V999"] == ("unit_code", "unknown unit")
    assert len(exc.value.rows) == 6


def test_the_city_admin_hears_that_any_existing_code_or_username_exists(sanhu, world):
    data = "code,name,level,parent_code\nV211,外县已有,village,T11\n"
    with sanhu.uow() as uow, pytest.raises(ImportRejected) as exc:
        import_units(uow, world["admin"], "u.csv", data.encode())
    assert problems(exc) == [(2, "code", "already exists")]
