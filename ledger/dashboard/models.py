"""The dashboard's summary tables, rebuilt as a whole by ``ledger.dashboard.summary``.

They use the one ``ledger.core.models.Base`` metadata; the Alembic environment and
the migration test import this module, as they do the survey's.
"""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.core.models import Base


class DashUnit(Base):
    """A unit's ledger (its whole subtree) as the last refresh counted it."""

    __tablename__ = "dash_units"
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    #: items per status as the ledger list names them (closed includes dismissed)
    found: Mapped[int] = mapped_column(Integer, default=0)
    assigned: Mapped[int] = mapped_column(Integer, default=0)
    rectifying: Mapped[int] = mapped_column(Integer, default=0)
    submitted: Mapped[int] = mapped_column(Integer, default=0)
    verified: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    #: not dismissed (the problems that count), closed as rectified, of those on time
    valid: Mapped[int] = mapped_column(Integer, default=0)
    rectified: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    #: open and past the deadline: how many, their days overdue summed, the most
    overdue: Mapped[int] = mapped_column(Integer, default=0)
    overdue_days: Mapped[int] = mapped_column(Integer, default=0)
    overdue_max: Mapped[int] = mapped_column(Integer, default=0)
    #: working days from assignment to 销号 of the rectified items: {days: count}
    close_days: Mapped[dict] = mapped_column(JSON, default=dict)
    #: the observations of the subtree: the latest cycles' coverage, the last published
    #: classes and the average score per cycle (see ``ledger.dashboard.summary``)
    observed: Mapped[dict] = mapped_column(JSON, default=dict)


class DashMonth(Base):
    """A unit's month (Asia/Shanghai): problems found, closed, closed on time, and how
    many of the month's problems are closed by now (cities, counties and townships)."""

    __tablename__ = "dash_months"
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    found: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    found_closed: Mapped[int] = mapped_column(Integer, default=0)


class DashStandard(Base):
    """How many problems (not dismissed) of a unit's subtree concern each standard."""

    __tablename__ = "dash_standards"
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    standard_id: Mapped[int] = mapped_column(ForeignKey("standards.id"), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
