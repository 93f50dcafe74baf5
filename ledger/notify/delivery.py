"""Sending notifications by e-mail and webhook, with retries and no doubles (SPEC §10).

``deliver_due`` claims one due delivery at a time with a conditional ``UPDATE``
(queued/failed/expired-sending and due → ``sending``); only the worker whose
update changed the row sends it, so two workers never send the same delivery.
The claim sets ``next_attempt_at`` to a lease: a worker that crashes while
sending leaves a ``sending`` row that another worker takes over once the lease
has expired (a crash after the receiver accepted but before the result was
written can therefore repeat that one message: at least once, never lost).
Failures are retried with exponential backoff up to ``MAX_ATTEMPTS``, then stay
``failed`` with their error for the admin to see.

The in-app inbox needs no sending: its delivery is ``sent`` when queued and
``read`` when the user reads it (``ledger.notify.reminders.mark_read``).
"""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import ssl
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy import select, update

from ledger.core.errors import ValidationError
from ledger.core.models import Delivery, Notification, User
from ledger.core.uow import UnitOfWork
from ledger.notify.reminders import NotifySettings, notify_settings
from ledger.notify.webhook_target import DATABASE_PORT, INTERNAL, target_problem

#: first retry after this long; doubled per attempt up to the cap
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=1)
#: after this many failed attempts a delivery stays failed
MAX_ATTEMPTS = 8
#: a claimed delivery still ``sending`` after this long is taken over (its worker crashed)
LEASE = dt.timedelta(minutes=10)
#: network timeout of one attempt, seconds
TIMEOUT = 15
RETRYABLE = ("queued", "failed", "sending")


@dataclass(frozen=True)
class Outgoing:
    """What a sender needs: the notification's text and the recipient's address."""

    delivery_id: int
    channel: str
    attempt: int
    title: str
    body: str
    to: str | None = None
    recipient: str = ""


Sender = Callable[[Outgoing], None]


@dataclass
class DeliverResult:
    """What one pass of the worker did."""

    sent: int = 0
    failed: int = 0
    lost_race: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4 … minutes, at most an hour."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def _utc(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC)


def _due_ids(uow: UnitOfWork, now: dt.datetime, limit: int) -> list[int]:
    return list(uow.session.scalars(
        select(Delivery.id)
        .where(Delivery.next_attempt_at <= now, Delivery.status.in_(RETRYABLE))
        .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)))


def claim(uow: UnitOfWork, delivery_id: int, now: dt.datetime) -> Outgoing | None:
    """Take one due delivery for sending; ``None`` when another worker has it. Commits."""
    now = _utc(now)
    attempts = uow.session.scalar(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status.in_(RETRYABLE),
               Delivery.next_attempt_at <= now)
        .values(status="sending", attempts=Delivery.attempts + 1, next_attempt_at=now + LEASE)
        .returning(Delivery.attempts))
    if attempts is None:
        uow.rollback()
        return None
    row = uow.session.execute(
        select(Delivery.channel, Notification.title, Notification.body, User.email,
               User.display_name)
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(User, User.id == Notification.user_id)
        .where(Delivery.id == delivery_id)).one()
    uow.commit()
    return Outgoing(delivery_id, row.channel, attempts, row.title, row.body, row.email,
                    row.display_name)


def record_outcome(uow: UnitOfWork, out: Outgoing, now: dt.datetime,
                   error: str | None) -> str:
    """Write ``sent``, or ``failed`` with the error and the next attempt; commits.

    Only the claim that sent it may write (same attempt, still ``sending``).
    """
    now = _utc(now)
    if error is None:
        # last_error stays: the failures before success remain visible
        values = {"status": "sent", "sent_at": now, "next_attempt_at": None}
    else:
        retry = out.attempt < MAX_ATTEMPTS
        values = {"status": "failed", "last_error": error[:2000],
                  "next_attempt_at": now + backoff(out.attempt) if retry else None}
    uow.session.execute(update(Delivery).where(
        Delivery.id == out.delivery_id, Delivery.status == "sending",
        Delivery.attempts == out.attempt).values(**values))
    uow.commit()
    return values["status"]


