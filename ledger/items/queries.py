"""Read side of the ledger: item pages, filtered lists and the overdue board.

Everything is scoped by the actor and computed in SQL: overdue, days overdue
(calendar and working days, the latter from ``calendar_days.workday_seq``) and
the traffic light.  The overdue predicate is written exactly as the partial
indexes ``ix_items_open_*`` are, so both SQLite and PostgreSQL use them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter

from ledger.core.actors import Actor
from ledger.core.errors import NotFound, ValidationError
from ledger.core.models import (
    CalendarDay,
    Evidence,
    Item,
    ItemEvent,
    Standard,
    State,
    Unit,
    User,
    open_items_sql,
    status_of,
)
from ledger.items import search
from ledger.items.workflow import RULES_BY_EVENT

STATUSES = ("found", "assigned", "rectifying", "submitted", "verified", "closed")
SORTS = {
    "newest": (Item.id.desc(),),
    "oldest": (Item.id.asc(),),
    "deadline": (Item.deadline.asc(), Item.id.asc()),
    "number": (Item.number.asc(),),
    "updated": (Item.updated_at.desc(), Item.id.desc()),
}
#: counting stops here; pages show "10000+" beyond it
COUNT_CAP = 10_000
#: the cap when a text search narrows the list: a common word matches a tenth of a
#: province, and counting even 10,000 of its rows costs more than the page itself
TEXT_COUNT_CAP = 1_000


def count_cap(flt: ItemFilter | None) -> int:
    """How far totals of this filter are counted ("1000+" for a text search)."""
    return TEXT_COUNT_CAP if flt is not None and flt.text and flt.text.strip() else COUNT_CAP


def open_predicate(session: Session, negate: bool = False):
    """The open-item filter, spelled exactly as the partial indexes are."""
    sql = open_items_sql(session.get_bind().dialect.name)
    return text(f"NOT ({sql})" if negate else f"({sql})")


def days_between(session: Session, later, earlier):
    """``later - earlier`` in days, as SQL, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return later - earlier
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


@dataclass(frozen=True)
class ItemFilter:
    """What a list asks for; every field is optional."""

    status: str | None = None
    unit_id: int | None = None
    cycle_id: int | None = None
    standard_id: int | None = None
    standard_category: int | None = None
    #: "basic" or "demonstration": with ``standard_category``, one category of one set
    standard_set: str | None = None
    category: str | None = None
    overdue: bool | None = None
    light: str | None = None
    text: str | None = None
    responsible_user_id: int | None = None
    #: "valid" (not dismissed), "rectified" (closed as rectified), "on_time" (rectified
    #: by the deadline) or "dismissed" (撤销): what the dashboards count
    outcome: str | None = None
    #: problems recorded / closed in this month (``2026-11``, in ``zone``)
    found_month: str | None = None
    closed_month: str | None = None
    #: the zone of the months and of "on time" (the app's, not the user's input)
    zone: str = "Asia/Shanghai"


@dataclass
class Page:
    rows: list[dict]
    total: int
    total_capped: bool
    page: int
    per_page: int
    counts: dict[str, int] = field(default_factory=dict)
    #: counts above this read "cap+" (see ``count_by_status``)
    cap: int = COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


OUTCOMES = ("valid", "rectified", "on_time", "dismissed")


