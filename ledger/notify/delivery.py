"""Sending notifications by e-mail and webhook, with retries and no doubles (SPEC §10).

``deliver_due`` claims each due delivery with a conditional ``UPDATE``
(queued/failed/expired-sending and due → ``sending``); only the worker whose
update changed the row sends it, so two workers never send the same delivery.
The claim sets ``next_attempt_at`` to a short lease (twice the send deadline),
renewed while the pass runs: a worker that crashes while sending leaves a
``sending`` row that another worker takes over once the lease has expired (a
crash after the receiver accepted but before the result was written can
therefore repeat that one message: at least once, never lost).  Failures are
retried with exponential backoff up to ``MAX_ATTEMPTS``, then stay ``failed``
with their error for the admin to see.

One slow receiver must not hold up the others (issue 8): every send runs in
its own thread under a total deadline (``SANHU_DELIVERY_DEADLINE_SECONDS``,
connecting, sending and reading the answer all included); at the deadline its
sockets are shut down, so a receiver that drips one byte a second cannot keep
it, and the delivery is failed with a retry.  Each channel sends in parallel
with a small pool (``SANHU_DELIVERY_WORKERS``), so a hanging webhook never
delays e-mail, and a pass stops claiming after ``PASS_CLAIMS_FOR`` (the rest
waits for the next minute's pass), which bounds how long a pass can take.

The in-app inbox needs no sending: its delivery is ``sent`` when queued and
``read`` when the user reads it (``ledger.notify.reminders.mark_read``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import smtplib
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from email.message import EmailMessage

from sqlalchemy import select, update

from ledger.calendar.dates import chinese_date
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
#: defaults of ``SANHU_DELIVERY_DEADLINE_SECONDS`` and ``SANHU_DELIVERY_WORKERS``
DEADLINE_SECONDS = 20
WORKERS = 4
#: a pass claims no more deliveries after this many seconds (the job runs every minute)
PASS_CLAIMS_FOR = 60
RETRYABLE = ("queued", "failed", "sending")


def lease_for(deadline: float) -> dt.timedelta:
    """How long a claim holds a delivery: twice the send deadline (renewed during a pass)."""
    return dt.timedelta(seconds=2 * deadline)


#: the lease with the default deadline
LEASE = lease_for(DEADLINE_SECONDS)


def pass_bound(deadline: float) -> dt.timedelta:
    """The longest a pass can run: claims stop after ``PASS_CLAIMS_FOR``, sends end by the
    deadline, and a few seconds for writing the outcomes."""
    return dt.timedelta(seconds=PASS_CLAIMS_FOR + deadline + 5)


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
    """What one pass of the worker did (``deferred``: left for the next pass)."""

    sent: int = 0
    failed: int = 0
    lost_race: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4 … minutes, at most an hour."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def _utc(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC)


# --- the send deadline ------------------------------------------------------------


class _Deadline:
    """One send's time budget, and the connections to cut when it runs out."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self._sockets: list[Callable[[], socket.socket | None]] = []
        self._lock = threading.Lock()
        self._cut = False

    def error(self) -> TimeoutError:
        return TimeoutError(f"no complete answer within {self.seconds:g} s (the receiver is "
                            "too slow or does not answer); retried later")

    def remaining(self) -> float:
        """Seconds left, as a socket timeout; raises once the deadline has passed."""
        left = self.end - time.monotonic()
        if left <= 0 or self._cut:
            raise self.error()
        return left

    def watch(self, current_socket: Callable[[], socket.socket | None]) -> None:
        """Cut this connection at the deadline (a callable: TLS replaces the socket)."""
        with self._lock:
            self._sockets.append(current_socket)

    def cut(self) -> None:
        """Shut the watched sockets down: a read blocked in the send's thread returns."""
        with self._lock:
            self._cut = True
            for current in self._sockets:
                sock = current()
                if sock is not None:
                    with contextlib.suppress(OSError):  # already closed
                        sock.shutdown(socket.SHUT_RDWR)


_local = threading.local()


def _deadline() -> _Deadline:
    """The deadline of the send running in this thread (a default one outside ``bounded``)."""
    return getattr(_local, "deadline", None) or _Deadline(DEADLINE_SECONDS)


def bounded(send: Callable[[], None], seconds: float) -> None:
    """Run ``send`` in its own thread; raise ``TimeoutError`` when it is not done in time.

    A socket timeout alone bounds each read, not the whole answer; here the
    deadline covers everything, and at the deadline the send's sockets are
    shut down so its thread ends too instead of lingering.
    """
    deadline = _Deadline(seconds)
    outcome: list[BaseException | None] = []

    def run() -> None:
        _local.deadline = deadline
        try:
            send()
        except BaseException as exc:  # handed to the caller below
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, name="sanhu-send", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        deadline.cut()
        thread.join(1)
        raise deadline.error()
    if outcome and outcome[0] is not None:
        raise outcome[0]