def deliver_due(uow_factory: Callable[[], UnitOfWork], now: dt.datetime,
                senders: dict[str, Sender], *, limit: int = 500) -> DeliverResult:
    """Send up to ``limit`` due deliveries, each claimed, sent and recorded on its own.

    ``senders`` maps a channel to a function that sends or raises; a channel
    without a sender counts as a failure (and is retried), so nothing queued is
    silently dropped when a channel is switched off.
    """
    result = DeliverResult()
    with uow_factory() as uow:
        ids = _due_ids(uow, _utc(now), limit)
    for delivery_id in ids:
        with uow_factory() as uow:
            out = claim(uow, delivery_id, now)
        if out is None:
            result.lost_race += 1
            continue
        error = None
        try:
            sender = senders.get(out.channel)
            if sender is None:
                raise RuntimeError(f"the {out.channel} channel is not configured")
            sender(out)
        except Exception as exc:  # any failure of the channel is recorded and retried
            error = f"{type(exc).__name__}: {exc}"
            result.errors.append(error)
        with uow_factory() as uow:
            status = record_outcome(uow, out, now, error)
        if status == "sent":
            result.sent += 1
        else:
            result.failed += 1
    return result


# --- channels -------------------------------------------------------------------


def email_message(settings: NotifySettings, to: str, title: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = title
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg.set_content(f"{body}\n\n—— 三互观摩问题整改台账(Sanhu)\n")
    return msg


def send_email(settings: NotifySettings, to: str, title: str, body: str) -> None:
    """Send one message over SMTP (plain, STARTTLS or SSL; login when a user is set)."""
    if not settings.smtp_host:
        raise RuntimeError("no SMTP host configured")
    if not to:
        raise RuntimeError("the recipient has no e-mail address")
    msg = email_message(settings, to, title, body)
    context = ssl.create_default_context()
    if settings.smtp_tls == "ssl":
        client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT,
                                  context=context)
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT)
    with client:
        if settings.smtp_tls == "starttls":
            client.starttls(context=context)
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password)
        client.send_message(msg)


def webhook_payload(title: str, body: str) -> dict:
    """The text message a WeCom (企业微信) or DingTalk (钉钉) group robot accepts."""
    return {"msgtype": "text", "text": {"content": f"{title}\n{body}"}}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A robot answers, it does not redirect: a 3xx is a failure, never followed (a
    redirect could lead past the target check to an internal address)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _refusal(settings: NotifySettings) -> str | None:
    """Why the webhook may not post to its URL now (the name is resolved again)."""
    problem = target_problem(settings.webhook_url,
                             allow_internal=settings.webhook_allow_internal,
                             database_port=settings.database_port)
    if problem == INTERNAL:
        return ("refused: the webhook URL points at an internal address (loopback, "
                "link-local, unspecified or multicast); allow internal targets to use it")
    if problem == DATABASE_PORT:
        return "refused: the webhook URL uses the database's port"
    return f"refused: {problem}" if problem else None


