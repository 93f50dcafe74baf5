"""Wire the ledger together from settings: engine, sessions, evidence store."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from ledger.calendar.workdays import calendar_for
from ledger.core.db import make_engine, make_session_factory
from ledger.core.evidence import EvidenceStore
from ledger.core.settings import Settings
from ledger.core.uow import UnitOfWork
from ledger.notify.reminders import OUTBOX


@dataclass
class Sanhu:
    """The running ledger: build once per process, open a unit of work per use case."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker
    evidence: EvidenceStore = field(repr=False)

    def uow(self, clock=None) -> UnitOfWork:
        """A new unit of work; ``clock`` only for backfilling history (see UnitOfWork)."""
        return UnitOfWork(self.session_factory, self.settings, self.evidence, calendar_for,
                          clock, OUTBOX)

    def dispose(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings | None = None) -> Sanhu:
    """Build the ledger's parts for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    engine = make_engine(settings)
    return Sanhu(settings, engine, make_session_factory(engine),
                 EvidenceStore(settings.evidence_dir, settings.evidence_max_bytes))
