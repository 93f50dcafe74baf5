"""Sign-in protection: throttling of failed sign-ins, and the password change.

Failures are counted in the database (``login_throttle``), so several web
workers share one count.  Two keys are counted for every failed attempt: the
username (``user:<name>``) and the client address (``ip:<address>``).  After
``max_failures`` failures within ``window`` a key is locked for ``lock``; the
address gets ``IP_FACTOR`` times as many tries, so that one office behind a
single NAT address is not locked out by one person mistyping.  While any key
of an attempt is locked, even the right password is refused.  A successful
sign-in clears the username's count.

A *known device* (a browser that has signed in as this user before; the web
layer proves it with a signed cookie and passes its id) is checked against its
own key (``device:<id>``) instead of the username and the address: whoever
fails from elsewhere, even from the same office address, cannot lock the owner
out of their own browser, while the device itself still gets only
``max_failures`` guesses.  Its failures still count for the username and the
address, so they slow down unknown browsers as before.

The account page's check of the current password goes through the same locks
and counts (``change_password``), so a borrowed session cannot guess it freely.

Counting is one atomic ``UPDATE`` per key (after an ``INSERT … ON CONFLICT DO
NOTHING`` that makes sure the row exists), so two workers failing at the same
moment both count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, delete, or_, select, update

from ledger.core.db import dialect_insert
from ledger.core.errors import NotFound, ValidationError
from ledger.core.models import LoginThrottle, User
from ledger.core.settings import Settings
from ledger.core.uow import UnitOfWork
from ledger.org.directory import authenticate, check_password, hash_password
from ledger.org.passwords import MIN_LENGTH, password_problem

#: the client address may fail this many times more often than one username
IP_FACTOR = 4
#: shortest accepted new password (kept for older imports; see ``ledger.org.passwords``)
MIN_PASSWORD_LENGTH = MIN_LENGTH


@dataclass(frozen=True)
class Policy:
    """How many failures, counted over how long, lock a key for how long."""

    max_failures: int = 5
    window: dt.timedelta = dt.timedelta(minutes=15)
    lock: dt.timedelta = dt.timedelta(minutes=15)

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(max(1, settings.login_max_failures),
                   dt.timedelta(minutes=settings.login_window_minutes),
                   dt.timedelta(minutes=settings.login_lock_minutes))


@dataclass(frozen=True)
class SignInResult:
    """The signed-in user, or why not: ``locked_until`` is set while a lock holds."""

    user: User | None = None
    locked_until: dt.datetime | None = None


def user_key(username: str) -> str:
    return f"user:{username.strip().lower()}"[:128]


def ip_key(address: str | None) -> str:
    return f"ip:{address or 'unknown'}"[:128]


def device_key(device: str) -> str:
    return f"device:{device}"[:128]


def _checked_keys(username: str, address: str | None, device: str | None) -> list[str]:
    """The keys whose lock refuses an attempt: the device's alone when it is known."""
    return [device_key(device)] if device else [user_key(username), ip_key(address)]


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive UTC datetimes; PostgreSQL aware ones."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def locked_until(session, keys: list[str], now: dt.datetime) -> dt.datetime | None:
    """The latest end of a lock that still holds on any of ``keys``, or None."""
    ends = session.scalars(select(LoginThrottle.locked_until).where(
        LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now)).all()
    return max((_aware(e) for e in ends), default=None)


def _count_failure(session, key: str, limit: int, now: dt.datetime, policy: Policy) -> None:
    """Add one failure to ``key`` (a fresh window if the old one has passed); lock at ``limit``."""
    session.execute(dialect_insert(session, LoginThrottle.__table__)
                    .values(key=key, failures=0, window_started_at=now)
                    .on_conflict_do_nothing(index_elements=["key"]))
    stale = LoginThrottle.window_started_at < now - policy.window
    session.execute(
        update(LoginThrottle).where(LoginThrottle.key == key).values(
            failures=case((stale, 1), else_=LoginThrottle.failures + 1),
            window_started_at=case((stale, now), else_=LoginThrottle.window_started_at),
        ).execution_options(synchronize_session=False))
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key, LoginThrottle.failures >= limit)
        .values(locked_until=now + policy.lock, failures=0, window_started_at=now)
        .execution_options(synchronize_session=False))