# --- claiming and recording -------------------------------------------------------


def _due(uow: UnitOfWork, now: dt.datetime, limit: int) -> list[tuple[int, str]]:
    return [tuple(row) for row in uow.session.execute(
        select(Delivery.id, Delivery.channel)
        .where(Delivery.next_attempt_at <= now, Delivery.status.in_(RETRYABLE))
        .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit))]


def claim(uow: UnitOfWork, delivery_id: int, now: dt.datetime, *,
          lease: dt.timedelta = LEASE) -> Outgoing | None:
    """Take one due delivery for sending until ``now + lease``; ``None`` when another worker
    has it.  Commits."""
    now = _utc(now)
    attempts = uow.session.scalar(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status.in_(RETRYABLE),
               Delivery.next_attempt_at <= now)
        .values(status="sending", attempts=Delivery.attempts + 1, next_attempt_at=now + lease)
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


def renew(uow: UnitOfWork, claims: list[Outgoing], until: dt.datetime) -> None:
    """Extend the lease of deliveries this pass is still sending; commits."""
    for out in claims:
        uow.session.execute(update(Delivery).where(
            Delivery.id == out.delivery_id, Delivery.status == "sending",
            Delivery.attempts == out.attempt).values(next_attempt_at=_utc(until)))
    uow.commit()


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


class _Pass:
    """One pass: the claims in flight, the tally, and the pass's own clock."""

    def __init__(self, uow_factory, now: dt.datetime, senders: dict[str, Sender],
                 deadline: float) -> None:
        self.uow_factory, self.now, self.senders = uow_factory, now, senders
        self.deadline, self.lease = deadline, lease_for(deadline)
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.in_flight: dict[int, Outgoing] = {}
        self.result = DeliverResult()

    def elapsed(self) -> dt.timedelta:
        return dt.timedelta(seconds=time.monotonic() - self.started)

    def send_one(self, delivery_id: int) -> None:
        """Claim, send under the deadline, record; in a pool thread of the channel."""
        if self.elapsed().total_seconds() > PASS_CLAIMS_FOR:
            with self.lock:
                self.result.deferred += 1
            return
        with self.uow_factory() as uow:
            # due as of the pass's start; held for a lease from the moment of the claim
            out = claim(uow, delivery_id, self.now, lease=self.lease + self.elapsed())
        if out is None:
            with self.lock:
                self.result.lost_race += 1
            return
        with self.lock:
            self.in_flight[out.delivery_id] = out
        error = None
        try:
            sender = self.senders.get(out.channel)
            if sender is None:
                raise RuntimeError(f"the {out.channel} channel is not configured")
            bounded(lambda: sender(out), self.deadline)
        except Exception as exc:  # any failure of the channel is recorded and retried
            error = f"{type(exc).__name__}: {exc}"
        with self.uow_factory() as uow:
            status = record_outcome(uow, out, self.now, error)
        with self.lock:
            del self.in_flight[out.delivery_id]
            if status == "sent":
                self.result.sent += 1
            else:
                self.result.failed += 1
                self.result.errors.append(error or "")

    def renew(self) -> None:
        with self.lock:
            claims = list(self.in_flight.values())
        if claims:
            with self.uow_factory() as uow:
                renew(uow, claims, _utc(self.now) + self.elapsed() + self.lease)


def deliver_due(uow_factory: Callable[[], UnitOfWork], now: dt.datetime,
                senders: dict[str, Sender], *, limit: int = 500,
                deadline: float = DEADLINE_SECONDS, workers: int = WORKERS) -> DeliverResult:
    """Send up to ``limit`` due deliveries, each claimed, sent and recorded on its own.

    Each channel sends with ``workers`` threads, each send bounded by
    ``deadline`` seconds; leases are renewed while the pass waits.
    ``senders`` maps a channel to a function that sends or raises; a channel
    without a sender counts as a failure (and is retried), so nothing queued is
    silently dropped when a channel is switched off.
    """
    run = _Pass(uow_factory, now, senders, deadline)
    with uow_factory() as uow:
        due = _due(uow, _utc(now), limit)
    pools: dict[str, ThreadPoolExecutor] = {}
    try:
        futures = set()
        for delivery_id, channel in due:
            if channel not in pools:
                pools[channel] = ThreadPoolExecutor(max(1, workers),
                                                    thread_name_prefix=f"sanhu-{channel}")
            futures.add(pools[channel].submit(run.send_one, delivery_id))
        pending = futures
        while pending:
            _, pending = wait(pending, timeout=run.lease.total_seconds() / 4)
            if pending:
                run.renew()
        for future in futures:
            future.result()  # a database error in a pool thread is raised here
    finally:
        for pool in pools.values():
            pool.shutdown(wait=True)
    return run.result


