"""The password policy on every page that sets a password: the reason is shown in Chinese."""

from __future__ import annotations

import io

import pytest
from conftest import PASSWORD
from sqlalchemy import select
from web_fixtures import csrf_token, sign_in

from ledger.core.models import User

WHY = {"too simple": "过于简单", "too common": "最常用的密码",
       "contains username": "不能包含用户名"}


def text(response) -> str:
    return response.get_data(as_text=True)


def post(client, path: str, data: dict, form_path: str | None = None, **kw):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, form_path or path)},
                       **kw)


def user(sanhu, username: str) -> User | None:
    with sanhu.uow() as uow:
        return uow.session.scalar(select(User).where(User.username == username))


CASES = [("1234567890", "too simple"), ("aaaaaaaaaa", "too simple"),
         ("woaini1314", "too common"), ("qwerty123456", "too simple"),
         ("1qaz2wsx3edc", "too simple"), ("zhangsan-2026", "contains username")]


@pytest.mark.parametrize("password, code", CASES)
def test_an_admin_creating_a_user_sees_why_the_password_is_refused(signed_in, sanhu, password,
                                                                  code):
    response = post(signed_in("admin"), "/admin/users/new", {
        "username": "zhangsan", "display_name": "张三", "role": "village_secretary",
        "unit": "V111", "password": password, "confirm": password})
    assert WHY[code] in text(response)
    assert user(sanhu, "zhangsan") is None


@pytest.mark.parametrize("password, code", [("1234567890", "too simple"),
                                            ("woaini1314", "too common"),
                                            ("my-sec_v111-pass", "contains username")])
def test_an_admin_reset_sees_why_the_password_is_refused(signed_in, sanhu, app, password, code):
    uid = user(sanhu, "sec_V111").id
    response = post(signed_in("admin"), f"/admin/users/{uid}/password",
                    {"password": password, "confirm": password}, form_path=f"/admin/users/{uid}")
    assert WHY[code] in text(response)
    assert sign_in(app.test_client(), "sec_V111", PASSWORD).status_code == 302


@pytest.mark.parametrize("password, code", [("1234567890", "too simple"),
                                            ("woaini1314", "too common"),
                                            ("x-county_K1-y-z", "contains username")])
def test_the_account_page_says_why_a_new_password_is_refused(signed_in, password, code):
    client = signed_in("county_K1")
    response = post(client, "/account", {"current": PASSWORD, "new": password,
                                         "confirm": password})
    assert response.status_code == 200 and WHY[code] in text(response)


def test_the_user_import_says_per_row_why_a_password_is_refused(signed_in, sanhu):
    admin = signed_in("admin")
    content = ("用户名,姓名,角色,单位代码,邮箱,电话,职务,初始密码\n"
               "zhao,赵一,村党组织书记,V111,,,书记,long-enough-1\n"
               "qian,钱二,village_secretary,V111,,,,woaini1314\n"
               "sun,孙三,village_secretary,V112,,,,1234567890\n"
               "lisi,李四,village_secretary,V112,,,,lisi-2026-pass\n")
    response = admin.post("/admin/import/users", data={
        "csrf_token": csrf_token(admin, "/admin/import/users"),
        "file": (io.BytesIO(content.encode()), "users.csv")}, content_type="multipart/form-data")
    html = text(response)
    rows = {line: html.split(f"<tr><td>{line}</td>")[1].split("</tr>")[0] for line in "345"}
    assert WHY["too common"] in rows["3"]
    assert WHY["too simple"] in rows["4"]
    assert WHY["contains username"] in rows["5"]
    assert user(sanhu, "zhao") is None


def test_the_demo_password_passes_the_policy():
    from ledger.instance import demo
    from ledger.org.passwords import password_problem

    assert password_problem(demo.DEMO_PASSWORD, "county_admin") is None
