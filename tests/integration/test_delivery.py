"""Delivery over real channels: an SMTP server and HTTP receivers on this machine."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from zoneinfo import ZoneInfo

import time_machine
from receivers import HttpReceiver, SmtpReceiver
from sqlalchemy import select, update

from ledger.core.models import Delivery, Notification, User
from ledger.items import services
from ledger.notify import delivery, reminders
from ledger.notify.delivery import deliver_due, deliver_now, send_test_message, senders_for

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=SH)


def overdue_item(app, world) -> None:
    """An item of village V111, three working days overdue on T0 (three recipients)."""
    town = world["town_T11"]
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=SH), tick=False):
        with app.uow() as uow:
            item = services.record_finding(uow, town, unit_id=world.units["V111"].id,
                                           description="党员活动室制度未上墙")
        with app.uow() as uow:
            services.assign(uow, item.id, town, responsible_user_id=world["sec_V111"].id,
                            category="deadline", deadline=dt.date(2026, 11, 20))


def configure(app, **settings) -> None:
    """Store notification settings; the receivers listen on 127.0.0.1, so internal targets
    are allowed (``test_webhook_targets`` shows they are refused otherwise)."""
    with app.uow() as uow:
        reminders.set_notify_settings(uow, **{"webhook_allow_internal": True, **settings})


def sweep(app) -> reminders.SweepResult:
    with time_machine.travel(T0, tick=False), app.uow() as uow:
        return reminders.reminder_sweep(uow)


def rows(app, channel: str) -> list[Delivery]:
    with app.uow() as uow:
        return list(uow.session.scalars(select(Delivery).where(Delivery.channel == channel)
                                        .order_by(Delivery.id)))


def test_reminders_reach_a_real_smtp_server(sanhu, world):
    with sanhu.uow() as uow:
        uow.session.execute(update(User).where(User.username == "sec_V111")
                            .values(email="sec111@village.example"))
        uow.commit()
    with SmtpReceiver() as smtp:
        overdue_item(sanhu, world)
        configure(sanhu, smtp_host="127.0.0.1", smtp_port=smtp.port, email_enabled=True,
                  smtp_from="sanhu@county.example")
        assert sweep(sanhu).deliveries["email"] == 1
        result = deliver_now(sanhu.uow, T0)
    assert (result.sent, result.failed) == (1, 0)
    assert smtp.envelopes == [("sanhu@county.example", ["sec111@village.example"])]
    message = smtp.messages[0]
    assert message["Subject"].startswith("逾期提醒:已逾期 3 个工作日")
    assert "党员活动室制度未上墙" in message.get_content()
    [sent] = rows(sanhu, "email")
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, None)


def test_the_webhook_posts_the_group_robot_text_shape(sanhu, world):
    with HttpReceiver() as hook:
        overdue_item(sanhu, world)
        configure(sanhu, webhook_url=hook.url, webhook_enabled=True)
        sweep(sanhu)
        assert deliver_now(sanhu.uow, T0).sent == 1
    [body] = hook.bodies
    assert body["msgtype"] == "text" and set(body) == {"msgtype", "text"}
    assert body["text"]["content"].startswith("逾期提醒:已逾期 3 个工作日")


def test_a_receiver_failing_twice_gets_the_message_once_after_backoff(sanhu, world):
    with HttpReceiver(fail_first=2) as hook:
        overdue_item(sanhu, world)
        configure(sanhu, webhook_url=hook.url, webhook_enabled=True)
        sweep(sanhu)
        passes = []
        for minutes in (0, 0.5, 1, 2, 3, 10):
            result = deliver_now(sanhu.uow, T0 + dt.timedelta(minutes=minutes))
            [row] = rows(sanhu, "webhook")
            passes.append((minutes, result.sent, result.failed, row.status, row.attempts))
    assert passes == [
        (0, 0, 1, "failed", 1),     # next attempt after 1 minute
        (0.5, 0, 0, "failed", 1),   # not due yet
        (1, 0, 1, "failed", 2),     # next after 2 more minutes
        (2, 0, 0, "failed", 2),
        (3, 1, 0, "sent", 3),
        (10, 0, 0, "sent", 3),      # never again
    ]
    assert hook.attempts == 3 and len(hook.bodies) == 1
    [row] = rows(sanhu, "webhook")
    assert "500" in row.last_error  # the failures stay visible


def test_after_the_last_attempt_a_delivery_stays_failed_and_visible(sanhu, world, monkeypatch):
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 2)
    with HttpReceiver(fail_first=100) as hook:
        overdue_item(sanhu, world)
        configure(sanhu, webhook_url=hook.url, webhook_enabled=True)
        sweep(sanhu)
        for minutes in (0, 1, 5, 60, 600):
            deliver_now(sanhu.uow, T0 + dt.timedelta(minutes=minutes))
    assert hook.attempts == 2
    [row] = rows(sanhu, "webhook")
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 2, None)
    assert "HTTP Error 500" in row.last_error


def test_a_robot_error_code_counts_as_a_failure(sanhu, world):
    with HttpReceiver(answer={"errcode": 310000, "errmsg": "keywords not in content"}) as hook:
        overdue_item(sanhu, world)
        configure(sanhu, webhook_url=hook.url, webhook_enabled=True)
        sweep(sanhu)
        result = deliver_now(sanhu.uow, T0)
    assert result.failed == 1
    assert "310000" in rows(sanhu, "webhook")[0].last_error


def test_a_delivery_left_sending_by_a_crashed_worker_is_taken_over_after_the_lease(sanhu,
                                                                                   world):
    with HttpReceiver() as hook:
        overdue_item(sanhu, world)
        configure(sanhu, webhook_url=hook.url, webhook_enabled=True)
        sweep(sanhu)
        [row] = rows(sanhu, "webhook")
        with sanhu.uow() as uow:
            assert delivery.claim(uow, row.id, T0) is not None  # ... and the worker dies
        # the lease is twice the send deadline (40 s by default), not minutes
        assert deliver_now(sanhu.uow, T0 + delivery.LEASE - dt.timedelta(seconds=1)).sent == 0
        assert deliver_now(sanhu.uow, T0 + delivery.LEASE).sent == 1
    [row] = rows(sanhu, "webhook")
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(hook.bodies) == 1


def test_a_channel_switched_off_keeps_its_queued_deliveries_for_later(sanhu, world):
    overdue_item(sanhu, world)
    configure(sanhu, webhook_url="http://127.0.0.1:9/", webhook_enabled=True)
    sweep(sanhu)
    configure(sanhu, webhook_enabled=False)
    result = deliver_now(sanhu.uow, T0)
    assert result.failed == 1 and "not configured" in result.errors[0]
    assert rows(sanhu, "webhook")[0].status == "failed"


def test_two_workers_at_once_never_send_one_delivery_twice(any_sanhu, any_world):
    with HttpReceiver(delay=0.01) as hook:
        configure(any_sanhu, webhook_url=hook.url, webhook_enabled=True)
        users = [a.id for name, a in any_world.actors.items() if name.startswith("sec_")]
        utc = T0.astimezone(dt.UTC)  # SQLite keeps the wall time: store UTC as the ledger does
        with time_machine.travel(T0, tick=False):
            for n in range(40):
                with any_sanhu.uow() as uow:
                    reminders.insert_notification(uow, user_id=users[n % len(users)],
                                                  kind="notice", title=f"通知 {n}", body="…")
            with any_sanhu.uow() as uow:
                ids = uow.session.scalars(select(Notification.id)).all()
                uow.session.add_all(Delivery(notification_id=i, channel="webhook",
                                             status="queued", attempts=0, created_at=utc,
                                             next_attempt_at=utc) for i in ids)
                uow.commit()
        with any_sanhu.uow() as uow:
            senders = senders_for(reminders.notify_settings(uow))
        results = []
        barrier = threading.Barrier(2)

        def worker():
            barrier.wait()
            results.append(deliver_due(any_sanhu.uow, T0, senders))

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    contents = Counter(b["text"]["content"] for b in hook.bodies)
    assert len(contents) == 40 and set(contents.values()) == {1}
    assert sum(r.sent for r in results) == 40
    assert sum(r.failed for r in results) == 0
    assert {r.status for r in rows(any_sanhu, "webhook")} == {"sent"}


def test_the_admin_test_button_sends_now_and_reports_errors(sanhu, world):
    with SmtpReceiver() as smtp, HttpReceiver() as hook:
        configure(sanhu, smtp_host="127.0.0.1", smtp_port=smtp.port, webhook_url=hook.url)
        with sanhu.uow() as uow:
            assert send_test_message(uow, "email", "admin@example.org").ok
            assert send_test_message(uow, "webhook").ok
            assert send_test_message(uow, "inbox", world["admin"].id).ok
            assert reminders.unread_count(uow, world["admin"].id) == 1
    assert smtp.envelopes[0][1] == ["admin@example.org"]
    assert "测试消息" in hook.bodies[0]["text"]["content"]
    configure(sanhu, smtp_port=9, webhook_url="http://127.0.0.1:9/")
    with sanhu.uow() as uow:
        failed = send_test_message(uow, "email", "admin@example.org")
        assert not failed.ok and "Connection refused" in failed.error
        assert not send_test_message(uow, "webhook").ok