def send_webhook(settings: NotifySettings, title: str, body: str) -> None:
    """POST the JSON message; a non-2xx answer or a robot ``errcode`` ≠ 0 is a failure.

    The target is checked first (``ledger.notify.webhook_target``); redirects
    are not followed.
    """
    if not settings.webhook_url:
        raise RuntimeError("no webhook URL configured")
    if refusal := _refusal(settings):
        raise RuntimeError(refusal)
    data = json.dumps(webhook_payload(title, body), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(settings.webhook_url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    opener = urllib.request.build_opener(_NoRedirects)
    with opener.open(request, timeout=TIMEOUT) as response:
        answer = response.read(65536)
    try:
        parsed = json.loads(answer or b"{}")
    except ValueError:
        return  # not JSON: a plain receiver that answered 2xx
    if isinstance(parsed, dict) and parsed.get("errcode", 0) not in (0, "0"):
        raise RuntimeError(f"robot answered errcode {parsed.get('errcode')}: "
                           f"{parsed.get('errmsg', '')}")


def senders_for(settings: NotifySettings) -> dict[str, Sender]:
    """The senders of the enabled channels."""
    senders: dict[str, Sender] = {}
    if settings.email_enabled:
        senders["email"] = lambda out: send_email(settings, out.to or "", out.title, out.body)
    if settings.webhook_enabled:
        senders["webhook"] = lambda out: send_webhook(settings, out.title, out.body)
    return senders


def deliver_now(uow_factory: Callable[[], UnitOfWork], now: dt.datetime | None = None,
                *, limit: int = 500) -> DeliverResult:
    """One pass of the worker with the channels as configured (what the job runs)."""
    with uow_factory() as uow:
        settings = notify_settings(uow)
        now = now or uow.now()
    return deliver_due(uow_factory, now, senders_for(settings), limit=limit)


@dataclass(frozen=True)
class TestOutcome:
    ok: bool
    error: str | None = None


def send_test_message(uow: UnitOfWork, channel: str, to: str | int | None = None) -> TestOutcome:
    """The admin's "send test message" button: send one message now with the stored settings.

    ``email`` needs ``to`` (an address), ``webhook`` nothing, ``inbox`` a user id.
    Works whether or not the channel is enabled, so it can be tried before.
    Returns the outcome (the error text on failure) instead of raising.
    """
    settings = notify_settings(uow)
    title = "三互台账测试消息 / Sanhu test message"
    body = f"这是一条测试消息,发送于 {uow.now().astimezone(uow.settings.zone):%Y-%m-%d %H:%M}。"
    try:
        if channel == "email":
            send_email(settings, str(to or ""), title, body)
        elif channel == "webhook":
            send_webhook(settings, title, body)
        elif channel == "inbox":
            from ledger.notify.reminders import insert_notification

            insert_notification(uow, user_id=int(to), kind="test", title=title, body=body)
        else:
            raise ValidationError(f"unknown channel {channel!r}", fields={"channel": "unknown"})
    except ValidationError:
        raise
    except Exception as exc:  # shown to the admin as is
        return TestOutcome(False, f"{type(exc).__name__}: {exc}")
    return TestOutcome(True)


# --- read-only helpers for the admin's deliveries page ------------------------------------

STATUSES = ("queued", "sending", "sent", "failed", "read")


@dataclass
class DeliveryPage:
    """Recent deliveries, newest first; ``has_next`` instead of a count (the table is large)."""

    rows: list[dict]
    page: int
    has_next: bool


def list_deliveries(uow: UnitOfWork, *, scope=None, status: str | None = None,
                    channel: str | None = None, page: int = 1,
                    per_page: int = 50) -> DeliveryPage:
    """Deliveries with their recipient and notification, filtered by status and channel.

    ``scope`` (an ``Actor``) keeps only those to users in the actor's unit subtree.
    """
    from ledger.core.models import Unit

    per_page = max(1, min(per_page, 200))
    page = max(1, page)
    q = (select(Delivery.id, Delivery.channel, Delivery.status, Delivery.attempts,
                Delivery.next_attempt_at, Delivery.last_error, Delivery.created_at,
                Delivery.sent_at, Notification.kind, Notification.title,
                Notification.item_id, User.username, User.display_name)
         .join(Notification, Notification.id == Delivery.notification_id)
         .join(User, User.id == Notification.user_id)
         .order_by(Delivery.id.desc())
         .limit(per_page + 1).offset((page - 1) * per_page))
    if scope is not None:
        q = q.join(Unit, Unit.id == User.unit_id).where(scope.scope_clause(Unit))
    if status:
        q = q.where(Delivery.status == status)
    if channel:
        q = q.where(Delivery.channel == channel)
    rows = [dict(row._mapping) for row in uow.session.execute(q)]
    return DeliveryPage(rows[:per_page], page, len(rows) > per_page)
