"""The web shell of the foundation: sign-in, scope on the home page, language, headers."""

from __future__ import annotations

from conftest import PASSWORD
from sqlalchemy import update
from web_fixtures import csrf_token, sign_in

from ledger.core.models import User
from ledger.items import services as svc


def record(sanhu, world, actor, village, text):
    with sanhu.uow() as uow:
        return svc.record_finding(uow, world[actor], unit_id=world.units[village].id,
                                  description=text)


def test_the_login_page_is_chinese_by_default_and_sends_a_strict_csp(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert "登录" in response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_login_post_without_csrf_token_is_refused(client, world):
    response = client.post("/login", data={"username": "city", "password": PASSWORD})
    assert response.status_code == 400


def test_a_wrong_password_shows_a_chinese_message_and_keeps_the_username(client, world):
    response = sign_in(client, "city", "wrong")
    html = response.get_data(as_text=True)
    assert "用户名或密码错误" in html
    assert 'value="city"' in html


def test_the_home_page_needs_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.location


def assign(sanhu, world, item, village):
    with sanhu.uow() as uow:
        svc.assign(uow, item.id, world["town_T11"], responsible_user_id=world[f"sec_{village}"].id,
                   category="deadline", deadline="10d")


def test_a_village_secretary_sees_only_the_items_of_their_village(sanhu, world, client):
    mine = record(sanhu, world, "town_T11", "V111", "本村制度未上墙")
    other = record(sanhu, world, "town_T11", "V112", "邻村台账缺失")
    assign(sanhu, world, mine, "V111")
    assign(sanhu, world, other, "V112")
    assert sign_in(client, "sec_V111").status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert mine.number in html
    assert other.number not in html


def test_township_staff_see_all_villages_of_their_township_only(sanhu, world, client):
    a = record(sanhu, world, "town_T11", "V111", "问题甲")
    b = record(sanhu, world, "town_T11", "V112", "问题乙")
    c = record(sanhu, world, "town_T12", "V121", "问题丙")
    sign_in(client, "town_T11")
    html = client.get("/").get_data(as_text=True)
    assert a.number in html and b.number in html and c.number not in html


def test_changing_the_password_version_signs_out_other_sessions(sanhu, world, client):
    sign_in(client, "county_K1")
    assert client.get("/").status_code == 200
    with sanhu.uow() as uow:
        uow.session.execute(update(User).where(User.username == "county_K1")
                            .values(session_version=User.session_version + 1))
        uow.commit()
    assert client.get("/").status_code == 302


def test_a_disabled_user_cannot_sign_in(sanhu, world, client):
    with sanhu.uow() as uow:
        uow.session.execute(update(User).where(User.username == "city").values(active=False))
        uow.commit()
    response = sign_in(client, "city")
    assert response.status_code == 200
    assert "账号已停用" in response.get_data(as_text=True)


def test_english_can_be_chosen_and_is_remembered(client, world):
    token = csrf_token(client)
    client.post("/language", data={"lang": "en", "csrf_token": token})
    assert "Sign in" in client.get("/login").get_data(as_text=True)


def test_sign_out_is_a_post_with_csrf(client, world):
    sign_in(client, "city")
    assert client.get("/logout").status_code == 405
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
