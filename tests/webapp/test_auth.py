"""Sign-in hardening: throttling, remember-me cookie, sign-out, the account page, headers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from email.utils import parsedate_to_datetime

import pytest
import time_machine
from conftest import PASSWORD
from sqlalchemy import update
from web_fixtures import csrf_token, sign_in

from ledger.core.models import User
from web import create_app

START = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
NEW_PASSWORD = "a-brand-new-secret"


def set_cookies(response, name: str) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]


# --- throttling ----------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_username_even_for_the_right_one(client, world):
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            html = sign_in(client, "city", "wrong").get_data(as_text=True)
            assert "用户名或密码错误" in html
        html = sign_in(client, "city", "wrong").get_data(as_text=True)
        assert "尝试次数过多，请于 10:15 之后再试" in html
        response = sign_in(client, "city", PASSWORD)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and "尝试次数过多，请于 10:15 之后再试" in html
        assert 'value="city"' in html  # the username typed is kept
    with time_machine.travel(START + dt.timedelta(minutes=15, seconds=1), tick=False):
        assert sign_in(client, "city", PASSWORD).status_code == 302


def test_the_lock_message_is_english_with_the_english_cookie(client, world):
    client.set_cookie("sanhu_lang", "en")
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            response = sign_in(client, "city", "wrong")
    assert "Too many attempts. Please try again after 10:15." in response.get_data(as_text=True)


def test_one_client_address_is_locked_after_four_times_as_many_failures(app, world):
    office, elsewhere = app.test_client(), app.test_client()
    office.environ_base["REMOTE_ADDR"] = "10.1.1.1"
    elsewhere.environ_base["REMOTE_ADDR"] = "10.2.2.2"
    with time_machine.travel(START, tick=False):
        for i in range(20):
            sign_in(office, f"typo{i}", "wrong")
        assert sign_in(office, "city").status_code == 200
        assert sign_in(elsewhere, "city").status_code == 302


def test_a_success_clears_the_count_of_the_username(client, world):
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            sign_in(client, "city", "wrong")
        assert sign_in(client, "city").status_code == 302
        client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
        for _ in range(4):
            sign_in(client, "city", "wrong")
        assert sign_in(client, "city").status_code == 302


def test_the_throttle_settings_are_read_from_the_settings(sanhu, world):
    strict = dataclasses.replace(sanhu, settings=sanhu.settings.with_(
        login_max_failures=2, login_lock_minutes=60))
    client = create_app(sanhu=strict).test_client()
    with time_machine.travel(START, tick=False):
        sign_in(client, "city", "wrong")
        assert "11:00" in sign_in(client, "city", "wrong").get_data(as_text=True)


# --- disabled users, sign-out ----------------------------------------------------------


def test_a_disabled_user_cannot_sign_in_and_is_signed_out(sanhu, world, signed_in):
    client = signed_in("county_K1")
    with sanhu.uow() as uow:
        uow.session.execute(update(User).where(User.username == "county_K1").values(active=False))
        uow.commit()
    assert client.get("/").status_code == 302
    response = sign_in(client, "county_K1")
    assert response.status_code == 200 and "账号已停用" in response.get_data(as_text=True)


def test_sign_out_needs_a_post_with_the_csrf_token(signed_in):
    client = signed_in("city")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    assert client.get("/").status_code == 302


def test_only_local_paths_are_followed_after_sign_in(client, world):
    token = csrf_token(client)
    for target, expected in (("//evil.example/x", "/"), ("https://evil.example/", "/"),
                             ("/ledger/?status=found", "/ledger/?status=found")):
        response = client.post(f"/login?next={target}", data={
            "username": "city", "password": PASSWORD, "csrf_token": token})
        assert response.location == expected
        client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
        token = csrf_token(client)


# --- remember me -----------------------------------------------------------------------


def test_without_the_box_no_remember_cookie_is_set_now_or_later(client, world):
    response = sign_in(client, "city")
    assert response.status_code == 302 and not set_cookies(response, "remember_token")
    assert not set_cookies(client.get("/"), "remember_token")


def test_the_remember_cookie_lasts_fourteen_days_and_is_httponly_and_lax(client, world):
    with time_machine.travel(START, tick=False):
        response = sign_in(client, "city", remember="y")
        [cookie] = set_cookies(response, "remember_token")
        expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
        assert expires == START + dt.timedelta(days=14)
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        # not refreshed on every request (Flask-Login issue #824)
        assert not set_cookies(client.get("/"), "remember_token")


def test_a_remembered_device_stays_signed_in_after_the_session_ends(client, world):
    sign_in(client, "city", remember="y")
    client.delete_cookie("session")
    assert client.get("/").status_code == 200


def test_cookies_are_secure_when_configured(sanhu, world):
    secure = dataclasses.replace(sanhu, settings=sanhu.settings.with_(secure_cookies=True))
    client = create_app(sanhu=secure).test_client()
    response = sign_in(client, "city", remember="y")
    [remember] = set_cookies(response, "remember_token")
    [session] = set_cookies(response, "session")
    assert "Secure" in remember and "Secure" in session
    assert "Strict-Transport-Security" in response.headers


# --- the account page ------------------------------------------------------------------


def change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/account", data={
        "current": current, "new": new, "confirm": new if confirm is None else confirm,
        "csrf_token": csrf_token(client, "/account")})


def test_the_account_page_shows_name_unit_and_role(signed_in):
    html = signed_in("county_K1").get("/account").get_data(as_text=True)
    assert "county_K1" in html and "县1" in html and "县委组织部" in html
    assert "修改密码" in html


def test_the_account_page_needs_sign_in(client):
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("current, new, confirm, message", [
    ("wrong-password", NEW_PASSWORD, None, "当前密码不正确"),
    (PASSWORD, "short1", None, "至少 10 个字符"),
    (PASSWORD, "county_k1-new", None, "密码不能包含用户名"),
    (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "两次输入的新密码不一致"),
])
def test_a_bad_password_change_is_refused_with_a_reason(signed_in, current, new, confirm,
                                                       message):
    client, other = signed_in("county_K1"), signed_in("county_K1")
    response = change(client, current, new, confirm)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert other.get("/").status_code == 200  # nothing changed


def test_a_password_change_keeps_this_session_and_signs_out_the_others(signed_in, client):
    mine, other = signed_in("county_K1"), signed_in("county_K1")
    response = change(mine)
    assert response.status_code == 302 and response.location == "/account"
    assert "密码已修改" in mine.get("/account").get_data(as_text=True)
    assert mine.get("/").status_code == 200
    assert other.get("/").status_code == 302
    assert sign_in(client, "county_K1", PASSWORD).status_code == 200
    assert sign_in(client, "county_K1", NEW_PASSWORD).status_code == 302


def test_a_password_change_signs_out_remembered_devices_but_renews_this_one(signed_in, app,
                                                                          world):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "town_T11", remember="y")
    sign_in(phone, "town_T11", remember="y")
    response = change(laptop)
    assert set_cookies(response, "remember_token")  # this device gets the new id
    for device in (laptop, phone):
        device.delete_cookie("session")
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302


# --- headers and pages -----------------------------------------------------------------


def test_every_page_sends_a_csp_without_unsafe_inline_and_has_no_inline_code(signed_in, client):
    pages = [client.get("/login")]
    user = signed_in("sec_V111")
    pages += [user.get("/"), user.get("/account")]
    for response in pages:
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
        assert "style=" not in html and "<style" not in html
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_every_form_carries_a_csrf_token(signed_in):
    html = signed_in("city").get("/account").get_data(as_text=True)
    forms = re.findall(r"<form\b.*?</form>", html, flags=re.S)
    assert len(forms) >= 3  # sign out, language, password
    assert all('name="csrf_token"' in form for form in forms)


def test_behind_a_configured_proxy_the_client_address_is_the_forwarded_one(sanhu, world):
    import dataclasses

    from web import create_app

    behind_proxy = dataclasses.replace(sanhu, settings=sanhu.settings.with_(proxy_hops=1))
    app = create_app(sanhu=behind_proxy)
    seen = {}

    @app.get("/_addr")
    def addr():
        from flask import request
        seen["addr"] = request.remote_addr
        return "ok"

    app.test_client().get("/_addr", headers={"X-Forwarded-For": "10.1.2.3"},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen["addr"] == "10.1.2.3"
