"""Login throttling in the database: per username and per client address, shared by workers.

Runs on SQLite and, when ``SANHU_TEST_DATABASE_URL`` is set, on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import time_machine
from conftest import PASSWORD
from sqlalchemy import select

from ledger.core.errors import ValidationError
from ledger.core.models import LoginThrottle, User
from ledger.core.settings import Settings
from ledger.org import throttle
from ledger.org.directory import check_password

START = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
POLICY = throttle.Policy(max_failures=3, window=dt.timedelta(minutes=15),
                         lock=dt.timedelta(minutes=15))


def attempt(sanhu, username, password, address="10.0.0.1", policy=POLICY):
    with sanhu.uow() as uow:
        return throttle.sign_in(uow, username, password, address, policy)


def fail(sanhu, username, times, address="10.0.0.1"):
    for _ in range(times):
        result = attempt(sanhu, username, "wrong", address)
    return result


def test_the_policy_follows_the_settings():
    policy = throttle.Policy.of(Settings(login_max_failures=7, login_window_minutes=10,
                                         login_lock_minutes=30))
    assert policy == throttle.Policy(7, dt.timedelta(minutes=10), dt.timedelta(minutes=30))
    env = {"SANHU_LOGIN_MAX_FAILURES": "4", "SANHU_LOGIN_LOCK_MINUTES": "20"}
    s = Settings.from_env(env)
    assert (s.login_max_failures, s.login_lock_minutes, s.login_window_minutes) == (4, 20, 15)


def test_the_right_password_signs_in_and_a_wrong_one_does_not(any_sanhu, any_world):
    with time_machine.travel(START, tick=False):
        assert attempt(any_sanhu, "city", PASSWORD).user.username == "city"
        result = attempt(any_sanhu, "city", "wrong")
        assert result.user is None and result.locked_until is None


def test_a_username_is_locked_after_too_many_failures_even_for_the_right_password(
        any_sanhu, any_world):
    with time_machine.travel(START, tick=False):
        assert fail(any_sanhu, "city", 2).locked_until is None
        locked = fail(any_sanhu, "city", 1)
        assert locked.locked_until == START + dt.timedelta(minutes=15)
        refused = attempt(any_sanhu, "city", PASSWORD)
        assert refused.user is None and refused.locked_until == locked.locked_until
        # other users at the same address still get in
        assert attempt(any_sanhu, "county_K1", PASSWORD).user is not None
    with time_machine.travel(START + dt.timedelta(minutes=15, seconds=1), tick=False):
        assert attempt(any_sanhu, "city", PASSWORD).user is not None


def test_failures_outside_the_window_do_not_add_up(any_sanhu, any_world):
    with time_machine.travel(START, tick=False):
        fail(any_sanhu, "city", 2)
    with time_machine.travel(START + dt.timedelta(minutes=16), tick=False):
        assert fail(any_sanhu, "city", 2).locked_until is None
        assert fail(any_sanhu, "city", 1).locked_until is not None


def test_a_success_clears_the_username_count(any_sanhu, any_world):
    with time_machine.travel(START, tick=False):
        fail(any_sanhu, "city", 2)
        assert attempt(any_sanhu, "city", PASSWORD).user is not None
        assert fail(any_sanhu, "city", 2).locked_until is None


def test_the_username_key_ignores_case_and_spaces(any_sanhu, any_world):
    with time_machine.travel(START, tick=False):
        fail(any_sanhu, "City", 1)
        fail(any_sanhu, " city ", 1)
        assert fail(any_sanhu, "CITY", 1).locked_until is not None


def test_one_address_gets_four_times_as_many_tries_across_usernames(any_sanhu, any_world):
    limit = POLICY.max_failures * throttle.IP_FACTOR
    with time_machine.travel(START, tick=False):
        for i in range(limit - 1):
            assert attempt(any_sanhu, f"nobody{i}", "x", "10.9.9.9").locked_until is None
        assert attempt(any_sanhu, "nobody-last", "x", "10.9.9.9").locked_until is not None
        assert attempt(any_sanhu, "city", PASSWORD, "10.9.9.9").user is None
        assert attempt(any_sanhu, "city", PASSWORD, "10.9.9.10").user is not None


def test_unknown_and_disabled_users_count_as_failures(any_sanhu, any_world):
    with any_sanhu.uow() as uow:
        uow.session.scalar(select(User).where(User.username == "city")).active = False
        uow.commit()
    with time_machine.travel(START, tick=False):
        assert attempt(any_sanhu, "city", PASSWORD).user is None
        fail(any_sanhu, "ghost", 3)
    with any_sanhu.uow() as uow:
        rows = {r.key: r.failures for r in uow.session.scalars(select(LoginThrottle))}
    assert rows["user:city"] == 1 and "user:ghost" in rows and rows["ip:10.0.0.1"] == 4


def test_changing_the_password_checks_it_and_bumps_the_session_version(any_sanhu, any_world):
    uid = any_world["city"].id
    with any_sanhu.uow() as uow:
        for current, new, field in ((PASSWORD + "x", "a-long-new-pass", "current"),
                                    (PASSWORD, "short", "new"),
                                    (PASSWORD, "CITY", "new")):
            with pytest.raises(ValidationError) as err:
                throttle.change_password(uow, uid, current=current, new=new)
            assert field in err.value.fields
        before = uow.session.get(User, uid).session_version
    with any_sanhu.uow() as uow:
        user = throttle.change_password(uow, uid, current=PASSWORD, new="a-long-new-pass")
        assert user.session_version == before + 1
    with any_sanhu.uow() as uow:
        assert check_password(uow.session.get(User, uid), "a-long-new-pass")


def test_a_success_drops_rows_of_passed_windows_but_keeps_locks(any_sanhu, any_world):
    with time_machine.travel(START, tick=False):
        fail(any_sanhu, "ghost", 1, "10.0.0.7")
        fail(any_sanhu, "locked", 3, "10.0.0.8")
    with time_machine.travel(START + dt.timedelta(minutes=16), tick=False):
        fail(any_sanhu, "recent", 1, "10.0.0.9")
        assert attempt(any_sanhu, "city", PASSWORD, "10.0.0.9").user is not None
    with any_sanhu.uow() as uow:
        keys = set(uow.session.scalars(select(LoginThrottle.key)))
    assert keys == {"user:recent", "ip:10.0.0.9"}
    # a lock still running is kept, though its window has passed
    long_lock = dataclasses.replace(POLICY, lock=dt.timedelta(hours=1))
    with time_machine.travel(START + dt.timedelta(minutes=20), tick=False):
        for _ in range(3):
            attempt(any_sanhu, "locked2", "wrong", "10.0.0.10", long_lock)
    with time_machine.travel(START + dt.timedelta(minutes=40), tick=False):
        assert attempt(any_sanhu, "city", PASSWORD, "10.0.0.11", long_lock).user is not None
    with any_sanhu.uow() as uow:
        keys = set(uow.session.scalars(select(LoginThrottle.key)))
    assert "user:locked2" in keys and "user:recent" not in keys
