"""Deadline reminders, the supervisors' digest, report reminders and the inbox (SPEC §10).

The daily sweep is set-based: for each reminder offset one ``INSERT … SELECT …
ON CONFLICT DO NOTHING`` finds the open items at that reminder point (through
``calendar_days.workday_seq``, so "N working days" is a subtraction) and
writes one notification per recipient.  The unique ``dedupe_key`` (kind, item,
deadline, offset, user) makes every reminder happen once, however often the
sweep runs; an extended deadline gets reminders of its own.  Deliveries for
the other channels are then queued in one statement per channel, and
``ledger.notify.delivery`` sends them.

Settings editable by admins live in ``app_settings`` and fall back to
``Settings`` (the environment): see ``notify_settings``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import aliased

from ledger.calendar.dates import chinese_date
from ledger.core.db import dialect_insert
from ledger.core.errors import ValidationError
from ledger.core.models import (
    AppSetting,
    CalendarDay,
    Delivery,
    Item,
    Notification,
    NotificationOptOut,
    Report,
    Role,
    Unit,
    User,
)
from ledger.core.uow import UnitOfWork
from ledger.items.queries import open_predicate
from ledger.notify.webhook_target import database_port, target_problem

#: reminder report windows: the last this many working days of a quarter / half-year
REPORT_LEAD_WORKDAYS = 3
#: an upward report is due this many working days after its period's last day
REPORT_DUE_WORKDAYS = 10
#: a reminder point missed while no sweep ran is caught up for this many days
CATCH_UP_DAYS = 10
#: the title note of a caught-up reminder
LATE_MARK = "（补发）"
CHANNELS = ("inbox", "email", "webhook")
SMTP_TLS = ("none", "starttls", "ssl")
WEBHOOK_KINDS = ("wecom", "dingtalk")


# --- settings -----------------------------------------------------------------


@dataclass(frozen=True)
class NotifySettings:
    """Reminder points and channels: ``app_settings`` over the environment's values.

    The defaults are the ``Settings`` (see ``_defaults``); only the webhook's
    kind has none there.  ``database_port`` is not a setting: it comes from the
    database URL, so the webhook can refuse it (``ledger.notify.webhook_target``).
    """

    reminder_offsets: tuple[int, ...]
    overdue_every: int
    board_threshold_days: int
    email_enabled: bool
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str
    smtp_from: str
    smtp_tls: str
    webhook_enabled: bool
    webhook_url: str
    webhook_kind: str = "wecom"
    webhook_allow_internal: bool = False
    database_port: int | None = None

    def public(self) -> dict:
        """For display: everything but the SMTP password (only whether one is set)."""
        out = asdict(self)
        out["smtp_password"] = "********" if self.smtp_password else ""
        out["reminder_offsets"] = list(self.reminder_offsets)
        return out


def _defaults(uow: UnitOfWork) -> NotifySettings:
    s = uow.settings
    return NotifySettings(
        reminder_offsets=tuple(s.reminder_offsets), overdue_every=s.overdue_every,
        board_threshold_days=s.board_threshold_days, email_enabled=bool(s.smtp_host),
        smtp_host=s.smtp_host, smtp_port=s.smtp_port, smtp_user=s.smtp_user,
        smtp_password=s.smtp_password, smtp_from=s.smtp_from, smtp_tls=s.smtp_tls,
        webhook_enabled=bool(s.webhook_url), webhook_url=s.webhook_url,
        webhook_allow_internal=s.webhook_allow_internal,
        database_port=database_port(s.database_url),
    )


def _editable() -> set[str]:
    return {f.name for f in fields(NotifySettings)} - {"database_port"}


def notify_settings(uow: UnitOfWork) -> NotifySettings:
    """The settings in force: stored values over the environment's (one query)."""
    stored = dict(uow.session.execute(select(AppSetting.key, AppSetting.value)).all())
    known = _editable()
    values = {k: v for k, v in stored.items() if k in known}
    if "reminder_offsets" in values:
        values["reminder_offsets"] = tuple(values["reminder_offsets"])
    return replace(_defaults(uow), **values)


