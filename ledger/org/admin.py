"""Administration use cases: users and organisation units (admins only).

Every function takes the acting ``Actor`` and works inside the actor's subtree:
anything outside it answers ``NotFound``, so its existence does not leak.  Only
the ``admin`` role may call these; any other role gets ``PermissionDenied``.
Field problems are reported together as one ``ValidationError`` whose ``fields``
map a field name to a short code (the web layer translates the codes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ledger.core.actors import Actor
from ledger.core.errors import NotFound, PermissionDenied, ValidationError
from ledger.core.models import LEVEL_ORDER, Level, Role, Unit, User
from ledger.core.uow import UnitOfWork
from ledger.org.directory import ROLE_LEVELS, add_unit, add_user, hash_password, unit_in_scope
from ledger.org.passwords import MAX_LENGTH, MIN_LENGTH, password_problem

#: the shortest password an admin may set (the policy lives in ``ledger.org.passwords``)
MIN_PASSWORD = MIN_LENGTH
MAX_PASSWORD = MAX_LENGTH
_NO_SPACE = re.compile(r"^\S+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9+\-() ]{3,32}$")


def require_admin(actor: Actor) -> None:
    """Refuse every role but ``admin``."""
    if actor.role != Role.ADMIN.value:
        raise PermissionDenied("only administrators may do this")


def _clean(value: str | None) -> str:
    return (value or "").strip()


def child_level(level: str) -> str | None:
    """The level directly below ``level`` (None below a village)."""
    index = LEVEL_ORDER.index(Level(level)) + 1
    return LEVEL_ORDER[index].value if index < len(LEVEL_ORDER) else None


def role_fits(role: str, level: str) -> bool:
    """True when a user of ``role`` may belong to a unit of ``level`` (ROLE_LEVELS)."""
    levels = ROLE_LEVELS[Role(role)]
    return levels is None or level in levels


def unit_by_code(session: Session, actor: Actor, code: str) -> Unit | None:
    """The unit with this code inside the actor's scope, or None."""
    unit = session.scalar(select(Unit).where(Unit.code == _clean(code)))
    return unit if unit is not None and actor.sees(unit) else None


def user_in_scope(session: Session, actor: Actor, user_id: int) -> User:
    """The user, if their unit lies in the actor's scope; otherwise ``NotFound``."""
    require_admin(actor)
    row = session.execute(select(User, Unit).join(Unit, User.unit_id == Unit.id)
                          .where(User.id == user_id)).first()
    if row is None or not actor.sees(row[1]):
        raise NotFound("no such user")
    return row[0]


# --- overview ------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    """Small counts for the administration start page."""

    units_by_level: dict[str, int]
    users_by_role: dict[str, int]
    disabled_users: int


def overview(session: Session, actor: Actor) -> Overview:
    """Units per level, users per role and disabled users in the actor's scope."""
    require_admin(actor)
    levels = dict(session.execute(select(Unit.level, func.count()).where(
        actor.scope_clause(Unit)).group_by(Unit.level)).all())
    in_scope = select(User).join(Unit, User.unit_id == Unit.id).where(actor.scope_clause(Unit))
    roles = dict(session.execute(
        select(User.role, func.count()).join(Unit, User.unit_id == Unit.id)
        .where(actor.scope_clause(Unit)).group_by(User.role)).all())
    disabled = session.scalar(select(func.count()).select_from(
        in_scope.where(User.active.is_(False)).subquery()))
    return Overview(
        {lvl.value: levels.get(lvl.value, 0) for lvl in LEVEL_ORDER},
        {role.value: roles.get(role.value, 0) for role in Role},
        disabled or 0,
    )


