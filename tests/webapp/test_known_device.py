"""Lock-outs that a colleague cannot turn against the office.

Twenty failures from one address lock the address, and five lock a username,
but only for browsers that never signed in as that user: the owner's browser
carries a signed "known device" cookie and gets in with the right password.
"""

from __future__ import annotations

import datetime as dt

import time_machine
from web_fixtures import csrf_token, sign_in

START = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
OFFICE = "10.1.1.1"


def at(app, address=OFFICE):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def sign_out(client) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_a_colleague_cannot_lock_the_owner_out_of_their_own_browser(app, world):
    owner, colleague, newcomer = at(app), at(app), at(app)
    with time_machine.travel(START - dt.timedelta(days=3), tick=False):
        assert sign_in(owner, "county_K1").status_code == 302
        sign_out(owner)
    with time_machine.travel(START, tick=False):
        for i in range(20):
            sign_in(colleague, f"typo{i}", "wrong")
        for _ in range(6):
            sign_in(colleague, "county_K1", "wrong")
        locked = sign_in(colleague, "county_K1")
        assert locked.status_code == 200 and "尝试次数过多" in locked.get_data(as_text=True)
        refused = sign_in(newcomer, "city")  # an unknown browser behind the same address
        assert refused.status_code == 200 and "尝试次数过多" in refused.get_data(as_text=True)
        assert sign_in(owner, "county_K1").status_code == 302


def test_the_known_device_cookie_is_signed_httponly_and_names_only_its_users(app, world):
    owner, other = at(app), at(app)
    with time_machine.travel(START, tick=False):
        response = sign_in(owner, "county_K1")
        [cookie] = [h for h in response.headers.getlist("Set-Cookie")
                    if h.startswith("sanhu_device=")]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        for i in range(20):
            sign_in(other, f"typo{i}", "wrong")
        # known for county_K1 only: another user's sign-in from this browser is still locked
        sign_out(owner)
        assert sign_in(owner, "city").status_code == 200
        # a tampered cookie counts as none
        forged = at(app)
        forged.set_cookie("sanhu_device", owner.get_cookie("sanhu_device").value + "x")
        assert sign_in(forged, "county_K1").status_code == 200


def test_a_known_device_still_gets_only_a_few_guesses(app, world):
    owner = at(app)
    with time_machine.travel(START, tick=False):
        sign_in(owner, "county_K1")
        sign_out(owner)
        for _ in range(5):
            sign_in(owner, "county_K1", "wrong")
        response = sign_in(owner, "county_K1")
        assert response.status_code == 200 and "尝试次数过多" in response.get_data(as_text=True)
    with time_machine.travel(START + dt.timedelta(minutes=16), tick=False):
        assert sign_in(owner, "county_K1").status_code == 302