def record_failure(session, username: str, address: str | None, now: dt.datetime,
                   policy: Policy, device: str | None = None) -> dt.datetime | None:
    """Count a failed attempt for the username, the address and a known device.

    Returns the end of a lock that now holds on the keys this attempt is checked against.
    """
    keys = [(user_key(username), policy.max_failures),
            (ip_key(address), policy.max_failures * IP_FACTOR)]
    if device:
        keys.append((device_key(device), policy.max_failures))
    for key, limit in keys:
        _count_failure(session, key, limit, now, policy)
    return locked_until(session, _checked_keys(username, address, device), now)


def record_success(session, username: str, device: str | None = None) -> None:
    """Forget the username's (and the device's) failures; the address keeps its count."""
    keys = [user_key(username)] + ([device_key(device)] if device else [])
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys))
                    .execution_options(synchronize_session=False))


def purge(session, now: dt.datetime, policy: Policy) -> None:
    """Drop rows whose window has passed and that hold no lock (the table stays small)."""
    session.execute(delete(LoginThrottle).where(
        LoginThrottle.window_started_at < now - policy.window,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
    ).execution_options(synchronize_session=False))


def sign_in(uow: UnitOfWork, username: str, password: str, address: str | None,
            policy: Policy | None = None, device: str | None = None) -> SignInResult:
    """Check a sign-in attempt against the locks and the password, and count it.

    Locked: refused without looking at the password.  Wrong password, unknown
    or disabled user: one failure for the username, the address and the known
    device.  Right password: the username's and the device's failures are
    forgotten, and rows of windows long passed are dropped.  ``device`` is the
    id of a known device of this username (checked by the caller), or None.
    """
    policy = policy or Policy.of(uow.settings)
    now = uow.now()
    session = uow.session
    until = locked_until(session, _checked_keys(username, address, device), now)
    if until is not None:
        return SignInResult(locked_until=until)
    user = authenticate(session, username, password)
    if user is None:
        until = record_failure(session, username, address, now, policy, device)
        uow.commit()
        return SignInResult(locked_until=until)
    record_success(session, username, device)
    purge(session, now, policy)
    uow.commit()
    return SignInResult(user=user)


class Locked(ValidationError):
    """Too many wrong current passwords: refused until ``until``, whatever is typed."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__("too many attempts", fields={"current": "locked"})
        self.until = until


def change_password(uow: UnitOfWork, user_id: int, *, current: str, new: str,
                    address: str | None = None, device: str | None = None,
                    policy: Policy | None = None) -> User:
    """Set a new password and bump ``session_version``, which signs out other sessions.

    The current password is checked under the same locks and counts as a
    sign-in (``Locked`` while one holds).  ``ValidationError`` names the
    field: ``current`` (wrong), ``new`` (a code of ``ledger.org.passwords``).
    """
    policy = policy or Policy.of(uow.settings)
    now = uow.now()
    user = uow.session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound("no such user")
    until = locked_until(uow.session, _checked_keys(user.username, address, device), now)
    if until is not None:
        raise Locked(until)
    if not check_password(user, current):
        until = record_failure(uow.session, user.username, address, now, policy, device)
        uow.commit()
        if until is not None:
            raise Locked(until)
        raise ValidationError("the current password is wrong", fields={"current": "wrong"})
    if problem := password_problem(new, user.username):
        raise ValidationError("the new password is not accepted", fields={"new": problem})
    record_success(uow.session, user.username, device)
    user.password_hash = hash_password(new)
    user.session_version = (user.session_version or 1) + 1
    uow.commit()
    return user


def end_sessions(uow: UnitOfWork, user_id: int) -> None:
    """Sign the user out everywhere: every session and remember cookie carries the old version."""
    user = uow.session.get(User, user_id)
    if user is not None:
        user.session_version = (user.session_version or 1) + 1
        uow.commit()