def _validated(current: NotifySettings, changes: dict) -> dict:
    known = _editable()
    errors: dict[str, str] = {}
    out: dict = {}
    for name, value in changes.items():
        if name not in known:
            errors[name] = "unknown setting"
            continue
        try:
            out[name] = _coerce(name, value)
        except (TypeError, ValueError) as exc:
            errors[name] = str(exc) or "invalid"
    merged = replace(current, **out) if not errors else current
    if not errors:
        if merged.email_enabled and not merged.smtp_host:
            errors["smtp_host"] = "e-mail needs an SMTP host"
        if merged.webhook_enabled and not merged.webhook_url:
            errors["webhook_url"] = "the webhook needs a URL"
        elif merged.webhook_url and {"webhook_url", "webhook_allow_internal"} & set(out):
            problem = target_problem(merged.webhook_url,
                                     allow_internal=merged.webhook_allow_internal,
                                     database_port=merged.database_port)
            if problem:
                errors["webhook_url"] = problem
    if errors:
        raise ValidationError("invalid notification settings", fields=errors)
    return out


def _coerce(name: str, value: object) -> object:
    if name == "reminder_offsets":
        if isinstance(value, str):
            value = [p for p in value.replace(" ", "").split(",") if p]
        offsets = sorted({int(v) for v in value}, reverse=True)  # type: ignore[union-attr]
        if any(o < 0 or o > 60 for o in offsets):
            raise ValueError("offsets are working days between 0 and 60")
        return offsets
    if name in ("overdue_every", "board_threshold_days", "smtp_port"):
        number = int(value)  # type: ignore[arg-type]
        top = 65535 if name == "smtp_port" else 365
        if not 1 <= number <= top:
            raise ValueError(f"must be between 1 and {top}")
        return number
    if name in ("email_enabled", "webhook_enabled", "webhook_allow_internal"):
        if isinstance(value, str):
            return value.lower() in ("1", "true", "on", "yes")
        return bool(value)
    text_value = "" if value is None else str(value).strip()
    if name == "smtp_tls" and text_value not in SMTP_TLS:
        raise ValueError("one of " + ", ".join(SMTP_TLS))
    if name == "webhook_kind" and text_value not in WEBHOOK_KINDS:
        raise ValueError("one of " + ", ".join(WEBHOOK_KINDS))
    if name == "webhook_url" and text_value and not text_value.startswith(
            ("http://", "https://")):
        raise ValueError("an http:// or https:// URL")
    return text_value


def set_notify_settings(uow: UnitOfWork, **changes: object) -> NotifySettings:
    """Store settings from the admin page (validated, all or nothing) and commit.

    ``smtp_password=None`` or ``""`` from a form that shows it masked keeps the
    stored password; pass ``clear_smtp_password=True`` to remove it.
    """
    clear = bool(changes.pop("clear_smtp_password", False))
    if changes.get("smtp_password") in (None, "", "********"):
        changes.pop("smtp_password", None)
    if clear:
        changes["smtp_password"] = ""
    values = _validated(notify_settings(uow), changes)
    now = uow.now()
    for key, value in values.items():
        ins = dialect_insert(uow.session, AppSetting.__table__).values(
            key=key, value=value, updated_at=now)
        uow.session.execute(ins.on_conflict_do_update(
            index_elements=["key"], set_={"value": ins.excluded.value, "updated_at": now}))
    uow.commit()
    return notify_settings(uow)


# --- the sweep -----------------------------------------------------------------


@dataclass
class SweepResult:
    """Notifications created per offset (``-3`` etc. are overdue points) and queued deliveries."""

    notifications: dict[str, int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.notifications.values())


def _text(value: str):
    return literal(value, String)


def _str(column):
    return cast(column, String)


def _today_seq(today: dt.date):
    return select(CalendarDay.workday_seq).where(
        CalendarDay.day == literal(today, Date)).scalar_subquery()


def _item_columns():
    return (Item.id.label("item_id"), Item.number, Item.description, Item.deadline,
            Item.responsible_user_id, Item.city_id, Item.county_id, Item.township_id)


