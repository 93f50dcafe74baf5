"""Sessions end when they should: sign-out and account changes end every copy; lifetimes hold.

Every cookie of a signed-in browser is copied into a second client, as a thief
with the cookie jar would; after sign-out (or a change made by an admin) the
copy is refused.  Idle and absolute lifetimes are checked with time-machine.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from conftest import PASSWORD
from web_fixtures import csrf_token, sign_in

from ledger.org import admin as org_admin

START = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)


def copy_cookies(source, target, names=("session", "remember_token")) -> None:
    for name in names:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def refused(client) -> bool:
    response = client.get("/")
    return response.status_code == 302 and "/login" in response.location


def sign_out(client) -> None:
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302


@pytest.mark.parametrize("cookies", [("session",), ("remember_token",),
                                     ("session", "remember_token")])
def test_copied_cookies_are_refused_after_sign_out(app, world, cookies):
    browser, thief = app.test_client(), app.test_client()
    assert sign_in(browser, "county_K1", remember="y").status_code == 302
    copy_cookies(browser, thief, cookies)
    sign_out(browser)
    assert refused(thief)
    assert refused(browser)


def test_a_copied_remember_cookie_used_before_sign_out_is_refused_after_it(app, world):
    browser, thief = app.test_client(), app.test_client()
    sign_in(browser, "county_K1", remember="y")
    copy_cookies(browser, thief, ("remember_token",))
    assert thief.get("/").status_code == 200  # it is a bearer token while the session lives
    sign_out(browser)
    assert refused(thief)


def test_sign_out_also_ends_the_users_other_devices(app, world):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, "town_T11")
    sign_in(phone, "town_T11", remember="y")
    sign_out(laptop)
    assert refused(phone)
    assert sign_in(phone, "town_T11").status_code == 302  # signing in again works


@pytest.mark.parametrize("change", ["role", "unit", "disable", "reset"])
def test_an_admin_change_of_role_unit_access_or_password_ends_the_users_sessions(
        app, sanhu, world, change):
    victim = app.test_client()
    sign_in(victim, "sup_K1", remember="y")
    victim.delete_cookie("session")
    assert victim.get("/").status_code == 200
    with sanhu.uow() as uow:
        uid = world["sup_K1"].id
        if change == "role":
            org_admin.update_user(uow, world["admin"], uid, display_name="sup_K1",
                                  role="county_staff", unit_code="K1")
        elif change == "unit":
            org_admin.update_user(uow, world["admin"], uid, display_name="sup_K1",
                                  role="supervisor", unit_code="K2")
        elif change == "disable":
            org_admin.set_active(uow, world["admin"], uid, False)
        else:
            org_admin.reset_password(uow, world["admin"], uid, "Rotated-by-admin-77")
    assert refused(victim)


def test_an_admin_edit_that_keeps_role_and_unit_keeps_the_session(app, sanhu, world):
    user = app.test_client()
    sign_in(user, "sup_K1")
    with sanhu.uow() as uow:
        org_admin.update_user(uow, world["admin"], world["sup_K1"].id, display_name="新名字",
                              role="supervisor", unit_code="K1", phone="123456")
    assert user.get("/").status_code == 200


def test_a_session_ends_after_two_idle_hours(app, world):
    client = app.test_client()
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(client, "city")
        traveller.shift(dt.timedelta(minutes=119))
        assert client.get("/").status_code == 200  # activity keeps it alive
        traveller.shift(dt.timedelta(minutes=119))
        assert client.get("/").status_code == 200
        traveller.shift(dt.timedelta(minutes=121))
        assert refused(client)


def test_a_busy_session_still_ends_after_twelve_hours(app, world):
    client = app.test_client()
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(client, "city")
        for _ in range(11):
            traveller.shift(dt.timedelta(minutes=60))
            assert client.get("/").status_code == 200
        traveller.shift(dt.timedelta(minutes=59))
        assert client.get("/").status_code == 200
        traveller.shift(dt.timedelta(minutes=2))
        assert refused(client)


def test_the_lifetimes_come_from_the_settings(sanhu, world):
    import dataclasses

    from web import create_app

    short = dataclasses.replace(sanhu, settings=sanhu.settings.with_(
        session_idle_minutes=5, session_max_hours=1))
    client = create_app(sanhu=short).test_client()
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(client, "city")
        traveller.shift(dt.timedelta(minutes=6))
        assert refused(client)


def test_a_remembered_device_gets_a_new_session_until_the_remember_period_ends(app, world):
    client = app.test_client()
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(client, "city", remember="y")
        traveller.shift(dt.timedelta(hours=13))
        assert client.get("/").status_code == 200  # a fresh session from the remember cookie
        traveller.shift(dt.timedelta(days=13, hours=10))
        assert client.get("/").status_code == 200
        traveller.shift(dt.timedelta(hours=2))
        assert refused(client)


def test_a_remember_cookie_kept_past_its_period_is_refused_by_the_server(app, world):
    browser, thief = app.test_client(), app.test_client()
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(browser, "city", remember="y")
        remembered = browser.get_cookie("remember_token").value
        traveller.shift(dt.timedelta(days=15))
        thief.set_cookie("remember_token", remembered)  # a copy without the browser's expiry
        assert refused(thief)


def test_twenty_five_wrong_current_passwords_do_not_buy_a_password_change(app, sanhu, world):
    client = app.test_client()
    with time_machine.travel(START, tick=False) as traveller:
        sign_in(client, "county_K1")
        for _ in range(25):
            client.post("/account", data={
                "current": "a-wrong-guess", "new": "Another-secret-42", "confirm":
                "Another-secret-42", "csrf_token": csrf_token(client, "/account")})
        response = client.post("/account", data={
            "current": PASSWORD, "new": "Another-secret-42", "confirm": "Another-secret-42",
            "csrf_token": csrf_token(client, "/account")})
        assert response.status_code == 200
        assert "尝试次数过多" in response.get_data(as_text=True)
        traveller.shift(dt.timedelta(minutes=16))
        response = client.post("/account", data={
            "current": PASSWORD, "new": "Another-secret-42", "confirm": "Another-secret-42",
            "csrf_token": csrf_token(client, "/account")})
        assert response.status_code == 302


def test_a_remembered_device_stays_signed_in_over_several_requests(app, world):
    client = app.test_client()
    sign_in(client, "city", remember="y")
    client.delete_cookie("session")
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert client.get_cookie("remember_token") is not None


def test_the_session_settings_are_read_from_the_environment():
    from ledger.core.settings import Settings

    s = Settings.from_env({"SANHU_SESSION_IDLE_MINUTES": "30", "SANHU_SESSION_MAX_HOURS": "8",
                           "SANHU_KNOWN_DEVICE_DAYS": "7"})
    assert (s.session_idle_minutes, s.session_max_hours, s.known_device_days) == (30, 8, 7)
    assert (Settings().session_idle_minutes, Settings().session_max_hours) == (120, 12)
