"""The survey's tables: one ``surveys`` row per village and year, and its history.

They use the one ``ledger.core.models.Base`` metadata.  The core does not import
this module (it sits below the capabilities); the Alembic environment and the
migration test import it so that the models and migrations are compared whole.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.core.models import AncestorsMixin, Base, HistoryMixin, utcnow


class SurveyStatus(StrEnum):
    """Where a survey stands; only draft and returned ones can be edited."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    ARCHIVED = "archived"


class Survey(AncestorsMixin, Base):
    """《党支部基本状况及村级基本情况调查表》 of one village for one year.

    ``answers`` maps field keys (``ledger.survey.fields``) to values, written with
    the field schema version they follow.  The ancestor columns are the
    village's, so scope filters surveys like items.  ``status`` changes only
    through the survey workflow, version-checked.
    """

    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=SurveyStatus.DRAFT.value)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    schema_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict] = mapped_column(JSON)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("unit_id", "year"),
        Index("ix_surveys_year_township", "year", "township_id"),
        Index("ix_surveys_year_county", "year", "county_id"),
    )


class SurveyEvent(HistoryMixin, Base):
    """Append-only history of a survey: one row per event, written with the change.

    ``changes`` holds the answers the event set (a key mapped to None was
    cleared), so replaying the rows in ``seq`` order rebuilds the answers.
    """

    __tablename__ = "survey_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    changes: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("survey_id", "seq"),)
