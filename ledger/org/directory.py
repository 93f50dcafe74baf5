"""Organisation units and users: creation, passwords, lookups within scope."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.core.actors import Actor
from ledger.core.errors import NotFound, ValidationError
from ledger.core.models import LEVEL_ORDER, Level, Role, Unit, User

_HASHER = PasswordHasher()

#: which unit level a role belongs to (None: any level)
ROLE_LEVELS: dict[str, set[str] | None] = {
    Role.CITY_STAFF: {Level.CITY},
    Role.COUNTY_STAFF: {Level.COUNTY},
    Role.TOWNSHIP_STAFF: {Level.TOWNSHIP},
    Role.VILLAGE_SECRETARY: {Level.VILLAGE},
    Role.SUPERVISOR: {Level.CITY, Level.COUNTY},
    Role.ADMIN: None,
}


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_unit(session: Session, *, code: str, name: str, level: str,
             parent: Unit | None = None) -> Unit:
    """Create a unit below ``parent``, filling its ancestor ids."""
    level = Level(level)
    expected = LEVEL_ORDER.index(level) - 1
    if (parent is None) != (expected < 0) or (
        parent is not None and LEVEL_ORDER.index(Level(parent.level)) != expected
    ):
        raise ValidationError(f"a {level} must sit directly below a {LEVEL_ORDER[expected]}"
                              if expected >= 0 else "a city has no parent",
                              fields={"parent": "wrong level"})
    unit = Unit(code=code, name=name, level=level.value, parent_id=parent.id if parent else None)
    if parent is not None:
        unit.copy_ancestors(parent)
    session.add(unit)
    session.flush()
    setattr(unit, f"{level.value}_id", unit.id)
    return unit


def add_user(session: Session, *, username: str, display_name: str, role: str, unit: Unit,
             password: str, email: str | None = None, post: str | None = None) -> User:
    """Create a user in ``unit``; the role must fit the unit's level."""
    role = Role(role)
    levels = ROLE_LEVELS[role]
    if levels is not None and unit.level not in levels:
        raise ValidationError(f"a {role} belongs to a unit of level {'/'.join(sorted(levels))}",
                              fields={"unit": "wrong level for this role"})
    user = User(username=username, display_name=display_name, role=role.value, unit_id=unit.id,
                password_hash=hash_password(password), email=email, post=post)
    session.add(user)
    session.flush()
    return user


def actor_for(session: Session, user_id: int) -> Actor:
    """The ``Actor`` of an active user (``NotFound`` for unknown or disabled users)."""
    row = session.execute(
        select(User, Unit).join(Unit, User.unit_id == Unit.id).where(User.id == user_id)
    ).first()
    if row is None or not row[0].active:
        raise NotFound("no such user")
    return Actor.of(row[0], row[1])


def unit_in_scope(session: Session, actor: Actor, unit_id: int) -> Unit:
    """The unit, if the actor sees it; otherwise ``NotFound``."""
    unit = session.get(Unit, unit_id)
    if unit is None or not actor.sees(unit):
        raise NotFound("no such unit")
    return unit


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        _HASHER.hash(password)  # spend the same time whether or not the user exists
        return None
    if not user.active or not check_password(user, password):
        return None
    return user


def active_users(session: Session, unit_ids, roles) -> dict[int, list[int]]:
    """The ids of the active users with one of ``roles`` in each of ``unit_ids``, by unit
    (the people a unit's messages go to)."""
    out: dict[int, list[int]] = {}
    ids = list(unit_ids)
    if not ids:
        return out
    for user_id, unit_id in session.execute(
            select(User.id, User.unit_id).where(User.unit_id.in_(ids), User.active.is_(True),
                                                User.role.in_(tuple(roles)))
            .order_by(User.id)):
        out.setdefault(unit_id, []).append(user_id)
    return out


def units_after(session: Session, actor: Actor, *, level: str | None = None,
                parent_id: int | None = None, limit: int = 100, after: int | None = None
                ) -> tuple[list[tuple[Unit, int]], int | None]:
    """A keyset page (by id) of the units in the actor's subtree, for clients that pull.

    ``parent_id`` keeps the direct children of that unit (``NotFound`` outside the
    scope).  Each unit comes with its number of direct children.  Returns the rows
    and the id to continue after when more may follow (None on the last page).
    """
    query = select(Unit).where(actor.scope_clause(Unit))
    if level is not None:
        query = query.where(Unit.level == level)
    if parent_id is not None:
        query = query.where(Unit.parent_id == unit_in_scope(session, actor, parent_id).id)
    if after is not None:
        query = query.where(Unit.id > after)
    limit = max(1, min(limit, 500))
    units = list(session.scalars(query.order_by(Unit.id).limit(limit + 1)))
    more = len(units) > limit
    units = units[:limit]
    counts = child_counts(session, [u.id for u in units])
    return [(u, counts.get(u.id, 0)) for u in units], (units[-1].id if more else None)


def child_counts(session: Session, unit_ids: list[int]) -> dict[int, int]:
    """How many direct children each of ``unit_ids`` has (absent: none)."""
    if not unit_ids:
        return {}
    return dict(session.execute(
        select(Unit.parent_id, func.count()).where(Unit.parent_id.in_(unit_ids))
        .group_by(Unit.parent_id)).all())