# --- users -----------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    """One line of the user list."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    unit_id: int
    unit_code: str
    unit_name: str
    post: str | None
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class UserPage:
    """One page of users and the total count."""

    rows: list[UserRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_users(session: Session, actor: Actor, *, text: str = "", role: str = "",
               unit: str = "", under: int | None = None, active: bool | None = None,
               page: int = 1, per_page: int = 50) -> UserPage:
    """Users in scope, filtered by name, role, unit (code or name) or subtree, by username."""
    require_admin(actor)
    query = (select(User, Unit).join(Unit, User.unit_id == Unit.id)
             .where(actor.scope_clause(Unit)))
    if text := _clean(text):
        like = f"%{text.lower()}%"
        query = query.where(or_(func.lower(User.username).like(like),
                                func.lower(User.display_name).like(like)))
    if role:
        query = query.where(User.role == role)
    if unit := _clean(unit):
        query = query.where(or_(Unit.code == unit, Unit.name.like(f"%{unit}%")))
    if under is not None:
        top = unit_in_scope(session, actor, under)
        query = query.where(getattr(Unit, f"{top.level}_id") == top.id)
    if active is not None:
        query = query.where(User.active.is_(active))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, page)
    rows = session.execute(query.order_by(User.username)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return UserPage([UserRow(u.id, u.username, u.display_name, u.role, u.active, n.id, n.code,
                             n.name, u.post, u.phone, u.email) for u, n in rows],
                    total, page, per_page)


def _check_profile(session: Session, actor: Actor, errors: dict[str, str], *, display_name: str,
                   role: str, unit_code: str, email: str, phone: str, post: str) -> Unit | None:
    """Check the fields shared by create and edit; returns the chosen unit."""
    if not display_name:
        errors["display_name"] = "required"
    elif len(display_name) > 100:
        errors["display_name"] = "too long"
    if role not in {r.value for r in Role}:
        errors["role"] = "required" if not role else "unknown role"
    unit = unit_by_code(session, actor, unit_code) if unit_code else None
    if not unit_code:
        errors["unit"] = "required"
    elif unit is None:
        errors["unit"] = "unknown unit"
    elif "role" not in errors and not role_fits(role, unit.level):
        errors["role"] = "wrong level for this role"
    if email and (len(email) > 255 or not _EMAIL.match(email)):
        errors["email"] = "invalid email"
    if phone and not _PHONE.match(phone):
        errors["phone"] = "invalid phone"
    if len(post) > 100:
        errors["post"] = "too long"
    return unit


def create_user(uow: UnitOfWork, actor: Actor, *, username: str, display_name: str, role: str,
                unit_code: str, password: str, email: str = "", phone: str = "",
                post: str = "") -> User:
    """Create a user in a unit of the actor's scope; the role must fit the unit's level."""
    require_admin(actor)
    s = uow.session
    username, display_name = _clean(username), _clean(display_name)
    email, phone, post = _clean(email), _clean(phone), _clean(post)
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = "required"
    elif len(username) > 64 or not _NO_SPACE.match(username):
        errors["username"] = "invalid username"
    elif s.scalar(select(User.id).where(User.username == username)) is not None:
        errors["username"] = "taken"
    unit = _check_profile(s, actor, errors, display_name=display_name, role=role,
                          unit_code=unit_code, email=email, phone=phone, post=post)
    if problem := password_problem(password, username):
        errors["password"] = problem
    if errors:
        raise ValidationError("the user could not be created", fields=errors)
    user = add_user(s, username=username, display_name=display_name, role=role, unit=unit,
                    password=password, email=email or None, post=post or None)
    user.phone = phone or None
    uow.commit()
    return user


def update_user(uow: UnitOfWork, actor: Actor, user_id: int, *, display_name: str, role: str,
                unit_code: str, email: str = "", phone: str = "", post: str = "") -> User:
    """Change a user's name, role, unit and contact details (not their own role or unit).

    A new role or unit changes what the user may see and do, so their sessions end.
    """
    s = uow.session
    user = user_in_scope(s, actor, user_id)
    display_name, email, phone, post = (_clean(v) for v in (display_name, email, phone, post))
    errors: dict[str, str] = {}
    unit = _check_profile(s, actor, errors, display_name=display_name, role=role,
                          unit_code=unit_code, email=email, phone=phone, post=post)
    if user.id == actor.id and unit is not None and (role != user.role or unit.id != user.unit_id):
        errors["role"] = "own role"
    if errors:
        raise ValidationError("the user could not be changed", fields=errors)
    if role != user.role or unit.id != user.unit_id:
        user.session_version += 1
    user.display_name, user.role, user.unit_id = display_name, role, unit.id
    user.email, user.phone, user.post = email or None, phone or None, post or None
    uow.commit()
    return user


def set_active(uow: UnitOfWork, actor: Actor, user_id: int, active: bool) -> User:
    """Enable or disable a user; disabling signs them out everywhere at once."""
    user = user_in_scope(uow.session, actor, user_id)
    if not active and user.id == actor.id:
        raise ValidationError("an administrator cannot disable their own account",
                              fields={"user": "own account"})
    if user.active != active:
        user.active = active
        if not active:
            user.session_version += 1
    uow.commit()
    return user


def reset_password(uow: UnitOfWork, actor: Actor, user_id: int, password: str) -> User:
    """Set a new password chosen by the admin; the user's sessions end."""
    user = user_in_scope(uow.session, actor, user_id)
    if problem := password_problem(password, user.username):
        raise ValidationError("the password was not accepted", fields={"password": problem})
    user.password_hash = hash_password(password)
    user.session_version += 1
    uow.commit()
    return user


# --- units -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChildRow:
    """A unit below the one shown, with its counts."""

    id: int
    code: str
    name: str
    level: str
    children: int
    users: int


@dataclass
class UnitNode:
    """One unit of the tree page: the unit, the path to it and its children."""

    unit: Unit
    breadcrumbs: list[Unit]
    children: list[ChildRow] = field(default_factory=list)
    total_children: int = 0
    own_users: int = 0
    page: int = 1
    per_page: int = 100

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_children // self.per_page))

    @property
    def child_level(self) -> str | None:
        return child_level(self.unit.level)


def unit_node(session: Session, actor: Actor, unit_id: int | None = None, *, page: int = 1,
              per_page: int = 100) -> UnitNode:
    """A unit (default: the actor's own) with breadcrumbs and one page of its children.

    Children are counted and shown one page at a time, so a township with many
    villages or a province with thousands never loads all at once.
    """
    require_admin(actor)
    unit = unit_in_scope(session, actor, actor.unit_id if unit_id is None else unit_id)
    top = LEVEL_ORDER.index(Level(actor.unit_level))
    ancestor_ids = [getattr(unit, f"{lvl.value}_id") for lvl in LEVEL_ORDER[top:]
                    if lvl.value != unit.level and getattr(unit, f"{lvl.value}_id")]
    crumbs = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ancestor_ids)))}
    node = UnitNode(unit, [crumbs[i] for i in ancestor_ids if i in crumbs], page=max(1, page),
                    per_page=per_page)
    node.own_users = session.scalar(select(func.count()).where(User.unit_id == unit.id)) or 0
    below = child_level(unit.level)
    if below is None:
        return node
    node.total_children = session.scalar(
        select(func.count()).where(Unit.parent_id == unit.id)) or 0
    kids = session.scalars(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.code)
                           .offset((node.page - 1) * per_page).limit(per_page)).all()
    ids = [k.id for k in kids]
    grand = dict(session.execute(select(Unit.parent_id, func.count()).where(
        Unit.parent_id.in_(ids)).group_by(Unit.parent_id)).all()) if ids else {}
    col = getattr(Unit, f"{below}_id")
    users = dict(session.execute(
        select(col, func.count(User.id)).join(User, User.unit_id == Unit.id)
        .where(col.in_(ids)).group_by(col)).all()) if ids else {}
    node.children = [ChildRow(k.id, k.code, k.name, k.level, grand.get(k.id, 0),
                              users.get(k.id, 0)) for k in kids]
    return node