# --- channels -------------------------------------------------------------------


def email_message(settings: NotifySettings, to: str, title: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = title
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg.set_content(f"{body}\n\n—— 三互观摩问题整改台账(Sanhu)\n")
    return msg


def send_email(settings: NotifySettings, to: str, title: str, body: str) -> None:
    """Send one message over SMTP (plain, STARTTLS or SSL; login when a user is set).

    Every socket operation times out with what is left of the send's deadline,
    and the connection is cut when the deadline passes (``bounded``).
    """
    if not settings.smtp_host:
        raise RuntimeError("no SMTP host configured")
    if not to:
        raise RuntimeError("the recipient has no e-mail address")
    msg = email_message(settings, to, title, body)
    context = ssl.create_default_context()
    deadline = _deadline()
    if settings.smtp_tls == "ssl":
        client = smtplib.SMTP_SSL(timeout=deadline.remaining(), context=context)
    else:
        client = smtplib.SMTP(timeout=deadline.remaining())
    deadline.watch(lambda: client.sock)
    code, answer = client.connect(settings.smtp_host, settings.smtp_port)
    if code != 220:
        client.close()
        raise smtplib.SMTPConnectError(code, answer)
    with client:
        if settings.smtp_tls == "starttls":
            client.starttls(context=context)
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password)
        client.send_message(msg)


def webhook_payload(title: str, body: str) -> dict:
    """The text message a WeCom (企业微信) or DingTalk (钉钉) group robot accepts."""
    return {"msgtype": "text", "text": {"content": f"{title}\n{body}"}}


class _WatchedHTTP(http.client.HTTPConnection):
    """A connection the send's deadline can cut, with the deadline as its socket timeout."""

    def connect(self) -> None:
        deadline = _deadline()
        self.timeout = deadline.remaining()
        deadline.watch(lambda: self.sock)
        super().connect()


class _WatchedHTTPS(http.client.HTTPSConnection):
    def connect(self) -> None:
        deadline = _deadline()
        self.timeout = deadline.remaining()
        deadline.watch(lambda: self.sock)
        super().connect()


class _WatchedHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_WatchedHTTP, req)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_WatchedHTTPS, req, context=ssl.create_default_context())


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
    are not followed.  The answer is read in pieces, each bounded by what is
    left of the send's deadline (``bounded`` cuts the connection at the end).
    """
    if not settings.webhook_url:
        raise RuntimeError("no webhook URL configured")
    if refusal := _refusal(settings):
        raise RuntimeError(refusal)
    data = json.dumps(webhook_payload(title, body), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(settings.webhook_url, data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    deadline = _deadline()
    opener = urllib.request.build_opener(_NoRedirects, _WatchedHandler, _WatchedHTTPSHandler)
    try:
        response = opener.open(request, timeout=deadline.remaining())
    except urllib.error.HTTPError as exc:  # a non-2xx answer: close it here, the error travels
        exc.close()
        raise
    with response:
        answer = b""
        while len(answer) < 65536:
            deadline.remaining()
            piece = response.read1(65536 - len(answer))
            if not piece:
                break
            answer += piece
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
        deadline, workers = (uow.settings.delivery_deadline_seconds,
                             uow.settings.delivery_workers)
    return deliver_due(uow_factory, now, senders_for(settings), limit=limit,
                       deadline=deadline, workers=workers)


@dataclass(frozen=True)
class TestOutcome:
    ok: bool
    error: str | None = None


def send_test_message(uow: UnitOfWork, channel: str, to: str | int | None = None) -> TestOutcome:
    """The admin's "send test message" button: send one message now with the stored settings.

    ``email`` needs ``to`` (an address), ``webhook`` nothing, ``inbox`` a user id.
    Works whether or not the channel is enabled, so it can be tried before.
    Returns the outcome (the error text on failure) instead of raising; a send
    gives up at the delivery deadline, so the admin's page never hangs.
    """
    settings = notify_settings(uow)
    title = "三互台账测试消息 / Sanhu test message"
    local = uow.now().astimezone(uow.settings.zone)
    body = f"这是一条测试消息,发送于 {chinese_date(local.date())} {local:%H:%M}。"
    try:
        seconds = uow.settings.delivery_deadline_seconds
        if channel == "email":
            bounded(lambda: send_email(settings, str(to or ""), title, body), seconds)
        elif channel == "webhook":
            bounded(lambda: send_webhook(settings, title, body), seconds)
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