def _recipients(hit, *, overdue: bool, board_threshold: int | None):
    """One SELECT per kind of recipient, UNION ALL-ed: responsible, township, county, board.

    Each branch repeats the item subquery instead of sharing a CTE: a statement
    that starts with ``WITH`` gets no row count from Python's sqlite3, and the
    partial index makes each repetition an index range read.
    """
    u = aliased(User)
    active = u.active == true()

    def branch(name: str, audience: str, on):
        h = hit.subquery(f"hit_{name}")
        return (select(h, u.id.label("user_id"), _text(audience).label("audience"))
                .join(u, and_(on(h), active)))

    branches = [branch("r", "responsible", lambda h: u.id == h.c.responsible_user_id)]
    if overdue:
        branches.append(branch("t", "township", lambda h: and_(
            u.unit_id == h.c.township_id, u.role == Role.TOWNSHIP_STAFF.value)))
        branches.append(branch("c", "county", lambda h: and_(
            u.unit_id == h.c.county_id, u.role == Role.COUNTY_STAFF.value)))
    if board_threshold is not None:
        sup = branch("s", "supervisor", lambda h: and_(
            u.role == Role.SUPERVISOR.value,
            u.unit_id.in_([h.c.city_id, h.c.county_id, h.c.township_id])))
        branches.append(sup.where(sup.selected_columns.late >= board_threshold))
    return union_all(*branches).subquery("rcpt")


