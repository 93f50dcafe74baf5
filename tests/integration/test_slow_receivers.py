"""A slow, hanging or refusing receiver never stops delivery (issue 8, point 2).

Real receivers on this machine: an SMTP server (aiosmtpd) and HTTP endpoints
that answer one byte per second (``drip``), accept and never answer
(``hang``), or are not there at all (connection refused).  Each send is
bounded by ``SANHU_DELIVERY_DEADLINE_SECONDS`` (2 s here) and the channels
send in parallel with ``SANHU_DELIVERY_WORKERS`` (4) each, so the other
deliveries go out within the deadline, the stuck ones are failed with a
retry and a plain error, and a pass over many hanging webhooks takes about
deadline × count / workers.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from zoneinfo import ZoneInfo

import time_machine
from receivers import HttpReceiver, SmtpReceiver, refused_url
from sqlalchemy import select, update

from ledger.core.models import Delivery, JobRun, User
from ledger.instance.bootstrap import bootstrap
from ledger.notify import delivery, reminders
from ledger.notify.delivery import deliver_now
from schedules import jobs

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=SH)
DEADLINE = 2
WORKERS = 4


def fast_app(sanhu):
    """The same database with a 2-second send deadline and 4 workers per channel."""
    return bootstrap(sanhu.settings.with_(delivery_deadline_seconds=DEADLINE,
                                          delivery_workers=WORKERS))


def configure(app, **settings) -> None:
    with app.uow() as uow:
        reminders.set_notify_settings(uow, **{"webhook_allow_internal": True, **settings})


def queue(app, world, channel: str, n: int) -> None:
    """``n`` due deliveries on ``channel``, to the village secretaries (who have addresses)."""
    users = [a.id for name, a in world.actors.items() if name.startswith("sec_")]
    utc = T0.astimezone(dt.UTC)
    with app.uow() as uow:
        uow.session.execute(update(User).where(User.id.in_(users))
                            .values(email=User.username + "@village.example"))
        uow.commit()
    with time_machine.travel(T0, tick=False):
        for i in range(n):
            with app.uow() as uow:
                note = reminders.insert_notification(uow, user_id=users[i % len(users)],
                                                     kind="notice", title=f"{channel} {i}",
                                                     body="…")
                uow.session.add(Delivery(notification_id=note, channel=channel,
                                         status="queued", attempts=0, created_at=utc,
                                         next_attempt_at=utc))
                uow.commit()


def rows(app, channel: str) -> list[Delivery]:
    with app.uow() as uow:
        return list(uow.session.scalars(select(Delivery).where(Delivery.channel == channel)
                                        .order_by(Delivery.id)))


def timed_pass(app):
    started = time.monotonic()
    result = deliver_now(app.uow, T0)
    return result, time.monotonic() - started


def assert_failed_with_retry(app, channel: str, words: str) -> None:
    for row in rows(app, channel):
        assert row.status == "failed" and row.attempts == 1, row.last_error
        assert words in row.last_error
        assert row.next_attempt_at is not None  # retried later with backoff


def test_a_dripping_webhook_is_cut_at_the_deadline_while_e_mail_goes_out(sanhu, world):
    app = fast_app(sanhu)
    with SmtpReceiver() as smtp, HttpReceiver(mode="drip", drip_every=1.0) as hook:
        configure(app, smtp_host="127.0.0.1", smtp_port=smtp.port, email_enabled=True,
                  webhook_url=hook.url, webhook_enabled=True)
        queue(app, world, "email", 3)
        queue(app, world, "webhook", 3)
        result, seconds = timed_pass(app)
        assert len(smtp.messages) == 3
    assert (result.sent, result.failed) == (3, 3)
    assert seconds < DEADLINE + 2.5, seconds  # one round: 3 webhooks ≤ 4 workers
    assert {r.status for r in rows(app, "email")} == {"sent"}
    assert_failed_with_retry(app, "webhook", f"no complete answer within {DEADLINE} s")
    app.dispose()


def test_fourteen_hanging_webhooks_take_deadline_times_fourteen_over_the_pool(sanhu, world):
    app = fast_app(sanhu)
    with SmtpReceiver() as smtp, HttpReceiver(mode="hang") as hook:
        configure(app, smtp_host="127.0.0.1", smtp_port=smtp.port, email_enabled=True,
                  webhook_url=hook.url, webhook_enabled=True)
        queue(app, world, "webhook", 14)
        queue(app, world, "email", 2)
        result, seconds = timed_pass(app)
        assert len(smtp.messages) == 2
        assert hook.attempts == 14  # every one was tried in this pass
    expected = DEADLINE * math.ceil(14 / WORKERS)  # 4 rounds of 2 s
    assert expected - 0.5 <= seconds <= expected + 3, seconds
    assert (result.sent, result.failed) == (2, 14)
    assert_failed_with_retry(app, "webhook", "TimeoutError")
    app.dispose()


def test_a_refused_connection_fails_at_once_and_is_retried(sanhu, world):
    app = fast_app(sanhu)
    configure(app, webhook_url=refused_url(), webhook_enabled=True)
    queue(app, world, "webhook", 3)
    result, seconds = timed_pass(app)
    assert result.failed == 3 and seconds < DEADLINE
    assert_failed_with_retry(app, "webhook", "Connection refused")
    app.dispose()


def test_the_admin_test_button_gives_up_on_a_hanging_webhook_at_the_deadline(sanhu, world):
    app = fast_app(sanhu)
    with HttpReceiver(mode="hang") as hook:
        configure(app, webhook_url=hook.url)
        started = time.monotonic()
        with app.uow() as uow:
            outcome = delivery.send_test_message(uow, "webhook")
        assert time.monotonic() - started < DEADLINE + 1.5
    assert not outcome.ok and "TimeoutError" in outcome.error
    app.dispose()


def test_the_lease_is_twice_the_deadline(sanhu, world):
    app = fast_app(sanhu)
    with HttpReceiver() as hook:
        configure(app, webhook_url=hook.url, webhook_enabled=True)
        queue(app, world, "webhook", 1)
        [row] = rows(app, "webhook")
        with app.uow() as uow:  # claimed ... and the worker is killed (kill -9)
            assert delivery.claim(uow, row.id, T0, lease=delivery.lease_for(DEADLINE))
        lease = dt.timedelta(seconds=2 * DEADLINE)
        assert deliver_now(app.uow, T0 + lease - dt.timedelta(seconds=1)).sent == 0
        assert deliver_now(app.uow, T0 + lease).sent == 1
    app.dispose()


def test_after_a_killed_pass_the_deliver_job_runs_again_within_minutes(sanhu, world):
    """A ``kill -9`` leaves the job's run ``running``; the next pass must not wait 15 minutes."""
    app = fast_app(sanhu)
    with HttpReceiver() as hook:
        configure(app, webhook_url=hook.url, webhook_enabled=True)
        queue(app, world, "webhook", 1)
        with app.uow() as uow:
            uow.session.add(JobRun(job_id="deliver", run_key="latest", outcome="running",
                                   started_at=T0.astimezone(dt.UTC), attempts=1))
            uow.commit()
        bound = jobs.deliver_stale(app.settings)
        assert bound <= dt.timedelta(minutes=5)
        with time_machine.travel(T0 + bound + dt.timedelta(seconds=1), tick=False):
            assert jobs.deliver(app) == "ok"
        assert len(hook.bodies) == 1
    app.dispose()


def test_a_pass_renews_the_lease_of_the_sends_it_waits_for(sanhu, world):
    app = fast_app(sanhu)
    seen = []
    with HttpReceiver(mode="hang") as hook:
        configure(app, webhook_url=hook.url, webhook_enabled=True)
        queue(app, world, "webhook", 1)
        passing = threading.Thread(target=deliver_now, args=(app.uow, T0))
        passing.start()
        time.sleep(DEADLINE * 0.85)  # the lease (4 s) is renewed every second
        [row] = rows(app, "webhook")
        seen.append((row.status, row.next_attempt_at))
        passing.join(10)
    status, lease_end = seen[0]
    claimed = T0.astimezone(dt.UTC).replace(tzinfo=None)
    assert status == "sending"
    assert lease_end.replace(tzinfo=None) >= claimed + dt.timedelta(seconds=2 * DEADLINE + 1)
    [row] = rows(app, "webhook")
    assert row.status == "failed"
    app.dispose()
