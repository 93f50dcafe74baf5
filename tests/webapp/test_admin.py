"""Administration pages: users, the organisation tree, imports and the calendar."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from conftest import PASSWORD
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, update
from web_fixtures import csrf_token, sign_in

from ledger.core.models import CalendarYear, Item, ItemEvent, Unit, User
from ledger.items import services as svc
from ledger.org.directory import add_user

NEW_PASSWORD = "a-new-pass-2026"


def user_id(sanhu, username: str) -> int:
    with sanhu.uow() as uow:
        return uow.session.scalar(select(User.id).where(User.username == username))


def get_user(sanhu, username: str) -> User | None:
    with sanhu.uow() as uow:
        return uow.session.scalar(select(User).where(User.username == username))


def unit_count(sanhu) -> int:
    with sanhu.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Unit))


def post(client, path: str, data: dict, form_path: str | None = None, **kw):
    """POST with the CSRF token of the page that shows the form."""
    token = csrf_token(client, form_path or path)
    return client.post(path, data={**data, "csrf_token": token}, **kw)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def admin(signed_in):
    return signed_in("admin")


@pytest.fixture
def admin_k1(sanhu, world, app):
    """A client signed in as an administrator of county K1 only."""
    with sanhu.uow() as uow:
        add_user(uow.session, username="admin_K1", display_name="县1管理员", role="admin",
                 unit=uow.session.get(Unit, world.units["K1"].id), password=PASSWORD)
        uow.commit()
    client = app.test_client()
    assert sign_in(client, "admin_K1").status_code == 302
    return client


def csv_upload(content: str, name: str = "file.csv", encoding: str = "utf-8"):
    return (io.BytesIO(content.encode(encoding)), name)


def xlsx_upload(rows: list[list[object]], name: str = "file.xlsx"):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return (out, name)


# --- access ----------------------------------------------------------------------

ADMIN_PAGES = ["/admin/", "/admin/users", "/admin/users/new", "/admin/units",
               "/admin/import/units", "/admin/import/users", "/admin/calendar",
               "/admin/import/units/template.xlsx"]


@pytest.mark.parametrize("name", ["county_K1", "sec_V111", "city", "sup_city"])
def test_every_admin_page_answers_403_to_other_roles(signed_in, sanhu, name):
    client = signed_in(name)
    uid = user_id(sanhu, "sec_V111")
    for path in [*ADMIN_PAGES, f"/admin/users/{uid}", "/admin/units/1"]:
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/")
    for path in [f"/admin/users/{uid}/disable", f"/admin/users/{uid}/password",
                 "/admin/units/1/children", "/admin/calendar"]:
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    assert get_user(sanhu, "sec_V111").active


def test_admin_pages_send_anonymous_visitors_to_sign_in(client, world):
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.location


def test_a_post_without_csrf_token_is_refused(admin, sanhu):
    uid = user_id(sanhu, "sec_V111")
    assert admin.post(f"/admin/users/{uid}/disable").status_code == 400
    assert get_user(sanhu, "sec_V111").active


def test_the_start_page_shows_counts_and_links(admin):
    html = text(admin.get("/admin/"))
    assert "管理" in html
    assert "/admin/users" in html and "/admin/units" in html and "/admin/calendar" in html
    assert "村党组织书记" in html  # users per role
    assert "停用账号" in html


# --- users -----------------------------------------------------------------------


def test_the_user_list_filters_by_name_role_and_unit(admin):
    html = text(admin.get("/admin/users?q=sec_V11"))
    assert "sec_V111" in html and "sec_V112" in html and "sec_V211" not in html
    html = text(admin.get("/admin/users?role=county_staff"))
    assert "county_K1" in html and "county_K2" in html and "sec_V111" not in html
    html = text(admin.get("/admin/users?unit=T21"))
    assert "town_T21" in html and "town_T11" not in html


def test_the_user_list_pages_through_many_users(admin, sanhu, world):
    with sanhu.uow() as uow:
        village = uow.session.get(Unit, world.units["V111"].id)
        for n in range(60):
            uow.session.add(User(username=f"many{n:02d}", display_name="批量",
                                 role="village_secretary", unit_id=village.id,
                                 password_hash="x"))
        uow.commit()
    first = text(admin.get("/admin/users?q=many"))
    assert "many00" in first and "many59" not in first and "第 1 页" in first
    assert "many59" in text(admin.get("/admin/users?q=many&page=2"))


def test_an_admin_creates_a_user_who_can_then_sign_in(admin, app, sanhu):
    response = post(admin, "/admin/users/new", {
        "username": "li_si", "display_name": "李四", "role": "village_secretary",
        "unit": "V112", "post": "村党支部书记", "phone": "13800001111",
        "email": "lisi@example.cn", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert "已创建" in text(admin.get(response.location))
    user = get_user(sanhu, "li_si")
    assert (user.display_name, user.post, user.phone) == ("李四", "村党支部书记", "13800001111")
    newcomer = app.test_client()
    assert sign_in(newcomer, "li_si", NEW_PASSWORD).status_code == 302
    assert newcomer.get("/").status_code == 200


def test_a_duplicate_username_is_reported_beside_the_field_and_values_are_kept(admin):
    response = post(admin, "/admin/users/new", {
        "username": "sec_V111", "display_name": "重名的人", "role": "village_secretary",
        "unit": "V111", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    html = text(response)
    assert response.status_code == 200
    assert "该用户名已被使用" in html
    assert 'value="重名的人"' in html


def test_a_role_that_does_not_fit_the_unit_level_is_refused(admin, sanhu):
    response = post(admin, "/admin/users/new", {
        "username": "wrong_level", "display_name": "错层级", "role": "county_staff",
        "unit": "V111", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert "角色与所选单位的层级不符" in text(response)
    assert get_user(sanhu, "wrong_level") is None


def test_a_short_initial_password_is_refused(admin, sanhu):
    response = post(admin, "/admin/users/new", {
        "username": "short_pw", "display_name": "短密码", "role": "village_secretary",
        "unit": "V111", "password": "short", "confirm": "short"})
    assert "至少 10 个字符" in text(response)
    assert get_user(sanhu, "short_pw") is None


def test_an_admin_edits_a_users_role_unit_and_post(admin, sanhu):
    uid = user_id(sanhu, "town_T11")
    response = post(admin, f"/admin/users/{uid}", {
        "display_name": "王五", "role": "township_staff", "unit": "T12", "post": "组织委员",
        "phone": "", "email": ""})
    assert response.status_code == 302
    user = get_user(sanhu, "town_T11")
    assert (user.display_name, user.post) == ("王五", "组织委员")
    with sanhu.uow() as uow:
        assert uow.session.get(Unit, user.unit_id).code == "T12"


def test_disabling_a_user_signs_them_out_at_once_and_blocks_sign_in(admin, signed_in, sanhu, app):
    victim = signed_in("county_K1")
    assert victim.get("/").status_code == 200
    uid = user_id(sanhu, "county_K1")
    response = post(admin, f"/admin/users/{uid}/disable", {}, form_path=f"/admin/users/{uid}")
    assert response.status_code == 302
    assert "已停用" in text(admin.get(response.location))
    after = victim.get("/")
    assert after.status_code == 302 and "/login" in after.location
    assert sign_in(app.test_client(), "county_K1").status_code == 200
    disabled = text(admin.get("/admin/users?status=disabled"))
    assert "county_K1" in disabled and "county_K2" not in disabled
    post(admin, f"/admin/users/{uid}/enable", {}, form_path=f"/admin/users/{uid}")
    assert sign_in(app.test_client(), "county_K1").status_code == 302


def test_an_admin_cannot_disable_their_own_account(admin, sanhu):
    uid = user_id(sanhu, "admin")
    response = post(admin, f"/admin/users/{uid}/disable", {}, form_path=f"/admin/users/{uid}")
    assert "不能停用自己的账号" in text(admin.get(response.location))
    assert get_user(sanhu, "admin").active


def test_an_admin_cannot_change_their_own_role(admin, sanhu):
    uid = user_id(sanhu, "admin")
    response = post(admin, f"/admin/users/{uid}", {
        "display_name": "管理员", "role": "city_staff", "unit": "C"})
    assert "不能修改自己的角色或所属单位" in text(response)
    assert get_user(sanhu, "admin").role == "admin"


def test_resetting_a_password_signs_the_user_out_and_the_old_one_fails(admin, signed_in, sanhu,
                                                                       app):
    victim = signed_in("sec_V111")
    uid = user_id(sanhu, "sec_V111")
    response = post(admin, f"/admin/users/{uid}/password",
                    {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                    form_path=f"/admin/users/{uid}")
    assert response.status_code == 302
    assert victim.get("/").status_code == 302
    assert sign_in(app.test_client(), "sec_V111", PASSWORD).status_code == 200
    assert sign_in(app.test_client(), "sec_V111", NEW_PASSWORD).status_code == 302


def test_a_short_reset_password_is_refused_beside_the_field(admin, sanhu, app):
    uid = user_id(sanhu, "sec_V111")
    response = post(admin, f"/admin/users/{uid}/password", {"password": "x" * 9,
                                                            "confirm": "x" * 9},
                    form_path=f"/admin/users/{uid}")
    assert "至少 10 个字符" in text(response)
    assert sign_in(app.test_client(), "sec_V111", PASSWORD).status_code == 302


# --- scope -----------------------------------------------------------------------


def test_a_county_admin_cannot_see_or_change_the_other_county(admin_k1, sanhu, world):
    other_user = user_id(sanhu, "county_K2")
    other_unit = world.units["K2"].id
    assert admin_k1.get(f"/admin/users/{other_user}").status_code == 404
    assert admin_k1.get(f"/admin/units/{other_unit}").status_code == 404
    assert admin_k1.get(f"/admin/units/{world.units['C'].id}").status_code == 404
    token = csrf_token(admin_k1, "/admin/users")
    for path in [f"/admin/users/{other_user}/disable", f"/admin/units/{other_unit}/rename"]:
        assert admin_k1.post(path, data={"csrf_token": token, "name": "x"}).status_code == 404
    assert get_user(sanhu, "county_K2").active
    html = text(admin_k1.get("/admin/users"))
    assert "county_K1" in html and "county_K2" not in html and "sec_V211" not in html
    response = post(admin_k1, "/admin/users/new", {
        "username": "sneaky", "display_name": "越权", "role": "village_secretary",
        "unit": "V211", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert "您的管辖范围内没有该代码的单位" in text(response)


def test_a_county_admins_tree_starts_at_their_county(admin_k1, world):
    html = text(admin_k1.get("/admin/units"))
    assert "乡11" in html and "乡21" not in html
    assert f'href="/admin/units/{world.units["C"].id}"' not in html


def test_a_county_admin_sees_the_calendar_but_cannot_import_it(admin_k1):
    assert admin_k1.get("/admin/calendar").status_code == 200
    response = post(admin_k1, "/admin/calendar", {"rows": "2030-01-01,holiday,元旦"})
    assert response.status_code == 403


# --- units -----------------------------------------------------------------------


def test_the_unit_tree_shows_one_level_with_counts_and_breadcrumbs(admin, world):
    html = text(admin.get("/admin/units"))
    assert "县1" in html and "县2" in html and "乡11" not in html
    html = text(admin.get(f"/admin/units/{world.units['T11'].id}"))
    assert "村111" in html and "村112" in html and "村121" not in html
    assert f'href="/admin/units/{world.units["K1"].id}"' in html  # breadcrumb
    assert 'class="breadcrumb"' in html


def test_an_admin_creates_a_child_unit_whose_level_follows_the_parent(admin, sanhu, world):
    t11 = world.units["T11"].id
    response = post(admin, f"/admin/units/{t11}/children", {"code": "V113", "name": "新村"},
                    form_path=f"/admin/units/{t11}")
    assert response.status_code == 302
    with sanhu.uow() as uow:
        unit = uow.session.scalar(select(Unit).where(Unit.code == "V113"))
        assert (unit.level, unit.parent_id, unit.county_id) == ("village", t11,
                                                                 world.units["K1"].id)
    assert "新村" in text(admin.get(response.location))


def test_a_duplicate_unit_code_is_reported_and_nothing_is_created(admin, sanhu, world):
    t11 = world.units["T11"].id
    before = unit_count(sanhu)
    response = post(admin, f"/admin/units/{t11}/children", {"code": "V111", "name": "重复"},
                    form_path=f"/admin/units/{t11}")
    assert "该代码的单位已存在" in text(response)
    assert unit_count(sanhu) == before


def test_an_admin_renames_a_unit(admin, sanhu, world):
    k2 = world.units["K2"].id
    response = post(admin, f"/admin/units/{k2}/rename", {"name": "西河县"},
                    form_path=f"/admin/units/{k2}")
    assert response.status_code == 302
    with sanhu.uow() as uow:
        assert uow.session.get(Unit, k2).name == "西河县"


# --- imports ---------------------------------------------------------------------


def test_a_unit_import_with_one_bad_row_imports_nothing_and_names_the_line(admin, sanhu):
    before = unit_count(sanhu)
    content = ("代码,名称,层级,上级代码\n"
               "T13,新乡,乡镇,K1\n"
               "V131,新村一,村,T13\n"
               "V132,新村二,村庄,T13\n")
    response = admin.post("/admin/import/units", data={
        "csrf_token": csrf_token(admin, "/admin/import/units"), "file": csv_upload(content)},
        content_type="multipart/form-data")
    html = text(response)
    assert "未导入任何数据" in html
    row = re.search(r"<tr><td>4</td><td>([^<]*)</td><td>([^<]*)</td>", html)
    assert row and row.group(1) == "层级" and "未知的层级" in row.group(2)
    assert unit_count(sanhu) == before


def test_a_good_unit_file_imports_every_row(admin, sanhu, world):
    upload = xlsx_upload([["code", "name", "level", "parent_code"],
                          ["T13", "新乡", "township", "K1"],
                          [1301, "新村一", "村", "T13"]])
    response = admin.post("/admin/import/units", data={
        "csrf_token": csrf_token(admin, "/admin/import/units"), "file": upload},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert "已导入 2 行" in text(admin.get(response.location))
    with sanhu.uow() as uow:
        village = uow.session.scalar(select(Unit).where(Unit.code == "1301"))
        assert village.level == "village" and village.county_id == world.units["K1"].id


def test_a_user_import_lists_every_bad_row_and_imports_nothing(admin, sanhu):
    content = ("用户名,姓名,角色,单位代码,邮箱,电话,职务,初始密码\n"
               "zhao,赵一,村党组织书记,V111,,,书记,long-enough-1\n"
               "qian,钱二,county_staff,V111,,,,long-enough-2\n"
               "sec_V112,孙三,village_secretary,V112,,,,long-enough-3\n"
               "li,李四,village_secretary,NOPE,,,,short\n")
    response = admin.post("/admin/import/users", data={
        "csrf_token": csrf_token(admin, "/admin/import/users"),
        "file": csv_upload(content, encoding="gb18030")}, content_type="multipart/form-data")
    html = text(response)
    for line in ("3", "4", "5"):
        assert f"<tr><td>{line}</td>" in html
    assert "<tr><td>2</td>" not in html
    assert get_user(sanhu, "zhao") is None


def test_a_good_user_file_imports_everyone_who_can_then_sign_in(admin, sanhu, app):
    content = ("\ufeffusername,display_name,role,unit_code,email,phone,post,password\n"
               "zhou,周五,village_secretary,V121,zhou@example.cn,139,书记,long-enough-1\n"
               "wu,吴六,township_staff,T12,,,,long-enough-2\n")
    response = admin.post("/admin/import/users", data={
        "csrf_token": csrf_token(admin, "/admin/import/users"), "file": csv_upload(content)},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert get_user(sanhu, "zhou").post == "书记"
    assert sign_in(app.test_client(), "wu", "long-enough-2").status_code == 302


def test_import_templates_download_with_the_expected_headers(admin):
    response = admin.get("/admin/import/users/template.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    assert next(sheet.iter_rows(values_only=True))[:3] == ("用户名", "姓名", "角色")
    csv_text = admin.get("/admin/import/units/template.csv").data.decode("utf-8-sig")
    assert csv_text.strip() == "代码,名称,层级,上级代码"
    assert admin.get("/admin/import/nothing").status_code == 404


def problem_rows(html: str) -> dict[str, str]:
    """Bad rows of the import page: line → message."""
    return dict(re.findall(r"<tr><td>(\d+)</td><td>[^<]*</td><td>([^<]*)</td>", html))


def test_a_county_admin_reads_the_same_words_for_any_code_or_username_outside_the_county(
        admin_k1, sanhu):
    units = ("代码,名称,层级,上级代码\n"
             "V111,本县已有,村,T11\n"    # 2 mine
             "V211,外县已有,村,T11\n"    # 3 another county
             "C,市本身,村,T11\n"         # 4 the city
             "V 9,带空格,村,T11\n")      # 5 unusable
    html = text(admin_k1.post("/admin/import/units", data={
        "csrf_token": csrf_token(admin_k1, "/admin/import/units"), "file": csv_upload(units)},
        content_type="multipart/form-data"))
    rows = problem_rows(html)
    assert "您的辖区内已有此代码的单位" in rows["2"]
    assert rows["3"] == rows["4"] == rows["5"] == "此代码不可用，请换一个（不含空格）。"
    assert "县2" not in html and "乡21" not in html and "已存在" not in rows["3"]
    users = ("用户名,姓名,角色,单位代码,邮箱,电话,职务,初始密码\n"
             "sec_V111,本县已有,村党组织书记,V111,,,,long-enough-1\n"
             "sec_V211,外县已有,村党组织书记,V111,,,,long-enough-2\n"
             "has space,带空格,村党组织书记,V111,,,,long-enough-3\n")
    html = text(admin_k1.post("/admin/import/users", data={
        "csrf_token": csrf_token(admin_k1, "/admin/import/users"), "file": csv_upload(users)},
        content_type="multipart/form-data"))
    rows = problem_rows(html)
    assert "您的辖区内已有此用户名" in rows["2"]
    assert rows["3"] == rows["4"] == "此用户名不可用，请换一个（不含空格）。"


# --- calendar --------------------------------------------------------------------


def test_the_calendar_page_lists_official_and_provisional_years(admin):
    html = text(admin.get("/admin/calendar"))
    assert "2026 · 官方" in html
    assert "year-provisional" in html


def test_a_calendar_import_with_a_bad_line_imports_nothing(admin, sanhu):
    content = "date,kind,name\n2030-01-01,holiday,元旦\n2030-02-30,holiday,春节\n"
    response = admin.post("/admin/calendar", data={
        "csrf_token": csrf_token(admin, "/admin/calendar"), "file": csv_upload(content)},
        content_type="multipart/form-data")
    html = text(response)
    assert "未导入任何数据" in html and "<tr><td>3</td>" in html
    with sanhu.uow() as uow:
        assert uow.session.get(CalendarYear, 2030) is None


def test_a_calendar_import_makes_the_year_official(admin, sanhu):
    response = admin.post("/admin/calendar", data={
        "csrf_token": csrf_token(admin, "/admin/calendar"),
        "file": csv_upload("2030-01-01,holiday,元旦\n2030-02-02,workday,春节调休\n")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert "2030" in text(admin.get(response.location))
    with sanhu.uow() as uow:
        assert uow.session.get(CalendarYear, 2030) is not None


def test_pasted_rows_import_like_a_file(admin, sanhu):
    response = post(admin, "/admin/calendar", {"rows": "2031-01-01,holiday,元旦"})
    assert response.status_code == 302
    with sanhu.uow() as uow:
        assert uow.session.get(CalendarYear, 2031) is not None


def test_provisional_deadlines_raise_a_warning_on_calendar_and_start_page(admin, sanhu, world):
    with sanhu.uow() as uow:
        item = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                  description="村务公开栏未更新")
    with sanhu.uow() as uow:
        uow.session.execute(update(Item).where(Item.id == item.id).values(
            state="assigned", deadline=dt.date(2030, 1, 15), deadline_provisional=True))
        uow.commit()
    for path in ("/admin/calendar", "/admin/"):
        html = text(admin.get(path))
        assert "calendar-warning" in html and "1 个未办结问题的期限为暂定" in html


# --- both databases --------------------------------------------------------------


@pytest.fixture
def any_admin(any_sanhu, any_world):
    """An admin client on SQLite and on PostgreSQL."""
    from web import create_app

    client = create_app(sanhu=any_sanhu).test_client()
    assert sign_in(client, "admin").status_code == 302
    return client


def test_the_admin_pages_work_the_same_on_both_databases(any_admin, any_sanhu, any_world):
    for path in ("/admin/", "/admin/units", f"/admin/units/{any_world.units['T11'].id}",
                 "/admin/calendar", "/admin/import/units"):
        assert any_admin.get(path).status_code == 200, path
    html = text(any_admin.get("/admin/users?q=SEC_v11&role=village_secretary"))
    assert "sec_V111" in html and "sec_V121" not in html
    html = text(any_admin.get(f"/admin/users?under={any_world.units['K2'].id}"))
    assert "county_K2" in html and "county_K1" not in html
    uid = user_id(any_sanhu, "sec_V111")
    post(any_admin, f"/admin/users/{uid}/disable", {}, form_path=f"/admin/users/{uid}")
    assert not get_user(any_sanhu, "sec_V111").active
    response = post(any_admin, "/admin/calendar", {"rows": "2032-01-01,holiday,元旦"})
    assert response.status_code == 302
    assert "2032 · 官方" in text(any_admin.get("/admin/calendar"))


def test_importing_a_year_settles_its_provisional_deadlines_with_a_history_entry(
        admin, sanhu, world):
    ids = []
    for day in (dt.date(2027, 1, 1), dt.date(2027, 1, 5)):
        with sanhu.uow() as uow:
            item = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                      description="村务公开栏未更新")
            uow.session.execute(update(Item).where(Item.id == item.id).values(
                state="assigned", deadline=day, deadline_provisional=True))
            uow.commit()
        ids.append(item.id)
    response = post(admin, "/admin/calendar", {"rows": "2027-01-01,holiday,元旦"})
    assert response.status_code == 302
    with sanhu.uow() as uow:
        holiday, workday = (uow.session.get(Item, i) for i in ids)
        assert (holiday.deadline, holiday.deadline_provisional) == (dt.date(2027, 1, 4), False)
        assert (workday.deadline, workday.deadline_provisional) == (dt.date(2027, 1, 5), False)
        events = uow.session.scalars(select(ItemEvent.event).where(ItemEvent.item_id == ids[0])
                                     .order_by(ItemEvent.seq)).all()
    assert events[-1] == "settle_deadline"
    assert "个未办结问题的期限为暂定" not in text(admin.get("/admin/calendar"))