def _insert_notifications(uow: UnitOfWork, rows, *, now, kind, title, body, key,
                          offset) -> int:
    """``INSERT INTO notifications … SELECT … FROM rows ON CONFLICT DO NOTHING``; the count."""
    cols = ["user_id", "kind", "audience", "item_id", "deadline", "offset_days", "title",
            "body", "dedupe_key", "created_at"]
    source = select(
        rows.c.user_id, kind, rows.c.audience, rows.c.item_id, rows.c.deadline, offset,
        func.substr(title, 1, 200), body, key, literal(now, DateTime(timezone=True)),
    ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
    ins = dialect_insert(uow.session, Notification.__table__).from_select(cols, source)
    ins = ins.on_conflict_do_nothing(index_elements=["dedupe_key"])
    result = uow.session.execute(ins.execution_options(preserve_rowcount=True))
    return max(result.rowcount, 0)


def _summary(rows):
    return rows.c.number + _text(" ") + func.substr(rows.c.description, 1, 300) \
        + _text("(整改时限 ") + _str(rows.c.deadline) + _text(")")


def _remind_before(uow: UnitOfWork, now: dt.datetime, today: dt.date, offset: int,
                   missed: tuple[int, int] | None = None) -> int:
    """Open items whose deadline is ``offset`` working days ahead (0: today).

    With ``missed=(lo, hi)``: instead, the items whose ``offset`` point fell on
    a day no sweep covered (working-day numbers ``lo``..``hi``) and whose
    deadline has not passed, titled （补发）.  The dedupe key is the point's
    own, so a catch-up never doubles a reminder that did go out.
    """
    dl = aliased(CalendarDay)
    if missed is None:
        due_days = select(dl.day).where(dl.workday_seq == _today_seq(today) + offset,
                                        dl.day >= literal(today, Date))
    else:
        lo, hi = missed
        due_days = select(dl.day).where(dl.workday_seq - offset >= lo,
                                        dl.workday_seq - offset <= hi,
                                        dl.day >= literal(today, Date))
    hit = (select(*_item_columns(), literal(0, Integer).label("late"))
           .where(open_predicate(uow.session), Item.deadline.in_(due_days)))
    rows = _recipients(hit, overdue=False, board_threshold=None)
    title = (_text("整改提醒:今天是整改时限 ") if offset == 0
             else _text(f"整改提醒:距整改时限还有 {offset} 个工作日 ")) + rows.c.number
    if missed is not None:
        title = _text(LATE_MARK) + title
    key = (_text("r:") + _str(rows.c.item_id) + _text(":") + _str(rows.c.deadline)
           + _text(f":{offset}:") + _str(rows.c.user_id))
    return _insert_notifications(uow, rows, now=now, kind=_text("reminder"), title=title,
                                 body=_summary(rows), key=key,
                                 offset=literal(offset, Integer))


def _missed_range(uow: UnitOfWork, today: dt.date,
                  since: dt.date | None) -> tuple[int, int] | None:
    """Working-day numbers of the days after ``since`` and before ``today`` (None: no gap)."""
    if since is None:
        return None
    first = max(since, today - dt.timedelta(days=CATCH_UP_DAYS)) + dt.timedelta(days=1)
    last = today - dt.timedelta(days=1)
    if first > last:
        return None
    seqs = dict(uow.session.execute(select(CalendarDay.day, CalendarDay.workday_seq)
                                    .where(CalendarDay.day.in_([first, last]))).all())
    if first not in seqs or last not in seqs:
        return None
    return seqs[first], seqs[last]


def _remind_overdue(uow: UnitOfWork, now: dt.datetime, today: dt.date, every: int,
                    threshold: int) -> int:
    """Open items overdue by a multiple of ``every`` working days, in one statement.

    Also the township and county staff in charge; past ``threshold`` working days,
    once per item and deadline, the supervisors in scope (the 督办 board).
    """
    dl = aliased(CalendarDay)
    late = _today_seq(today) - dl.workday_seq
    hit = (select(*_item_columns(), late.label("late"))
           .join(dl, dl.day == Item.deadline)
           .where(open_predicate(uow.session), Item.deadline < literal(today, Date),
                  late >= every, late % every == 0))
    rows = _recipients(hit, overdue=True, board_threshold=threshold)
    board = rows.c.audience == "supervisor"
    late_text = _str(rows.c.late)
    title = case((board, _text("督办:已逾期 ") + late_text + _text(" 个工作日 ")),
                 else_=_text("逾期提醒:已逾期 ") + late_text + _text(" 个工作日 ")) + rows.c.number
    key = case(
        (board, _text("b:") + _str(rows.c.item_id) + _text(":") + _str(rows.c.deadline)
         + _text(":") + _str(rows.c.user_id)),
        else_=_text("r:") + _str(rows.c.item_id) + _text(":") + _str(rows.c.deadline)
        + _text(":-") + late_text + _text(":") + _str(rows.c.user_id))
    kind = case((board, _text("board")), else_=_text("overdue"))
    return _insert_notifications(uow, rows, now=now, kind=kind, title=title, body=_summary(rows),
                                 key=key, offset=-rows.c.late)


def _wanted(n, channel: str):
    """The recipient has not turned this kind off for ``channel`` (the account page)."""
    o = NotificationOptOut
    return ~exists().where(o.user_id == n.user_id, o.kind == n.kind,
                           o.channel == literal(channel, String))


def queue_deliveries(uow: UnitOfWork, settings: NotifySettings,
                     created_at: dt.datetime, ids: list[int] | None = None,
                     channels: Sequence[str] = CHANNELS) -> dict[str, int]:
    """Deliveries for the notifications created at ``created_at`` (or those of ``ids``)
    over ``channels``: one statement per channel.

    The inbox copy is ``sent`` at once; e-mail goes to recipients with an address;
    the webhook (one group) gets the responsible person's copy only, so a group
    sees each reminder once and not once per recipient.  Neither goes out for a
    kind the recipient turned off for that channel (``NotificationOptOut``).
    """
    now = literal(created_at, DateTime(timezone=True))
    n, u = Notification, User
    fresh = n.created_at == now if ids is None else n.id.in_(ids)
    plans = {"inbox": (select(n.id, _text("inbox"), _text("sent"), now, null(), now)
                       .where(fresh))}
    if settings.email_enabled:
        plans["email"] = (select(n.id, _text("email"), _text("queued"), now, now, null())
                          .join(u, u.id == n.user_id)
                          .where(fresh, u.email.is_not(None), u.email != "",
                                 _wanted(n, "email")))
    if settings.webhook_enabled:
        plans["webhook"] = (select(n.id, _text("webhook"), _text("queued"), now, now, null())
                            .where(fresh, n.audience == "responsible", _wanted(n, "webhook")))
    counts = {}
    for channel, source in plans.items():
        if channel not in channels:
            continue
        ins = dialect_insert(uow.session, Delivery.__table__).from_select(
            ["notification_id", "channel", "status", "created_at", "next_attempt_at", "sent_at"],
            source).on_conflict_do_nothing(index_elements=["notification_id", "channel"])
        counts[channel] = max(uow.session.execute(
            ins.execution_options(preserve_rowcount=True)).rowcount, 0)
    return counts


def reminder_sweep(uow: UnitOfWork, today: dt.date | None = None, *,
                   since: dt.date | None = None) -> SweepResult:
    """The daily deadline reminders: one statement per offset, then the deliveries; commits.

    Safe to run any number of times a day: the unique keys keep every reminder single.
    ``since`` is the last day a sweep completed: a point that fell on a day
    after it (at most ``CATCH_UP_DAYS`` back) goes out now, marked （补发）,
    if its deadline is still ahead (``late:<offset>`` in the result).
    """
    today = today or uow.today()
    settings = notify_settings(uow)
    now = uow.now()
    result = SweepResult()
    for offset in settings.reminder_offsets:
        result.notifications[str(offset)] = _remind_before(uow, now, today, offset)
    gap = _missed_range(uow, today, since)
    for offset in settings.reminder_offsets if gap is not None else ():
        result.notifications[f"late:{offset}"] = _remind_before(uow, now, today, offset,
                                                                missed=gap)
    result.notifications["overdue"] = _remind_overdue(
        uow, now, today, settings.overdue_every, settings.board_threshold_days)
    result.deliveries = queue_deliveries(uow, settings, now)
    uow.commit()
    return result


# --- the supervisors' digest and the report reminders --------------------------------


def _insert_rows(uow: UnitOfWork, rows: list[dict], now: dt.datetime) -> int:
    if not rows:
        return 0
    for row in rows:
        row.setdefault("created_at", now)
        row.setdefault("item_id", None)
    ins = dialect_insert(uow.session, Notification.__table__).values(rows)
    ins = ins.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return max(uow.session.execute(ins.execution_options(preserve_rowcount=True)).rowcount, 0)


def overdue_digest(uow: UnitOfWork, today: dt.date | None = None) -> SweepResult:
    """One notification a day per supervisor with overdue items in scope; commits.

    Counts the overdue items and those past the board threshold, one grouped
    query per level a supervisor can sit at (city, county).
    """
    today = today or uow.today()
    settings = notify_settings(uow)
    dl = aliased(CalendarDay)
    late = _today_seq(today) - dl.workday_seq
    rows = []
    for level in ("city", "county", "township"):
        q = (select(User.id, func.count(Item.id),
                    func.sum(case((late >= settings.board_threshold_days, 1), else_=0)))
             .select_from(User)
             .join(Unit, Unit.id == User.unit_id)
             .join(Item, getattr(Item, f"{level}_id") == User.unit_id)
             .join(dl, dl.day == Item.deadline)
             .where(User.role == Role.SUPERVISOR.value, User.active == true(),
                    Unit.level == level, open_predicate(uow.session),
                    Item.deadline < today)
             .group_by(User.id))
        for user_id, overdue, past in uow.session.execute(q):
            rows.append({
                "user_id": user_id, "kind": "digest", "audience": "digest",
                "title": f"逾期问题日报 {chinese_date(today)}:{overdue} 项逾期",
                "body": (f"截至 {chinese_date(today)},辖区内逾期未整改问题 {overdue} 项,"
                         f"其中逾期超过 {settings.board_threshold_days} 个工作日的 "
                         f"{int(past or 0)} 项。"),
                "dedupe_key": f"d:{today.isoformat()}:{user_id}",
            })
    now = uow.now()
    result = SweepResult(notifications={"digest": _insert_rows(uow, rows, now)})
    result.deliveries = queue_deliveries(uow, settings, now)
    uow.commit()
    return result


def _period_end(today: dt.date, months: int) -> dt.date:
    """Last day of the quarter (``months=3``) or half-year (6) containing ``today``."""
    last_month = ((today.month - 1) // months + 1) * months
    first_next = dt.date(today.year + (last_month == 12), last_month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def report_window(uow: UnitOfWork, period_end: dt.date) -> dt.date:
    """The first day of the report window: ``REPORT_LEAD_WORKDAYS`` working days to the end."""
    cal = uow.calendar
    day, seen = period_end, 0
    while True:
        if cal.is_workday(day):
            seen += 1
            if seen == REPORT_LEAD_WORKDAYS:
                return day
        day -= dt.timedelta(days=1)


def report_reminders(uow: UnitOfWork, today: dt.date | None = None) -> SweepResult:
    """Remind township staff at quarter end (to report to the county) and county staff
    at half-year end (to the city); commits.

    Due in the last ``REPORT_LEAD_WORKDAYS`` working days of the period and up to
    its last day, once per period and person, so a day the scheduler was down
    is caught up the next day. Each reminder links to the unit's report of the
    period (``subject``); units whose report is already submitted are skipped.
    """
    today = today or uow.today()
    now = uow.now()
    result = SweepResult()
    plans = [("quarter", 3, Role.TOWNSHIP_STAFF, "县委组织部",
              f"{today.year}Q{(today.month - 1) // 3 + 1}", "季度")]
    if _period_end(today, 3) == _period_end(today, 6):  # the quarter ends a half-year
        plans.append(("half", 6, Role.COUNTY_STAFF, "市委组织部",
                      f"{today.year}H{1 if today.month <= 6 else 2}", "半年"))
    for name, months, role, to, period, word in plans:
        end = _period_end(today, months)
        if not report_window(uow, end) <= today <= end:
            result.notifications[name] = 0
            continue
        due = uow.calendar.add_workdays(end, REPORT_DUE_WORKDAYS).date
        sent = select(Report.unit_id).where(Report.period == period,
                                            Report.status.in_(("submitted", "received")))
        users = uow.session.execute(select(User.id, User.unit_id).where(
            User.role == role.value, User.active == true(), User.unit_id.not_in(sent)))
        rows = [{
            "user_id": user_id, "kind": "report", "audience": "report",
            "title": f"{word}报告提醒:请于 {chinese_date(due)} 前向{to}报送 {period} 情况",
            "body": (f"{period} 即将结束。请将本{word}观摩评议排名及问题整改台账情况"
                     f"(发现、销号、整改率、逾期)报送{to}。"),
            "subject": f"report:{unit_id}:{period}",
            "dedupe_key": f"p:{period}:{user_id}",
        } for user_id, unit_id in users]
        result.notifications[name] = _insert_rows(uow, rows, now)
    result.deliveries = queue_deliveries(uow, notify_settings(uow), now)
    uow.commit()
    return result


def notify_rows(uow: UnitOfWork, rows: list[dict]) -> int:
    """Insert notifications (each once by its ``dedupe_key``) and queue their deliveries,
    without committing; returns how many were new."""
    now = uow.now()
    for row in rows:
        row.setdefault("audience", row["kind"])
        row.setdefault("subject", None)
        row.setdefault("observation_id", None)
    count = _insert_rows(uow, rows, now)
    if count:
        queue_deliveries(uow, notify_settings(uow), now)
    return count


def announce(uow: UnitOfWork, rows: list[dict], held: list[int] | None = None) -> int:
    """Insert the announcements of one event (each once by its ``dedupe_key``) and queue
    the deliveries of those that are new, without committing; returns how many were new.

    The ledger's services call it (through ``UnitOfWork.announce``) in the
    transaction of the event, so an event and its announcements are written
    together or not at all.  With ``held`` (a bulk act) only the inbox copy is
    queued and the new ids are appended to ``held`` for ``bulk_digest``.
    """
    if not rows:
        return 0
    now = uow.now()
    for row in rows:
        row.setdefault("created_at", now)
        row.setdefault("audience", row["kind"])
        row["title"] = row["title"][:200]
    # parameters apart from the statement: its compiled form is cached across events
    ins = (dialect_insert(uow.session, Notification.__table__)
           .on_conflict_do_nothing(index_elements=["dedupe_key"])
           .returning(Notification.__table__.c.id))
    ids = list(uow.session.execute(ins, rows).scalars())
    if ids and held is None:
        queue_deliveries(uow, notify_settings(uow), now, ids)
    elif ids:
        queue_deliveries(uow, notify_settings(uow), now, ids, channels=("inbox",))
        held.extend(ids)
    return len(ids)


#: item numbers listed in a digest's body at most
DIGEST_NUMBERS = 200


def bulk_digest(uow: UnitOfWork, ids: list[int]) -> int:
    """After a bulk act: the e-mail and webhook copies of its held announcements, one
    message per recipient and kind instead of one per item; commits.

    A recipient told of a single item gets that announcement as usual; for more,
    a digest notification lists the items' numbers.  It is written read (the
    inbox has every item's own message already) and goes out over e-mail and
    webhook only, by the same settings and the recipient's choices.
    Returns how many notifications were queued for those channels.
    """
    n = Notification
    found = []
    for start in range(0, len(ids), 500):
        found += uow.session.execute(
            select(n.id, n.user_id, n.kind, n.audience, n.title, Item.number)
            .outerjoin(Item, Item.id == n.item_id)
            .where(n.id.in_(ids[start:start + 500])).order_by(n.id)).all()
    groups: dict[tuple[int, str], list] = {}
    for row in found:
        groups.setdefault((row.user_id, row.kind), []).append(row)
    now = uow.now()
    singles = [rows[0].id for rows in groups.values() if len(rows) == 1]
    digests = []
    for (user_id, kind), rows in groups.items():
        if len(rows) < 2:
            continue
        numbers = [r.number or "" for r in rows]
        head = rows[0].title.split("：")[0]
        body = "、".join(numbers[:DIGEST_NUMBERS])
        if len(numbers) > DIGEST_NUMBERS:
            body += f" 等 {len(numbers)} 项"
        audiences = {r.audience for r in rows}
        digests.append({
            "user_id": user_id, "kind": kind,
            "audience": "responsible" if "responsible" in audiences else rows[0].audience,
            "title": f"{head}：共 {len(rows)} 项"[:200], "body": body,
            "dedupe_key": f"bulk:{rows[0].id}:{user_id}", "created_at": now, "read_at": now,
        })
    settings = notify_settings(uow)
    outward = tuple(c for c in CHANNELS if c != "inbox")
    if digests:
        ins = (dialect_insert(uow.session, Notification.__table__)
               .on_conflict_do_nothing(index_elements=["dedupe_key"])
               .returning(Notification.__table__.c.id))
        singles += list(uow.session.execute(ins, digests).scalars())
    if singles:
        queue_deliveries(uow, settings, now, singles, channels=outward)
    uow.commit()
    return len(singles)


@dataclass(frozen=True)
class Outbox:
    """What the ledger's services announce through (``UnitOfWork.announce``)."""

    def announce(self, uow: UnitOfWork, rows: list[dict], held: list[int] | None) -> int:
        return announce(uow, rows, held)

    def digest(self, uow: UnitOfWork, ids: list[int]) -> int:
        return bulk_digest(uow, ids)


OUTBOX = Outbox()


# --- choices of the user --------------------------------------------------------

#: the channels a user may turn a kind off for (the inbox has every kind)
OPTIONAL_CHANNELS = ("email", "webhook")


def opt_outs(uow: UnitOfWork, user_id: int) -> set[tuple[str, str]]:
    """The (kind, channel) pairs the user turned off."""
    return {(kind, channel) for kind, channel in uow.session.execute(
        select(NotificationOptOut.kind, NotificationOptOut.channel)
        .where(NotificationOptOut.user_id == user_id))}


def set_opt_outs(uow: UnitOfWork, user_id: int, kinds: Sequence[str],
                 off: Iterable[tuple[str, str]]) -> None:
    """Store the user's choices for ``kinds``: exactly the pairs ``off`` are turned off; commits.

    Choices for kinds not in ``kinds`` stay as they are.
    """
    off = set(off)
    unknown = {pair for pair in off
               if pair[0] not in kinds or pair[1] not in OPTIONAL_CHANNELS}
    if unknown:
        raise ValidationError("unknown kind or channel", fields={"kinds": "unknown"})
    uow.session.execute(delete(NotificationOptOut).where(
        NotificationOptOut.user_id == user_id, NotificationOptOut.kind.in_(list(kinds))))
    if off:
        uow.session.execute(insert(NotificationOptOut.__table__), [
            {"user_id": user_id, "kind": kind, "channel": channel}
            for kind, channel in sorted(off)])
    uow.commit()


# --- the inbox -----------------------------------------------------------------


def insert_notification(uow: UnitOfWork, *, user_id: int, kind: str, title: str, body: str,
                        item_id: int | None = None) -> int:
    """One ad-hoc notification (a test message, a notice) with its inbox delivery; commits."""
    if uow.session.get(User, user_id) is None:
        raise ValidationError("no such user", fields={"to": "unknown user"})
    now = uow.now()
    note = Notification(user_id=user_id, kind=kind, audience=kind, item_id=item_id,
                        title=title[:200], body=body, created_at=now,
                        dedupe_key=f"{kind}:{user_id}:{uuid.uuid4().hex}")
    uow.session.add(note)
    uow.flush()
    uow.session.add(Delivery(notification_id=note.id, channel="inbox", status="sent",
                             attempts=0, created_at=now, sent_at=now))
    uow.commit()
    return note.id


def unread_count(uow: UnitOfWork, user_id: int) -> int:
    """How many of the user's notifications are unread (for the header badge)."""
    return uow.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def list_inbox(uow: UnitOfWork, user_id: int, *, unread_only: bool = False, page: int = 1,
               per_page: int = 20) -> list[dict]:
    """The user's own notifications, newest first."""
    per_page = max(1, min(per_page, 200))
    q = (select(Notification.id, Notification.kind, Notification.audience, Notification.title,
                Notification.body, Notification.item_id, Notification.deadline,
                Notification.offset_days, Notification.created_at, Notification.read_at)
         .where(Notification.user_id == user_id)
         .order_by(Notification.id.desc())
         .limit(per_page).offset((max(1, page) - 1) * per_page))
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    return [dict(row._mapping) for row in uow.session.execute(q)]


def mark_read(uow: UnitOfWork, user_id: int, notification_ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all unread when ``notification_ids`` is None).

    Ids of other users' notifications are ignored, so nothing leaks; commits and
    returns how many changed.  Their inbox deliveries become ``read``.
    """
    now = uow.now()
    mine = select(Notification.id).where(Notification.user_id == user_id,
                                         Notification.read_at.is_(None))
    if notification_ids is not None:
        if not notification_ids:
            return 0
        mine = mine.where(Notification.id.in_([int(i) for i in notification_ids]))
    ids = list(uow.session.scalars(mine))
    if not ids:
        return 0
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        uow.session.execute(update(Notification).where(Notification.id.in_(chunk))
                            .values(read_at=now))
        uow.session.execute(update(Delivery).where(Delivery.notification_id.in_(chunk),
                                                   Delivery.channel == "inbox")
                            .values(status="read"))
    uow.commit()
    return len(ids)


# --- read-only helpers for the inbox page --------------------------------------------


@dataclass
class InboxPage:
    """One page of a user's inbox: rows (with the item's number), the total and unread count."""

    rows: list[dict]
    page: int
    per_page: int
    total: int
    unread: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _inbox_columns():
    return (Notification.id, Notification.kind, Notification.audience, Notification.title,
            Notification.body, Notification.item_id, Notification.observation_id,
            Notification.subject, Notification.notice_id, Notification.deadline,
            Notification.offset_days,
            Notification.created_at, Notification.read_at, Item.number.label("item_number"),
            Item.description.label("item_description"))


def inbox_page(uow: UnitOfWork, user_id: int, *, unread_only: bool = False, page: int = 1,
               per_page: int = 20) -> InboxPage:
    """The user's own notifications, newest first, with the item's number; three indexed queries."""
    per_page = max(1, min(per_page, 200))
    page = max(1, page)
    mine = Notification.user_id == user_id
    unread = unread_count(uow, user_id)
    total = unread if unread_only else uow.session.scalar(
        select(func.count(Notification.id)).where(mine)) or 0
    q = (select(*_inbox_columns())
         .outerjoin(Item, Item.id == Notification.item_id)
         .where(mine)
         .order_by(Notification.id.desc())
         .limit(per_page).offset((page - 1) * per_page))
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    rows = [dict(row._mapping) for row in uow.session.execute(q)]
    return InboxPage(rows, page, per_page, total, unread)


def inbox_after(uow: UnitOfWork, user_id: int, *, unread_only: bool = False,
                before_id: int | None = None, limit: int = 50) -> list[dict]:
    """The user's own notifications older than ``before_id``, newest first: the inbox
    page's rows in cursor pages (for the API)."""
    q = (select(*_inbox_columns())
         .outerjoin(Item, Item.id == Notification.item_id)
         .where(Notification.user_id == user_id)
         .order_by(Notification.id.desc())
         .limit(max(1, min(limit, 500))))
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    if before_id is not None:
        q = q.where(Notification.id < before_id)
    return [dict(row._mapping) for row in uow.session.execute(q)]


def own_notification(uow: UnitOfWork, user_id: int, notification_id: int) -> dict | None:
    """One notification of the user (None when it does not exist or is someone else's)."""
    row = uow.session.execute(
        select(*_inbox_columns()).outerjoin(Item, Item.id == Notification.item_id)
        .where(Notification.id == notification_id, Notification.user_id == user_id)).first()
    return dict(row._mapping) if row else None