def _check_unit_fields(code: str, name: str, errors: dict[str, str]) -> None:
    if not code:
        errors["code"] = "required"
    elif len(code) > 32 or not _NO_SPACE.match(code):
        errors["code"] = "invalid code"
    if not name:
        errors["name"] = "required"
    elif len(name) > 100:
        errors["name"] = "too long"


def create_unit(uow: UnitOfWork, actor: Actor, parent_id: int, *, code: str, name: str) -> Unit:
    """Create a unit directly below ``parent_id``; its level follows the parent's."""
    require_admin(actor)
    s = uow.session
    parent = unit_in_scope(s, actor, parent_id)
    code, name = _clean(code), _clean(name)
    errors: dict[str, str] = {}
    _check_unit_fields(code, name, errors)
    if "code" not in errors and s.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        errors["code"] = "taken"
    level = child_level(parent.level)
    if level is None:
        errors["parent"] = "no units below a village"
    if errors:
        raise ValidationError("the unit could not be created", fields=errors)
    unit = add_unit(s, code=code, name=name, level=level, parent=parent)
    uow.commit()
    return unit


def rename_unit(uow: UnitOfWork, actor: Actor, unit_id: int, *, name: str) -> Unit:
    """Give a unit in scope a new name (its code stays: other systems know it)."""
    require_admin(actor)
    unit = unit_in_scope(uow.session, actor, unit_id)
    name = _clean(name)
    errors: dict[str, str] = {}
    _check_unit_fields(unit.code, name, errors)
    if errors:
        raise ValidationError("the unit could not be renamed", fields=errors)
    unit.name = name
    uow.commit()
    return unit


# --- reading uploaded sheets ------------------------------------------------------


def decode_text(data: bytes) -> str:
    """Text of an uploaded CSV: UTF-8 (with or without BOM), else GB18030 (Excel in China)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")