def month_bounds(month: str, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of a local month and of the next, in UTC."""
    try:
        year, mon = (int(p) for p in month.split("-"))
        first = dt.datetime(year, mon, 1, tzinfo=zone)
    except (ValueError, TypeError) as exc:
        raise ValidationError("a month looks like 2026-11",
                              fields={"month": "invalid"}) from exc
    after = dt.datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=zone)
    return first.astimezone(dt.UTC), after.astimezone(dt.UTC)


def _offset_hours(zone: dt.tzinfo) -> int:
    """The zone's offset from UTC in whole hours (Asia/Shanghai: 8, no summer time)."""
    return int(dt.datetime(2026, 1, 1, tzinfo=zone).utcoffset().total_seconds() // 3600)


def local_month(session: Session, column, zone: dt.tzinfo):
    """``column``'s month in ``zone`` as ``YYYY-MM``, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(str(zone), column), "YYYY-MM")
    return func.strftime("%Y-%m", column, f"{_offset_hours(zone):+d} hours")


def local_date(session: Session, column, zone: dt.tzinfo):
    """``column``'s calendar day in ``zone``, in SQL (a date on PostgreSQL, text on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(str(zone), column), Date)
    return func.date(column, f"{_offset_hours(zone):+d} hours")


def on_time_clause(session: Session, zone: dt.tzinfo):
    """Closed as rectified before the end of the deadline's day (in ``zone``)."""
    if session.get_bind().dialect.name == "postgresql":
        end = func.timezone(str(zone), cast(Item.deadline + 1, DateTime))
    else:
        end = func.datetime(Item.deadline, "+1 day", f"{-_offset_hours(zone):+d} hours")
    return and_(Item.resolution == "rectified", Item.deadline.is_not(None), Item.closed_at < end)


def outcome_clause(session: Session, outcome: str, zone: dt.tzinfo):
    if outcome == "valid":
        return Item.resolution.is_distinct_from("dismissed")
    if outcome in ("rectified", "dismissed"):
        return Item.resolution == outcome
    if outcome == "on_time":
        return on_time_clause(session, zone)
    raise ValidationError(f"unknown outcome {outcome!r}", fields={"outcome": "unknown"})


def _status_clause(status: str):
    if status == "submitted":
        return and_(Item.state == State.RECTIFYING.value, Item.submitted == true())
    if status == "rectifying":
        return and_(Item.state == State.RECTIFYING.value, Item.submitted == false())
    if status in STATUSES:
        # ``submitted`` is only ever true while rectifying (verify, reject and reopen
        # clear it); saying so matches the whole (level, state, submitted) prefix of
        # ``ix_items_<level>_status``, so the items come in id order
        return and_(Item.state == status, Item.submitted == false())
    raise ValidationError(f"unknown status {status!r}", fields={"status": "unknown"})


def _light_expr(session: Session, today: dt.date, warning_days: int, until=None):
    """The traffic light; ``until`` (default ``today + warning_days``) ends the yellow."""
    is_open = open_predicate(session)
    if until is None:
        until = today + dt.timedelta(days=warning_days)
    return case(
        (and_(is_open, Item.deadline < today), "red"),
        (and_(is_open, Item.deadline <= until), "yellow"),
        (is_open, "green"),
        else_=None,
    )


def scoped_items(session: Session, actor: Actor, flt: ItemFilter, today: dt.date,
                 warning_days: int = 3) -> Select:
    """The filtered, scoped ``SELECT`` of item ids (no ordering, no columns chosen yet)."""
    q = select(Item.id).where(actor.scope_clause(Item))
    scope_level = actor.unit_level
    if flt.status:
        q = q.where(_status_clause(flt.status))
    if flt.unit_id is not None:
        unit = session.get(Unit, flt.unit_id)
        if unit is None or not actor.sees(unit):
            raise NotFound("no such unit")
        q = q.where(getattr(Item, f"{unit.level}_id") == unit.id)
        scope_level = unit.level
    for column, value in ((Item.cycle_id, flt.cycle_id), (Item.standard_id, flt.standard_id),
                          (Item.category_number, flt.standard_category),
                          (Item.category, flt.category),
                          (Item.responsible_user_id, flt.responsible_user_id)):
        if value is not None:
            q = q.where(column == value)
    if flt.standard_set is not None:  # at most 65 standard ids: a small IN list
        q = q.where(Item.standard_id.in_(
            select(Standard.id).where(Standard.set == flt.standard_set)))
    if flt.overdue is True:
        q = q.where(open_predicate(session), Item.deadline < today)
    elif flt.overdue is False:
        q = q.where(or_(open_predicate(session, negate=True), Item.deadline >= today,
                        Item.deadline.is_(None)))
    if flt.outcome:
        q = q.where(outcome_clause(session, flt.outcome, ZoneInfo(flt.zone)))
    for column, month in ((Item.created_at, flt.found_month), (Item.closed_at, flt.closed_month)):
        if month:
            first, after = month_bounds(month, ZoneInfo(flt.zone))
            q = q.where(column >= first, column < after)
    if flt.light:
        q = q.where(_light_expr(session, today, warning_days) == flt.light)
    if flt.text and flt.text.strip():
        q = q.where(_text_clause(session, flt.text.strip(),
                                 narrow=scope_level in NARROW_LEVELS))
    return q


#: scopes small enough (a township's or village's items, about a thousand) that reading
#: them beats the search index, which would first list every match in the whole city
NARROW_LEVELS = frozenset({"township", "village"})


def _text_clause(session: Session, needle: str, narrow: bool = False):
    """Items whose number, problem, measures or responsible person contain ``needle``.

    Through the search index (``ledger.items.search``: FTS5 on SQLite, GIN on
    PostgreSQL) when the needle has tokens and the scope is a county or more; a
    scan of the scope's rows with ``LIKE`` otherwise (measured at province scale:
    with the index a township search of a common word first collects the matches
    of the whole city).
    """
    like = or_(*(column.icontains(needle, autoescape=True) for column in (
        Item.number, Item.description, Item.measures, Item.responsible_person)))
    q = search.query(needle)
    if q is None or narrow:
        return like
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        indexed = Item.id.in_(text("SELECT rowid FROM items_fts WHERE items_fts MATCH :fts")
                              .bindparams(fts=search.fts5_match(q)))
    else:
        # the stored tsvector (migration 0008; PostgreSQL only, so not in the models)
        indexed = literal_column("items.search_vector").op("@@")(
            func.to_tsquery(literal_column("'simple'::regconfig"), search.tsquery(q)))
    return and_(indexed, like) if q.confirm else indexed


def _row_select(session: Session, ids_subquery, today: dt.date, warning_days: int,
                until=None) -> Select:
    """Display columns for the given ids, with overdue figures computed in SQL.

    ``today`` and ``until`` may be bound parameters (``item_rows`` keeps one such
    statement per database and warning period, so reading a few rows does not
    rebuild it)."""
    deadline_day = aliased(CalendarDay)
    today_value = today if isinstance(today, BindParameter) else literal(today)
    today_seq = select(CalendarDay.workday_seq).where(CalendarDay.day == today).scalar_subquery()
    is_overdue = and_(open_predicate(session), Item.deadline < today)
    return (
        select(
            Item.id, Item.number, Item.state, Item.submitted, Item.description,
            Item.unit_id, Unit.name.label("unit_name"), Item.responsible_person,
            Item.category, Item.deadline, Item.deadline_provisional, Item.rejection_count,
            Item.version, Item.updated_at, Item.cycle_id, Item.standard_id,
            case((is_overdue, literal(True)), else_=literal(False)).label("overdue"),
            case((is_overdue, days_between(session, today_value, Item.deadline)),
                 else_=None).label("days_overdue"),
            case((is_overdue, today_seq - deadline_day.workday_seq),
                 else_=None).label("workdays_overdue"),
            _light_expr(session, today, warning_days, until).label("light"),
        )
        .join(Unit, Unit.id == Item.unit_id)
        .outerjoin(deadline_day, deadline_day.day == Item.deadline)
        .where(Item.id.in_(ids_subquery))
    )


def _as_dict(row) -> dict:
    d = dict(row._mapping)
    d["status"] = status_of(d["state"], d["submitted"])
    d["overdue"] = bool(d["overdue"])
    return d


def _capped_count(session: Session, base: Select, cap: int = COUNT_CAP) -> int:
    """Count up to ``cap + 1`` rows: exact for pages people page through."""
    return session.scalar(select(func.count()).select_from(base.limit(cap + 1).subquery()))


def list_items(session: Session, actor: Actor, flt: ItemFilter | None = None, *,
               today: dt.date, page: int = 1, per_page: int = 50, sort: str = "newest",
               warning_days: int = 3, with_counts: bool = False) -> Page:
    """One page of the actor's ledger, filtered and sorted, with a (capped) total."""
    flt = flt or ItemFilter()
    if sort not in SORTS:
        raise ValidationError(f"unknown sort {sort!r}", fields={"sort": "unknown"})
    per_page = max(1, min(per_page, 500))
    page = max(1, page)
    base = scoped_items(session, actor, flt, today, warning_days)
    cap = count_cap(flt)
    rows, total = page_rows(session, base, SORTS[sort], today=today, warning_days=warning_days,
                            page=page, per_page=per_page, cap=cap)
    counts = count_by_status(session, actor, flt, today) if with_counts else {}
    return Page(rows, min(total, cap), total > cap, page, per_page, counts, cap=cap)


#: the row statement for a list of ids, per (database, warning days), built once
_ROWS_BY_IDS: dict[tuple[str, int], Select] = {}


def item_rows(session: Session, ids, today: dt.date, warning_days: int = 3) -> list[dict]:
    """Display rows of the items ``ids`` (a list or a SELECT of ids; no scope check here):
    status, unit name, deadline, traffic light, days and working days overdue."""
    if not isinstance(ids, list | tuple):
        return [_as_dict(r) for r in session.execute(_row_select(session, ids, today,
                                                                 warning_days))]
    key = (session.get_bind().dialect.name, warning_days)
    statement = _ROWS_BY_IDS.get(key)
    if statement is None:
        statement = _ROWS_BY_IDS[key] = _row_select(
            session, bindparam("ids", expanding=True), bindparam("today", type_=Date),
            warning_days, until=bindparam("until", type_=Date))
    return [_as_dict(r) for r in session.execute(statement, {
        "ids": list(ids), "today": today,
        "until": today + dt.timedelta(days=warning_days)})]


def page_rows(session: Session, base: Select, order: Sequence, *, today: dt.date,
              warning_days: int, page: int = 1, per_page: int = 50, cap: int = COUNT_CAP,
              columns: Sequence = (), ids_from: Select | None = None) -> tuple[list[dict], int]:
    """One page of ``base`` (a SELECT of item ids) in ``order``: the display rows with
    their overdue figures (plus ``columns``), and the total counted up to ``cap + 1``.

    ``ids_from`` is ``base`` with the joins the order needs, when it needs any.
    """
    ids = ((ids_from if ids_from is not None else base).order_by(*order)
           .limit(per_page).offset((page - 1) * per_page).subquery())
    rows = session.execute(_row_select(session, select(ids.c.id), today, warning_days)
                           .add_columns(*columns).order_by(*order)).all()
    return [_as_dict(r) for r in rows], _capped_count(session, base, cap)


def overdue_items(session: Session, actor: Actor, *, today: dt.date, page: int = 1,
                  per_page: int = 50, unit_id: int | None = None,
                  warning_days: int = 3) -> Page:
    """The overdue items in scope, most overdue first (over the partial indexes)."""
    return list_items(session, actor, ItemFilter(overdue=True, unit_id=unit_id), today=today,
                      page=page, per_page=per_page, sort="deadline", warning_days=warning_days)


def count_by_status(session: Session, actor: Actor, flt: ItemFilter | None,
                    today: dt.date) -> dict[str, int]:
    """How many items of the (filtered) scope are in each status, each capped.

    One small indexed count per status (``(level_id, state, submitted)``), each
    stopping at ``count_cap(flt) + 1``: a value above the cap reads "10000+" (or
    "1000+" with a text search).
    A single ``GROUP BY`` would read every index entry of a city (2 million).
    """
    flt = flt or ItemFilter()
    base = scoped_items(session, actor, ItemFilter(**{**flt.__dict__, "status": None}), today)
    cap = count_cap(flt)
    return {status: _capped_count(session, base.where(_status_clause(status)), cap)
            for status in STATUSES}


def get_item(session: Session, actor: Actor, item_id: int) -> Item:
    """The item if the actor sees it; otherwise ``NotFound`` (its existence never leaks)."""
    item = session.get(Item, item_id)
    if item is None or not actor.sees(item):
        raise NotFound("no such item")
    return item


def item_history(session: Session, actor: Actor, item_id: int) -> list[ItemEvent]:
    """The item's history, oldest first (scope checked)."""
    get_item(session, actor, item_id)
    return list(session.scalars(
        select(ItemEvent).where(ItemEvent.item_id == item_id).order_by(ItemEvent.seq)))


def item_evidence(session: Session, actor: Actor, item_id: int) -> list[Evidence]:
    """The item's evidence files (scope checked)."""
    get_item(session, actor, item_id)
    return list(session.scalars(
        select(Evidence).where(Evidence.item_id == item_id).order_by(Evidence.id)))


def evidence_for_download(session: Session, actor: Actor, evidence_id: int) -> Evidence:
    """An evidence row, only if the actor sees its item."""
    ev = session.get(Evidence, evidence_id)
    if ev is None:
        raise NotFound("no such file")
    get_item(session, actor, ev.item_id)
    return ev


def responsible_candidates(session: Session, actor: Actor, unit_id: int) -> list[User]:
    """Who may be made responsible (责任人) for an item of ``unit_id``: the active
    users of that unit whose role rectifies (village secretary; township staff for a
    township's own items).  ``NotFound`` when the unit is outside the actor's scope."""
    unit = session.get(Unit, unit_id)
    if unit is None or not actor.sees(unit):
        raise NotFound("no such unit")
    return list(session.scalars(
        select(User).where(User.unit_id == unit_id, User.active == true(),
                           User.role.in_(sorted(RULES_BY_EVENT["accept"].roles)))
        .order_by(User.display_name, User.id)))


def default_responsible(session: Session, actor: Actor, unit_id: int) -> User | None:
    """The one candidate of ``responsible_candidates``, or None when there are several or none."""
    candidates = responsible_candidates(session, actor, unit_id)
    return candidates[0] if len(candidates) == 1 else None


# --- the unit picker of the ledger list --------------------------------------------


def unit_path(session: Session, actor: Actor, unit_id: int) -> list[Unit]:
    """The units from the actor's own unit down to ``unit_id`` (breadcrumbs).

    ``NotFound`` when the unit lies outside the actor's scope.  One query,
    through the ancestor columns; it scales to any depth of the tree.
    """
    unit = session.get(Unit, unit_id)
    if unit is None or not actor.sees(unit):
        raise NotFound("no such unit")
    ids = [getattr(unit, col) for col in ("city_id", "county_id", "township_id", "village_id")]
    ids = [i for i in ids if i is not None]
    ids = ids[ids.index(actor.unit_id):] if actor.unit_id in ids else [unit.id]
    found = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def unit_children(session: Session, actor: Actor, unit_id: int) -> list[tuple[int, str]]:
    """(id, name) of the unit's direct children, by code; ``NotFound`` outside the scope."""
    unit = session.get(Unit, unit_id)
    if unit is None or not actor.sees(unit):
        raise NotFound("no such unit")
    return list(session.execute(
        select(Unit.id, Unit.name).where(Unit.parent_id == unit.id)
        .order_by(Unit.code, Unit.id)).all())


# --- short lists for the home page --------------------------------------------------


def home_items(session: Session, actor: Actor, flt: ItemFilter | None = None, *,
               today: dt.date, below_own_unit: bool = False,
               rejected_back: bool | None = None, own_unit: bool = False,
               per_page: int = 10, sort: str = "deadline", warning_days: int = 3) -> Page:
    """The first rows of one home-page section: ``list_items`` plus two filters.

    ``below_own_unit`` keeps items of units strictly below the actor's own (the
    ones staff may assign and verify); ``rejected_back`` True keeps items sent back
    (退回) at least once, False only those never sent back (a home page that has a
    "rejected back" section lists each item once), None both.  ``ItemFilter`` has
    neither, and the ledger list does not need them.  ``own_unit`` keeps the items of
    the actor's own unit (a township's own findings, which its staff rectify).
    """
    flt = flt or ItemFilter()
    if sort not in SORTS:
        raise ValidationError(f"unknown sort {sort!r}", fields={"sort": "unknown"})
    base = scoped_items(session, actor, flt, today, warning_days)
    if below_own_unit:
        base = base.where(Item.unit_id != actor.unit_id)
    if rejected_back is not None:
        base = base.where(Item.rejection_count > 0 if rejected_back
                          else Item.rejection_count == 0)
    if own_unit:
        base = base.where(Item.unit_id == actor.unit_id)
    rows, total = page_rows(session, base, SORTS[sort], today=today,
                            warning_days=warning_days, per_page=max(1, per_page))
    return Page(rows, min(total, COUNT_CAP), total > COUNT_CAP, 1, per_page, cap=COUNT_CAP)


def items_after(session: Session, actor: Actor, flt: ItemFilter | None = None, *,
                today: dt.date, limit: int = 50, after: tuple | None = None,
                updated_since: dt.datetime | None = None,
                warning_days: int = 3) -> tuple[list[dict], tuple | None]:
    """A keyset page of the actor's ledger, for clients that pull (the API).

    Without ``updated_since`` the items come by id; with it, only those changed at
    or after that instant, oldest change first (ties by id), so a client can pull
    everything changed since its last pull and remember where it stopped.
    ``after`` is the key of the last row of the previous page: ``(id,)`` or
    ``(updated_at, id)``.  Returns the rows and the key of the last row when
    more may follow (None on the last page).
    """
    flt = flt or ItemFilter()
    limit = max(1, min(limit, 500))
    base = scoped_items(session, actor, flt, today, warning_days)
    if updated_since is not None:
        since = updated_since.astimezone(dt.UTC)
        base = base.where(Item.updated_at >= since)
        order = (Item.updated_at, Item.id)
        if after is not None:
            stamp, last_id = after
            base = base.where(or_(Item.updated_at > stamp,
                                  and_(Item.updated_at == stamp, Item.id > last_id)))
    else:
        # overdue and light filters select a few open items through their partial
        # indexes; ordered by the bare id, PostgreSQL instead walks the primary key
        # and filters (35 ms for a county's overdue items at 200,000, 2 ms this way)
        selective = flt.overdue is True or flt.light in ("red", "yellow")
        order = (Item.id + 0,) if selective else (Item.id,)
        if after is not None:
            base = base.where(Item.id > after[0])
    ids = [row[0] for row in session.execute(base.order_by(*order).limit(limit + 1))]
    more = len(ids) > limit
    ids = ids[:limit]
    by_id = {r["id"]: r for r in item_rows(session, ids, today, warning_days)} if ids else {}
    rows = [by_id[i] for i in ids]
    if not more or not rows:
        return rows, None
    last = rows[-1]
    return rows, ((_utc(last["updated_at"]), last["id"]) if updated_since is not None
                  else (last["id"],))


def _utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive UTC; PostgreSQL aware values."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
