"""Personal access tokens for the JSON API.

A token is ``sanhu_`` followed by 43 random URL-safe characters (256 bits), so
a plain SHA-256 of it is enough at rest: nobody can guess their way back from
the hash, and a lookup by hash needs no per-token salt.  It is shown once, when
made.  A token acts as its user (role, unit, scope) until it expires, is
revoked (by its user, or by an admin whose scope holds the user), the user is
disabled, or the user's ``session_version`` moves on: a password change, an
admin's reset, a change of role or unit end every token as they end every
session.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from ledger.core.actors import Actor
from ledger.core.errors import NotFound, PermissionDenied, ValidationError
from ledger.core.models import ApiToken, Role, Unit, User
from ledger.core.uow import UnitOfWork

PREFIX = "sanhu_"
#: what a list shows of a token: the prefix and the first characters of the secret
SHOWN = len(PREFIX) + 6
#: longest and default life of a token, in days
MAX_DAYS = 366
DEFAULT_DAYS = 90
MAX_NAME = 100
#: the time of last use is written at most this often (not on every request)
LAST_USE_RESOLUTION = dt.timedelta(minutes=1)
#: most live tokens one user may hold
MAX_PER_USER = 20


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` is the only time the full token exists in clear."""

    id: int
    name: str
    secret: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class TokenUser:
    """Who a presented token acts as."""

    token_id: int
    user: User
    unit: Unit


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive UTC datetimes; PostgreSQL aware ones."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def create(uow: UnitOfWork, actor: Actor, *, name: str, days: int = DEFAULT_DAYS) -> NewToken:
    """Make a token for the actor's own user (shown once)."""
    name = (name or "").strip()
    problems = {}
    if not name:
        problems["name"] = "required"
    elif len(name) > MAX_NAME:
        problems["name"] = "too_long"
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        problems["days"] = "out_of_range"
    if problems:
        raise ValidationError("the token's name or lifetime is not accepted", fields=problems)
    now = uow.now()
    live = list_for(uow, actor.id, now=now)
    if sum(1 for t in live if t.revoked_at is None and _aware(t.expires_at) > now) \
            >= MAX_PER_USER:
        raise ValidationError("too many live tokens; revoke one first",
                              fields={"name": "too_many_tokens"})
    user = uow.session.get(User, actor.id)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=secret[:SHOWN],
                     secret_hash=digest(secret), session_version=user.session_version,
                     created_at=now, expires_at=now + dt.timedelta(days=days))
    uow.session.add(token)
    uow.session.flush()
    uow.commit()
    return NewToken(token.id, token.name, secret, token.expires_at)


def list_for(uow: UnitOfWork, user_id: int, *, now: dt.datetime | None = None) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones included, for the record)."""
    return list(uow.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())))


def state_of(token: ApiToken, user: User, now: dt.datetime) -> str:
    """``live``, ``revoked``, ``expired`` or ``void`` (the user's password or status changed)."""
    if token.revoked_at is not None:
        return "revoked"
    if _aware(token.expires_at) <= now:
        return "expired"
    if not user.active or user.session_version != token.session_version:
        return "void"
    return "live"


def revoke(uow: UnitOfWork, actor: Actor, token_id: int) -> None:
    """Revoke a token: its own user may, and an admin whose scope holds the user."""
    row = uow.session.execute(
        select(ApiToken, User, Unit).join(User, User.id == ApiToken.user_id)
        .join(Unit, Unit.id == User.unit_id).where(ApiToken.id == token_id)).first()
    if row is None:
        raise NotFound("no such token")
    token, user, unit = row
    if user.id != actor.id:
        if not actor.sees(unit):
            raise NotFound("no such token")
        if actor.role != Role.ADMIN.value:
            raise PermissionDenied("only administrators may revoke others' tokens")
    if token.revoked_at is None:
        token.revoked_at = uow.now()
        token.revoked_by_id = actor.id
    uow.commit()


def authenticate(uow: UnitOfWork, secret: str) -> TokenUser | None:
    """The user a presented token acts as, or None (unknown, expired, revoked, void)."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    row = uow.session.execute(
        select(ApiToken, User, Unit).join(User, User.id == ApiToken.user_id)
        .join(Unit, Unit.id == User.unit_id)
        .where(ApiToken.secret_hash == digest(secret))).first()
    if row is None:
        return None
    token, user, unit = row
    now = uow.now()
    if state_of(token, user, now) != "live":
        return None
    last = token.last_used_at
    if last is None or now - _aware(last) >= LAST_USE_RESOLUTION:
        uow.session.execute(update(ApiToken).where(ApiToken.id == token.id)
                            .values(last_used_at=now))
        uow.commit()
    return TokenUser(token.id, user, unit)


def user_tokens_for_admin(uow: UnitOfWork, actor: Actor, user_id: int) -> list[ApiToken]:
    """An admin's view of one user's tokens (NotFound outside the admin's scope)."""
    row = uow.session.execute(select(User, Unit).join(Unit, Unit.id == User.unit_id)
                              .where(User.id == user_id)).first()
    if row is None or not actor.sees(row[1]) or actor.role != Role.ADMIN.value:
        raise NotFound("no such user")
    return list_for(uow, user_id)
