"""The daily reminder sweep, the digest, report reminders, the inbox and their settings."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import event, select, text, update

from ledger.core.errors import ValidationError
from ledger.core.models import Delivery, Notification, User
from ledger.items import services
from ledger.notify import reminders

SH = ZoneInfo("Asia/Shanghai")
D = dt.date.fromisoformat


def at_nine(day: str) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(9), tzinfo=SH)


def make_item(app, world, village: str, deadline: str, when: str = "2026-11-02") -> int:
    town = world[f"town_T{village[1:3]}"]
    with time_machine.travel(at_nine(when), tick=False):
        with app.uow() as uow:
            item = services.record_finding(uow, town, unit_id=world.units[village].id,
                                           description=f"{village} 三会一课记录不全")
        with app.uow() as uow:
            services.assign(uow, item.id, town, responsible_user_id=world[f"sec_{village}"].id,
                            category="deadline", deadline=D(deadline))
    return item.id


def sweep(app, day: str) -> reminders.SweepResult:
    with time_machine.travel(at_nine(day), tick=False), app.uow() as uow:
        return reminders.reminder_sweep(uow)


def names(world) -> dict[int, str]:
    return {actor.id: name for name, actor in world.actors.items()}


def new_notes(app, world, since_id: int) -> set[tuple]:
    who = names(world)
    with app.uow() as uow:
        rows = uow.session.execute(select(Notification.user_id, Notification.kind,
                                          Notification.offset_days, Notification.item_id)
                                   .where(Notification.id > since_id)).all()
    return {(who[u], kind, offset) for u, kind, offset, _ in rows}


def max_id(app) -> int:
    with app.uow() as uow:
        return uow.session.scalar(text("SELECT coalesce(max(id), 0) FROM notifications"))


def days(first: str, last: str):
    day = D(first)
    while day <= D(last):
        yield day.isoformat()
        day += dt.timedelta(days=1)


OVERDUE = lambda late: {("sec_V111", "overdue", -late), ("town_T11", "overdue", -late),  # noqa: E731
                        ("county_K1", "overdue", -late)}
EXPECTED = {
    "2026-11-13": {("sec_V111", "reminder", 5)},
    "2026-11-19": {("sec_V111", "reminder", 1)},
    "2026-11-20": {("sec_V111", "reminder", 0)},
    "2026-11-25": OVERDUE(3),
    "2026-11-30": OVERDUE(6),
    "2026-12-03": OVERDUE(9),
    "2026-12-08": OVERDUE(12) | {("sup_city", "board", -12), ("sup_K1", "board", -12)},
    "2026-12-11": OVERDUE(15),
}


def test_every_day_the_sweep_creates_exactly_the_reminders_due_and_a_rerun_nothing(
        any_sanhu, any_world):
    make_item(any_sanhu, any_world, "V111", "2026-11-20")  # a Friday
    for day in days("2026-11-02", "2026-12-12"):
        before = max_id(any_sanhu)
        first = sweep(any_sanhu, day)
        assert new_notes(any_sanhu, any_world, before) == EXPECTED.get(day, set()), day
        assert first.total == len(EXPECTED.get(day, ()))
        assert sweep(any_sanhu, day).total == 0
    with any_sanhu.uow() as uow:
        # besides the announcement of the assignment to the secretary
        total = uow.session.scalar(text("SELECT count(*) FROM notifications"
                                        " WHERE kind <> 'assigned'"))
    assert total == sum(len(v) for v in EXPECTED.values())


def test_overdue_recipients_follow_the_items_township_county_and_supervisors(any_sanhu,
                                                                            any_world):
    make_item(any_sanhu, any_world, "V221", "2026-11-20")
    for day in days("2026-11-25", "2026-12-08"):
        sweep(any_sanhu, day)
    got = new_notes(any_sanhu, any_world, 0)
    assert {n for n, kind, _ in got if kind == "overdue"} == {"sec_V221", "town_T22",
                                                             "county_K2"}
    assert {n for n, kind, _ in got if kind == "board"} == {"sup_city", "sup_K2"}


def test_an_extension_brings_the_new_deadlines_reminders(any_sanhu, any_world):
    item_id = make_item(any_sanhu, any_world, "V111", "2026-11-20")
    sweep(any_sanhu, "2026-11-13")
    with time_machine.travel(at_nine("2026-11-16"), tick=False):
        with any_sanhu.uow() as uow:
            services.request_extension(uow, item_id, any_world["sec_V111"],
                                       deadline=D("2026-11-27"), reason="雨季施工")
        with any_sanhu.uow() as uow:
            services.approve_extension(uow, item_id, any_world["county_K1"])
    got = {}
    for day in days("2026-11-16", "2026-11-30"):
        before = max_id(any_sanhu)
        sweep(any_sanhu, day)
        if notes := new_notes(any_sanhu, any_world, before):
            got[day] = notes
    assert got == {"2026-11-20": {("sec_V111", "reminder", 5)},
                   "2026-11-26": {("sec_V111", "reminder", 1)},
                   "2026-11-27": {("sec_V111", "reminder", 0)}}
    with any_sanhu.uow() as uow:
        deadlines = set(uow.session.scalars(select(Notification.deadline)))
    assert deadlines == {D("2026-11-20"), D("2026-11-27")}


def test_items_awaiting_verification_or_closed_get_no_reminders(any_sanhu, any_world):
    item_id = make_item(any_sanhu, any_world, "V111", "2026-11-20")
    with any_sanhu.uow() as uow:
        uow.session.execute(text("UPDATE items SET submitted = :t WHERE id = :i"),
                            {"t": True, "i": item_id})
        uow.commit()
    for day in ("2026-11-13", "2026-11-20", "2026-11-25"):
        assert sweep(any_sanhu, day).total == 0


def test_the_sweep_sends_one_statement_per_offset_however_many_items(any_sanhu, any_world):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    make_item(any_sanhu, any_world, "V111", "2026-11-20")
    event.listen(any_sanhu.engine, "before_cursor_execute", count)
    try:
        sweep(any_sanhu, "2026-11-25")
        one = list(statements)
        for village in ("V112", "V121", "V211", "V212", "V222"):
            event.remove(any_sanhu.engine, "before_cursor_execute", count)
            make_item(any_sanhu, any_world, village, "2026-11-20")
            event.listen(any_sanhu.engine, "before_cursor_execute", count)
        statements.clear()
        result = sweep(any_sanhu, "2026-11-30")
        many = list(statements)
    finally:
        event.remove(any_sanhu.engine, "before_cursor_execute", count)
    inserts = [s for s in many if s.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS")]
    assert len(inserts) == 3 + 1  # offsets 5, 1, 0 and the overdue family
    assert len(many) == len(one)
    assert result.total == 6 * 3


def test_deliveries_are_queued_per_enabled_channel(any_sanhu, any_world):
    with any_sanhu.uow() as uow:
        uow.session.execute(update(User).where(User.username.in_(["sec_V111", "town_T11"]))
                            .values(email="someone@example.org"))
        uow.commit()
    make_item(any_sanhu, any_world, "V111", "2026-11-20")  # announced in the inbox only
    with any_sanhu.uow() as uow:
        reminders.set_notify_settings(uow, smtp_host="127.0.0.1", email_enabled=True,
                                      webhook_url="http://127.0.0.1:9/hook",
                                      webhook_enabled=True, webhook_allow_internal=True)
    result = sweep(any_sanhu, "2026-11-25")
    # three recipients; two have an address; the group webhook gets one copy
    assert result.deliveries == {"inbox": 3, "email": 2, "webhook": 1}
    with any_sanhu.uow() as uow:
        statuses = sorted(uow.session.execute(select(Delivery.channel, Delivery.status)).all())
    assert statuses == [("email", "queued")] * 2 + [("inbox", "sent")] * 4 + \
        [("webhook", "queued")]


def test_the_inbox_lists_counts_and_marks_read_only_the_users_own(any_sanhu, any_world):
    make_item(any_sanhu, any_world, "V111", "2026-11-20")
    sec, town = any_world["sec_V111"].id, any_world["town_T11"].id
    with any_sanhu.uow() as uow:
        assert reminders.mark_read(uow, sec) == 1  # the announcement of the assignment
    for day in ("2026-11-13", "2026-11-19", "2026-11-25"):
        sweep(any_sanhu, day)
    with any_sanhu.uow() as uow:
        assert reminders.unread_count(uow, sec) == 3
        inbox = reminders.list_inbox(uow, sec)
        assert [n["offset_days"] for n in inbox] == [-3, 1, 5, None]
        others = [n["id"] for n in reminders.list_inbox(uow, town)]
        assert reminders.mark_read(uow, sec, others) == 0  # not theirs: nothing happens
    with any_sanhu.uow() as uow:
        assert reminders.mark_read(uow, sec, [inbox[0]["id"]]) == 1
    with any_sanhu.uow() as uow:
        assert reminders.unread_count(uow, sec) == 2
        assert reminders.unread_count(uow, town) == 1
        assert [n["id"] for n in reminders.list_inbox(uow, sec, unread_only=True)] == \
            [inbox[1]["id"], inbox[2]["id"]]
        assert reminders.mark_read(uow, sec) == 2
    with any_sanhu.uow() as uow:
        assert reminders.unread_count(uow, sec) == 0
        read = uow.session.scalars(select(Delivery.status).join(
            Notification, Notification.id == Delivery.notification_id)
            .where(Notification.user_id == sec)).all()
    assert read == ["read"] * 4


def test_the_overdue_digest_counts_each_supervisors_scope_once_a_day(any_sanhu, any_world):
    make_item(any_sanhu, any_world, "V111", "2026-11-06")
    make_item(any_sanhu, any_world, "V211", "2026-11-25")
    for _ in range(2):
        with time_machine.travel(at_nine("2026-11-27"), tick=False), any_sanhu.uow() as uow:
            reminders.overdue_digest(uow)
    who = names(any_world)
    with any_sanhu.uow() as uow:
        rows = uow.session.execute(select(Notification.user_id, Notification.title)
                                   .where(Notification.kind == "digest")).all()
    digest = {who[u]: title for u, title in rows}
    assert set(digest) == {"sup_city", "sup_K1", "sup_K2"}
    assert "2 项逾期" in digest["sup_city"]
    assert "1 项逾期" in digest["sup_K1"] and "1 项逾期" in digest["sup_K2"]


def test_report_reminders_come_in_the_last_working_days_of_quarter_and_half_year(
        any_sanhu, any_world):
    def run(day: str) -> set[tuple]:
        before = max_id(any_sanhu)
        with time_machine.travel(at_nine(day), tick=False), any_sanhu.uow() as uow:
            reminders.report_reminders(uow)
        return {(n, kind) for n, kind, _ in new_notes(any_sanhu, any_world, before)}

    towns = {(f"town_T{k}{t}", "report") for k in (1, 2) for t in (1, 2)}
    counties = {("county_K1", "report"), ("county_K2", "report")}
    assert run("2026-11-30") == set()
    assert run("2026-12-28") == set()
    assert run("2026-12-29") == towns | counties  # Dec 29, 30, 31 are the last 3 working days
    assert run("2026-12-31") == set()
    with any_sanhu.uow() as uow:
        start = reminders.report_window(uow, D("2026-09-30"))
    assert run(start.isoformat()) == towns  # a quarter that ends no half-year


def test_settings_come_from_the_environment_and_are_validated_when_stored(any_sanhu):
    with any_sanhu.uow() as uow:
        current = reminders.notify_settings(uow)
        assert current.reminder_offsets == (5, 1, 0)
        assert (current.overdue_every, current.board_threshold_days) == (3, 10)
        assert not current.email_enabled and not current.webhook_enabled
        with pytest.raises(ValidationError) as err:
            reminders.set_notify_settings(uow, reminder_offsets="5,-1", smtp_tls="maybe",
                                          email_enabled=True)
        assert set(err.value.fields) == {"reminder_offsets", "smtp_tls"}
    with any_sanhu.uow() as uow:
        stored = reminders.set_notify_settings(
            uow, reminder_offsets="7, 2,0", smtp_host="mail.example.org", smtp_port="587",
            smtp_password="s3cret", smtp_tls="starttls", email_enabled="on")
    assert stored.reminder_offsets == (7, 2, 0) and stored.smtp_port == 587
    with any_sanhu.uow() as uow:
        kept = reminders.set_notify_settings(uow, smtp_password="", smtp_from="dj@example.org")
        assert kept.smtp_password == "s3cret"  # a blank password field keeps the stored one
        assert kept.public()["smtp_password"] == "********"
        with pytest.raises(ValidationError):
            reminders.set_notify_settings(uow, webhook_enabled=True)  # no URL
