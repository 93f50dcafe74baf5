"""The unit of work: the one owner of a database transaction.

Services receive a ``UnitOfWork`` and call ``commit()`` when their change is
complete; leaving the ``with`` block without committing rolls everything back.
Views, jobs, models and workflow callbacks never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ledger.core.errors import Conflict
from ledger.core.evidence import EvidenceStore
from ledger.core.settings import Settings


class Announcer(Protocol):
    """Where announcements go (``ledger.notify.reminders.Outbox``)."""

    def announce(self, uow: UnitOfWork, rows: list[dict],
                 held: list[int] | None) -> int: ...

    def digest(self, uow: UnitOfWork, ids: list[int]) -> int: ...


@dataclass(frozen=True)
class Context:
    """Facts a workflow guard may need besides the object and the actor."""

    today: dt.date
    now: dt.datetime
    follow_up_days: int = 365


class UnitOfWork:
    """A session and everything a service needs for one transaction."""

    def __init__(self, session_factory: sessionmaker, settings: Settings,
                 evidence: EvidenceStore, calendars: Callable[[Session], Any],
                 clock: Callable[[], dt.datetime] | None = None,
                 announcer: Announcer | None = None) -> None:
        self.session_factory = session_factory
        #: where "now" comes from; only backfills (the demo, imports of old sheets) pass one
        self.clock = clock
        self.settings = settings
        self.evidence = evidence
        #: the working-day calendar of a session's database (``ledger.calendar``'s
        #: ``calendar_for``, passed in by ``bootstrap``: the core does not know the calendar)
        self._calendars = calendars
        #: writes notifications and queues their deliveries in this transaction
        #: (``ledger.notify.reminders.OUTBOX``, passed in by ``bootstrap``: the
        #: ledger's services announce their events, the notifications sit above them)
        self._announcer = announcer
        #: set by a bulk act to a list: announcements reach the inbox at once and
        #: their ids are kept here for one digest per recipient afterwards
        self.held_announcements: list[int] | None = None
        self.session: Session
        #: > 0 inside ``one_transaction``: services' commits only flush
        self._shared = 0

    def __enter__(self) -> UnitOfWork:
        self.session = self.session_factory()
        return self

    def __exit__(self, *exc) -> None:
        # close() rolls back whatever was not committed; loaded objects stay readable
        self.session.close()

    def commit(self) -> None:
        """Commit; a concurrent change or duplicate key becomes ``Conflict``.

        Inside ``one_transaction`` this only flushes: the caller commits once.
        """
        self._write(self.session.flush if self._shared else self.session.commit)

    @contextmanager
    def one_transaction(self) -> Iterator[UnitOfWork]:
        """Let one use case call others in its own transaction.

        Confirming an observation records its findings through the ledger's
        services; each of them commits as usual, which here only flushes, so the
        confirmation and every finding are written together or not at all.
        """
        self._shared += 1
        try:
            yield self
        finally:
            self._shared -= 1

    @property
    def shared(self) -> bool:
        """Inside ``one_transaction``: a service's commit only flushes."""
        return self._shared > 0

    def flush(self) -> None:
        """Flush pending changes, mapping optimistic-lock failures to ``Conflict``."""
        self._write(self.session.flush)

    def _write(self, action: Callable[[], None]) -> None:
        try:
            action()
        except (StaleDataError, IntegrityError) as exc:
            self.session.rollback()
            raise Conflict("the item was changed by someone else; reload and try again") from exc

    def rollback(self) -> None:
        self.session.rollback()

    def announce(self, rows: list[dict]) -> int:
        """Write notification rows (with ``dedupe_key``) and queue their deliveries, in
        this transaction; how many were new."""
        if not rows:
            return 0
        return self._outbox().announce(self, rows, self.held_announcements)

    def announce_digest(self, ids: list[int]) -> int:
        """Send the e-mail and webhook copies of held announcements, one message per
        recipient and kind; commits.  How many messages were queued."""
        return self._outbox().digest(self, ids) if ids else 0

    def _outbox(self) -> Announcer:
        if self._announcer is None:
            raise RuntimeError("this unit of work cannot announce (no announcer wired)")
        return self._announcer

    # --- time and calendar --------------------------------------------------

    def now(self) -> dt.datetime:
        """The current instant in UTC (moved by time-machine in tests)."""
        return self.clock() if self.clock is not None else dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        """Today's date in the configured zone (Asia/Shanghai)."""
        return self.now().astimezone(self.settings.zone).date()

    def context(self) -> Context:
        return Context(today=self.today(), now=self.now(),
                       follow_up_days=self.settings.follow_up_days)

    @cached_property
    def calendar(self):
        """The working-day calendar (a ``ledger.calendar.workdays.WorkCalendar``)."""
        return self._calendars(self.session)
