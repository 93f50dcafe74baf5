"""Tables of the ledger, in SQLAlchemy 2.0 declarative style.

Scope is the organisation subtree.  Units and items carry the ids of their
ancestors at each level (``county_id``, ``township_id``, ...), so "everything
under this unit" is one indexed equality, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Level(StrEnum):
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


LEVEL_ORDER = [Level.CITY, Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE]
ANCESTOR_COLUMNS = {lvl: f"{lvl.value}_id" for lvl in LEVEL_ORDER}


class Role(StrEnum):
    CITY_STAFF = "city_staff"
    COUNTY_STAFF = "county_staff"
    TOWNSHIP_STAFF = "township_staff"
    VILLAGE_SECRETARY = "village_secretary"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class AncestorsMixin:
    """Ids of the unit's ancestors (and itself) at each level of the tree."""

    city_id: Mapped[int | None] = mapped_column(Integer)
    county_id: Mapped[int | None] = mapped_column(Integer)
    township_id: Mapped[int | None] = mapped_column(Integer)
    village_id: Mapped[int | None] = mapped_column(Integer)

    def copy_ancestors(self, other: AncestorsMixin) -> None:
        for col in ANCESTOR_COLUMNS.values():
            setattr(self, col, getattr(other, col))


class Unit(AncestorsMixin, Base):
    """An organisation unit: city, county (县/市/区), township (乡镇/街道), village (村/社区)."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    parent: Mapped[Unit | None] = relationship(remote_side="Unit.id")

    __table_args__ = (
        Index("ix_units_county_level", "county_id", "level"),
        Index("ix_units_township_level", "township_id", "level"),
    )


class User(Base):
    """A person who signs in; their unit's subtree is their scope."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    #: bumped on password change so that other sessions sign out
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(32))
    post: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    unit: Mapped[Unit] = relationship()


class CatalogVersion(Base):
    """One frozen version of the standards catalog."""

    __tablename__ = "catalog_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Standard(Base):
    """One basic (基本标准) or demonstration (示范标准) standard, verbatim."""

    __tablename__ = "standards"
    id: Mapped[int] = mapped_column(primary_key=True)
    catalog_version_id: Mapped[int] = mapped_column(ForeignKey("catalog_versions.id"))
    set: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column(Integer)
    category_number: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("catalog_version_id", "set", "number"),)


class CycleKind(StrEnum):
    VILLAGE_QUARTERLY = "village_quarterly"
    TOWNSHIP_HALF_YEARLY = "township_half_yearly"


class Cycle(Base):
    """An observation round: every target unit gets one observation."""

    __tablename__ = "cycles"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(8))
    catalog_version_id: Mapped[int] = mapped_column(ForeignKey("catalog_versions.id"))
    theme: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: the checklist's share of the 100-point score (the evaluation gets the rest)
    checklist_weight: Mapped[int] = mapped_column(Integer, default=70, server_default=text("70"))
    #: whether 基本符合 lines also become ledger items on confirmation
    findings_include_partial: Mapped[bool] = mapped_column(Boolean, default=False,
                                                           server_default=text("false"))
    #: assign findings at once to the unit's secretary, due in this many working days
    finding_deadline_workdays: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("kind", "period"),)


class HistoryMixin:
    """The columns of an append-only history row (items and observations alike).

    ``seq`` equals the object's version after the event and is unique per object.
    """

    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


class ObservationStatus(StrEnum):
    """The four states of an observation; a confirmed record is locked."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"


class Observation(AncestorsMixin, Base):
    """One observation (观摩) of one target unit in one cycle.

    The ancestor columns are the target unit's, so scope and coverage filter
    observations exactly like items.  ``status`` changes only through the
    observation workflow (``ledger.observations.workflow``), version-checked.
    """

    __tablename__ = "observations"
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    observing_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ObservationStatus.PLANNED.value)
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("1"))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: 重点 (all lines), 选择性 (chosen categories), 鞭策性 (last time's failures first)
    mode: Mapped[str] = mapped_column(String(16), default="focused",
                                      server_default=text("'focused'"))
    #: the chosen categories of a selective observation ("basic:3", ...)
    categories: Mapped[list | None] = mapped_column(JSON)
    #: a demonstration candidate: the 23 demonstration lines are added
    demonstration: Mapped[bool] = mapped_column(Boolean, default=False,
                                                server_default=text("false"))
    theme: Mapped[str | None] = mapped_column(String(200))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("observation_groups.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("observation_batches.id"))
    #: the score, frozen at confirmation, and how it was made up
    score: Mapped[float | None] = mapped_column(Float)
    score_breakdown: Mapped[dict | None] = mapped_column(JSON)
    #: set when the period ended before the record was confirmed
    late_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    #: not stored: what the submit guard counts (set by ``sheet.completeness``)
    open_lines = None
    evaluations = None

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("cycle_id", "unit_id"),
        Index("ix_observations_cycle_county", "cycle_id", "county_id"),
        Index("ix_observations_cycle_township", "cycle_id", "township_id"),
    )


class ObservationEvent(HistoryMixin, Base):
    """Append-only history of an observation: one row per event, written with the change."""

    __tablename__ = "observation_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"))

    __table_args__ = (UniqueConstraint("observation_id", "seq"),)


class ObservationPlan(Base):
    """细化观摩方案: an observing unit's plan for one cycle."""

    __tablename__ = "observation_plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"))
    observing_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    goals: Mapped[str | None] = mapped_column(Text)
    methods: Mapped[str | None] = mapped_column(Text)
    steps: Mapped[str | None] = mapped_column(Text)
    rectification: Mapped[str | None] = mapped_column(Text)
    guidance: Mapped[str | None] = mapped_column(Text)
    use_of_results: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("cycle_id", "observing_unit_id"),)


class ObservationGroup(Base):
    """A group of observers (分组): users of the unit, the liaison, outside people by name."""

    __tablename__ = "observation_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"))
    observing_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    name: Mapped[str] = mapped_column(String(100))
    #: outside participants, one name per line
    outside: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("cycle_id", "observing_unit_id", "name"),)


class ObservationGroupMember(Base):
    __tablename__ = "observation_group_members"
    group_id: Mapped[int] = mapped_column(ForeignKey("observation_groups.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class ObservationBatch(Base):
    """A batch (批次): the day a set of targets is visited."""

    __tablename__ = "observation_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"))
    observing_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    name: Mapped[str] = mapped_column(String(100))
    day: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("cycle_id", "observing_unit_id", "name"),)


class Liaison(Base):
    """分包联系: a county staff member assigned to a township joins its observations."""

    __tablename__ = "liaisons"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True,
                                             index=True)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ObservationLine(Base):
    """One checklist line: a standard of the cycle's catalog and what was found.

    Saved on its own and version-checked per line, so two observers can fill
    different lines at once and a stale write to the same line is refused.
    """

    __tablename__ = "observation_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"))
    standard_id: Mapped[int] = mapped_column(ForeignKey("standards.id"))
    #: None while open; conform (符合), partial (基本符合), fail (不符合), na (不适用)
    result: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    #: points taken off; None means the standard's default for the result
    deduction: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("observation_id", "standard_id"),)


class ObservationSection(Base):
    """A free-text part of the record: 听/查/看/谈 notes, 亮点, 经验总结."""

    __tablename__ = "observation_sections"
    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"))
    name: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text, default="")
    #: for 亮点 and 经验总结: the standards' category it is about ("basic:3"), to browse by
    category: Mapped[str | None] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("observation_id", "name"),)


class ObservationParticipant(Base):
    """Who took part, and their evaluation (评): a score out of 100 and a comment."""

    __tablename__ = "observation_participants"
    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    affiliation: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class ObservationFile(Base):
    """A photo or document of a record (by section or checklist line) or of a plan."""

    __tablename__ = "observation_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[int | None] = mapped_column(ForeignKey("observations.id"),
                                                       index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("observation_plans.id"), index=True)
    section: Mapped[str | None] = mapped_column(String(16))
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("standards.id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    original_name: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class State(StrEnum):
    """The five states of a ledger item."""

    FOUND = "found"
    ASSIGNED = "assigned"
    RECTIFYING = "rectifying"
    VERIFIED = "verified"
    CLOSED = "closed"


#: states in which a passed deadline makes an item overdue (unless submitted)
ACTIVE_STATES = (State.ASSIGNED.value, State.RECTIFYING.value)


class Item(AncestorsMixin, Base):
    """One problem, one ledger entry (台账条目); its state changes only via the workflow."""

    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id"))
    observation_id: Mapped[int | None] = mapped_column(ForeignKey("observations.id"))
    standard_id: Mapped[int | None] = mapped_column(ForeignKey("standards.id"))
    category_number: Mapped[int | None] = mapped_column(Integer)  # of the standard
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    responsible_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    responsible_person: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    measures: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16), default="normal")
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default=State.FOUND.value)
    #: the 整改中·待验收 sub-step of ``rectifying``
    submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rejection_count: Mapped[int] = mapped_column(Integer, default=0)
    verifier_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(String(16))
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    #: a pending extension request: {"deadline": iso date, "reason": str, "by": user id}
    pending_extension: Mapped[dict | None] = mapped_column(JSON)
    supervision: Mapped[dict | None] = mapped_column(JSON)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    #: number, problem, measures and responsible person as search tokens (ledger.items.search);
    #: indexed by FTS5 (SQLite) or GIN (PostgreSQL), see migration 0008
    search_terms: Mapped[str | None] = mapped_column(Text)

    __mapper_args__ = {"version_id_col": version}

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])

    @property
    def status(self) -> str:
        """State as people see it: ``rectifying`` splits into its submitted sub-step."""
        return status_of(self.state, self.submitted)


def status_of(state: str, submitted: bool) -> str:
    return "submitted" if state == State.RECTIFYING.value and submitted else state


def open_items_sql(dialect: str, prefix: str = "items.") -> str:
    """The overdue-able part of the ledger (assigned or rectifying, not submitted).

    The partial indexes ``ix_items_open_*`` are built on exactly this text, and
    queries filter with it verbatim, because SQLite only uses a partial index
    when the query repeats its WHERE terms.
    """
    false = "false" if dialect == "postgresql" else "0"
    return f"{prefix}state IN ('assigned', 'rectifying') AND {prefix}submitted = {false}"


_OPEN_PG, _OPEN_SQLITE = open_items_sql("postgresql", ""), open_items_sql("sqlite", "")
for _lvl in ("county", "township", "village"):
    Index(
        f"ix_items_open_{_lvl}_deadline",
        Item.__table__.c[f"{_lvl}_id"],
        Item.__table__.c.deadline,
        sqlite_where=text(_OPEN_SQLITE),
        postgresql_where=text(_OPEN_PG),
    )
Index(
    "ix_items_open_deadline",
    Item.__table__.c.deadline,
    sqlite_where=text(_OPEN_SQLITE),
    postgresql_where=text(_OPEN_PG),
)
# the city-wide overdue board (see bench/README.md: without it PostgreSQL scans)
Index(
    "ix_items_open_city_deadline",
    Item.__table__.c.city_id,
    Item.__table__.c.deadline,
    Item.__table__.c.id,
    sqlite_where=text(_OPEN_SQLITE),
    postgresql_where=text(_OPEN_PG),
)
# sorting any list by deadline
Index("ix_items_deadline_id", Item.__table__.c.deadline, Item.__table__.c.id)
# pulling changes since a time (the API's ``updated_since``), oldest change first
Index("ix_items_updated_id", Item.__table__.c.updated_at, Item.__table__.c.id)
# status filters and per-status counts in every scope; ending with id, a status's items
# come in id order (the API's cursor pages), which PostgreSQL otherwise finds by walking
# the primary key (SQLite's indexes end with the rowid anyway)
for _lvl in ("city", "county", "township", "village"):
    Index(f"ix_items_{_lvl}_status", Item.__table__.c[f"{_lvl}_id"], Item.__table__.c.state,
          Item.__table__.c.submitted, Item.__table__.c.id)
Index("ix_items_cycle", Item.__table__.c.cycle_id)
Index("ix_items_standard", Item.__table__.c.standard_id)
# "my items"; no state column, so that state changes do not rewrite it
Index("ix_items_responsible_user", Item.__table__.c.responsible_user_id)


class ItemEvent(HistoryMixin, Base):
    """Append-only history of an item: one row per event, written with the change."""

    __tablename__ = "item_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    changes: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("item_id", "seq"),)


class Evidence(Base):
    """One uploaded file attached to an item; the bytes live in the evidence store."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("item_events.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    original_name: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NumberSequence(Base):
    """Per-prefix counters for item numbers such as ``2026Q4-<unit code>-003``."""

    __tablename__ = "number_sequences"
    prefix: Mapped[str] = mapped_column(String(64), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class LedgerImport(Base):
    """One confirmed import of a ledger sheet: its progress while it runs, then its outcome.

    ``state`` is checking, importing, done, refused (the second check found
    problems: nothing written) or failed (stopped part-way: the batches written
    stay, and importing the file again writes the rest).
    """

    __tablename__ = "ledger_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    #: rows to write, and written so far (committed with each batch)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    #: created (the first items: id, number), extra_columns, problems (when refused)
    outcome: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ImportedRowKey(Base):
    """A sheet row without a 问题编号, by its content, and the item it became.

    The key is the SHA-256 of the row's content and its occurrence among equal
    rows of the file, so importing the same sheet again finds these rows too.
    """

    __tablename__ = "ledger_import_keys"
    county_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)


class CalendarDay(Base):
    """Every day of the covered range, official or Monday–Friday fallback.

    ``workday_seq`` counts working days from the start of the table, so the
    working days between two dates is a subtraction, also inside SQL.
    """

    __tablename__ = "calendar_days"
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    official: Mapped[bool] = mapped_column(Boolean)
    workday_seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(64))


class CalendarYear(Base):
    """A year whose official holiday and make-up workday schedule is loaded."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginThrottle(Base):
    """Failed sign-ins per key (``user:<name>`` or ``ip:<address>``), shared by all workers.

    Kept in the database so that several web processes count the same failures;
    see ``ledger.org.throttle``.
    """

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True),
                                                           default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# --- schedules, reminders and deliveries (SPEC §9, §10) ---------------------


class JobRun(Base):
    """One run of a scheduled job for one period or day: the jobs' idempotence key.

    ``run_key`` names what the run was for (``2026Q4``, ``2026H2``, a date, or
    ``latest`` for jobs without a period such as the delivery worker).  A job
    whose key already ran ``ok`` is skipped; the admin page reads the last run
    and its outcome from here.
    """

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64))
    run_key: Mapped[str] = mapped_column(String(64))
    #: running, ok, failed, skipped, missed or died (its process went away mid-run)
    outcome: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    detail: Mapped[str | None] = mapped_column(Text)
    #: who runs it: ``<lock token>|<host>:<pid>`` for the leader, ``run:<id>|…`` otherwise
    owner: Mapped[str | None] = mapped_column(String(128))
    #: refreshed while the run is in progress; a lapsed one means its process is gone
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("job_id", "run_key"),
        Index("ix_job_runs_job_started", "job_id", "started_at"),
    )


class Notification(Base):
    """One message to one user (the in-app inbox); other channels deliver copies of it.

    ``dedupe_key`` makes every reminder happen once per item, deadline, offset
    and recipient (a new deadline after an extension gets its own reminders).
    """

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: reminder, overdue, board, digest, report, test, urge, …; a hand-over of an item:
    #: ``ledger.items.announce.ANNOUNCEMENTS``
    kind: Mapped[str] = mapped_column(String(16))
    #: why this user gets it: responsible, township, county, supervisor, report, digest,
    #: requester
    audience: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    #: the unfinished observation an ``observation`` reminder is about
    observation_id: Mapped[int | None] = mapped_column(ForeignKey("observations.id"))
    #: what else the notification is about, as ``kind:id`` (``report:12``, ``ranking:3``,
    #: ``cycle:5:17`` for a cycle's ranking of a unit); the inbox links to it
    subject: Mapped[str | None] = mapped_column(String(40))
    #: the notice (通报排名) a ``notice`` notification announces
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    #: working days until (positive) or past (negative) the deadline
    offset_days: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at", "id"),)


class Delivery(Base):
    """One notification sent over one channel (inbox, email, webhook), with its fate.

    Status: queued → sending → sent (→ read for the inbox), or failed with the
    error; a failed delivery with ``next_attempt_at`` is retried, without it
    it failed for good.  While ``sending``, ``next_attempt_at`` is the lease
    after which a crashed worker's claim may be taken over.
    """

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"))
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                                index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("notification_id", "channel"),)


class NotificationOptOut(Base):
    """A kind of notification a user does not want over one channel (e-mail or webhook).

    Chosen on the account page; ``ledger.notify.reminders.queue_deliveries``
    queues no delivery of that kind over that channel to the user.  The inbox
    always has every kind.
    """

    __tablename__ = "notification_opt_outs"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    #: a ``Notification.kind``
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: ``email`` or ``webhook``
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)


class ApiToken(Base):
    """A personal access token for the JSON API (``ledger.org.tokens``).

    Only the SHA-256 of the secret is kept; the token acts as its user with the
    user's role, unit and scope.  It stops working when it expires, is revoked,
    the user is disabled, or the user's ``session_version`` moves on (a password
    change, an admin's reset, a change of role or unit).
    """

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: the first characters of the token, shown in lists so a user can tell tokens apart
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the user's ``session_version`` when the token was made
    session_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AppSetting(Base):
    """A setting editable from the admin pages (reminder offsets, SMTP, webhook).

    Unset keys fall back to ``Settings`` (the environment); see ``ledger.notify.reminders``.
    """

    __tablename__ = "app_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict | list | str | int | bool | None] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RecordToken(Base):
    """The one-time token of a 登记 form and the item its first post recorded.

    The key makes recording idempotent: the same form sent again (a double click,
    a resend after a timeout), even at the same moment, finds the first item
    instead of recording another (``ledger.items.services.record_finding``).
    """

    __tablename__ = "record_tokens"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- supervision: 催办, 约谈, 函询, 挂牌督办 and 通报 (SPEC §10) ---------------------


class SupervisionRecord(Base):
    """One supervision act (催办, 约谈, 函询, 挂牌督办) on one or many items.

    ``kind`` is urge, interview, inquiry or listing; ``status`` is what can still
    change (an inquiry: ``open`` → ``replied``; a listing: ``active`` →
    ``lift_requested`` → ``lifted``) and ``details`` holds the kind's own fields
    (see ``ledger.supervision.acts``).  ``unit_id`` is the deepest unit all its items
    share.  Each act also appends a history entry to every item it covers.
    """

    __tablename__ = "supervision_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    details: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_supervision_records_kind_status", "kind", "status"),)


class SupervisionRecordItem(Base):
    """Which items a supervision record covers."""

    __tablename__ = "supervision_record_items"
    record_id: Mapped[int] = mapped_column(ForeignKey("supervision_records.id"),
                                           primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)

    __table_args__ = (Index("ix_supervision_record_items_item", "item_id", "record_id"),)


class Notice(Base):
    """A 通报, numbered per year and quarter (``2026年第4季度第3号``), listing items,
    or (``ranking_id`` set) a county's ranking notice (通报排名) of its townships."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    serial: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: the issuing unit (the issuer's own)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    index=True)
    #: a ranking notice: the published ranking it notifies (one notice per ranking)
    ranking_id: Mapped[int | None] = mapped_column(ForeignKey("rankings.id"))

    __table_args__ = (UniqueConstraint("year", "quarter", "serial"),
                      Index("uq_notices_ranking", "ranking_id", unique=True))


class NoticeItem(Base):
    """Which items a notice lists."""

    __tablename__ = "notice_items"
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    #: how late the item was on the day of the notice (the printed notice stays as issued)
    days_overdue: Mapped[int | None] = mapped_column(Integer)
    workdays_overdue: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_notice_items_item", "item_id", "notice_id"),)


# repeat findings: the same unit and standard in another cycle (the overdue board)
Index("ix_items_unit_standard", Item.__table__.c.unit_id, Item.__table__.c.standard_id,
      Item.__table__.c.cycle_id)
# one ledger item per failed standard of an observation: confirming twice adds nothing
Index("uq_items_observation_standard", Item.__table__.c.observation_id,
      Item.__table__.c.standard_id, unique=True,
      sqlite_where=text("observation_id IS NOT NULL AND standard_id IS NOT NULL"),
      postgresql_where=text("observation_id IS NOT NULL AND standard_id IS NOT NULL"))


class RankingStatus(StrEnum):
    """A ranking's life: computed as a draft, approved by someone else, published (公示);
    a correction publishes a new version and the old one is superseded."""

    DRAFT = "draft"
    APPROVED = "approved"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class Ranking(Base):
    """One observing unit's ranking of its targets in one cycle (one row per version)."""

    __tablename__ = "rankings"
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"))
    observing_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: 1 for the first ranking, 2… for corrections
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=RankingStatus.DRAFT.value)
    #: the class rule used (frozen with the ranking)
    rule: Mapped[dict] = mapped_column(JSON)
    #: why this version corrects the previous one
    reason: Mapped[str | None] = mapped_column(Text)
    computed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: the 公示: an unguessable link (set on publication) and the last day of objections
    token: Mapped[str | None] = mapped_column(String(64), unique=True)
    publication_ends_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    #: not stored: targets neither confirmed nor excused (set by the services for the guard)
    missing = None

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("cycle_id", "observing_unit_id", "number"),)


class RankingRow(Base):
    """A target in a ranking: its place, score, class, or why it is missing."""

    __tablename__ = "ranking_rows"
    ranking_id: Mapped[int] = mapped_column(ForeignKey("rankings.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    observation_id: Mapped[int] = mapped_column(ForeignKey("observations.id"))
    #: None while the target has no confirmed observation
    rank: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    checklist: Mapped[float | None] = mapped_column(Float)
    #: 不符合 lines of the basic standards (the second tie-break)
    failed_basic: Mapped[int | None] = mapped_column(Integer)
    #: demonstration (示范), middle (中间), lagging (后进)
    klass: Mapped[str | None] = mapped_column(String(16))
    #: the class the rule gave, when the observing unit moved the unit, and why
    rule_klass: Mapped[str | None] = mapped_column(String(16))
    klass_reason: Mapped[str | None] = mapped_column(Text)
    #: a target without a confirmed observation may be excused, with a reason
    excused: Mapped[str | None] = mapped_column(Text)


class NoticeRanking(Base):
    """One township as a ranking notice printed it: place, score, class and ledger
    figures, frozen on issue (later changes to the ledger or the ranking leave it)."""

    __tablename__ = "notice_rankings"
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    #: the unit's name on the day of issue
    unit_name: Mapped[str] = mapped_column(String(100))
    #: None for a target excused from the ranking
    rank: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    klass: Mapped[str | None] = mapped_column(String(16))
    found: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)
    overdue: Mapped[int] = mapped_column(Integer)
    reopened: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_notice_rankings_unit", "unit_id", "notice_id"),)


class Objection(Base):
    """An objection raised through the 公示 link, and the observing unit's answer."""

    __tablename__ = "objections"
    id: Mapped[int] = mapped_column(primary_key=True)
    ranking_id: Mapped[int] = mapped_column(ForeignKey("rankings.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    contact: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    #: a keyed hash of the sender's address, for the rate limit (the address is not kept)
    client: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class RankingEvent(HistoryMixin, Base):
    """Append-only history of a ranking: compute, class changes, approve, publish, …"""

    __tablename__ = "ranking_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ranking_id: Mapped[int] = mapped_column(ForeignKey("rankings.id"))
    changes: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("ranking_id", "seq"),)


class UnitClass(Base):
    """A unit's class in a cycle (SPEC §3's per-cycle attribute), set when a ranking
    is published (a correction overwrites it)."""

    __tablename__ = "unit_classes"
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)
    klass: Mapped[str] = mapped_column(String(16))
    ranking_id: Mapped[int] = mapped_column(ForeignKey("rankings.id"))


class Pair(Base):
    """互帮: a 后进 unit paired with a 示范 unit for the cycle after the ranking."""

    __tablename__ = "pairs"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: the cycle whose published ranking made the pair
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"))
    lagging_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    partner_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("cycle_id", "lagging_unit_id"),)


class PairVisit(Base):
    """An exchange visit of a pair: when, who, what was learned."""

    __tablename__ = "pair_visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    who: Mapped[str] = mapped_column(String(200))
    learned: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PairVisitPhoto(Base):
    """A photo of an exchange visit (the bytes live in the evidence store)."""

    __tablename__ = "pair_visit_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("pair_visits.id"), index=True)
    #: indexed for the evidence garbage collection's lookups
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(128))
    original_name: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WeakReview(Base):
    """软弱涣散: the county's determination on a unit flagged after k 后进 cycles in a row,
    and (when 认定) its 一村一策 plan, whose tasks are ledger items."""

    __tablename__ = "weak_reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: the last cycle of the streak that flagged the unit
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"))
    #: recognised (认定) or not_recognised (不认定)
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[dt.date] = mapped_column(Date)
    plan: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (UniqueConstraint("unit_id", "cycle_id"),)


class WeakReviewItem(Base):
    """A task of a 一村一策 plan: a ledger item (source 整顿)."""

    __tablename__ = "weak_review_items"
    review_id: Mapped[int] = mapped_column(ForeignKey("weak_reviews.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True, index=True)


class ReportStatus(StrEnum):
    """An upward report's life: filled as a draft, submitted (its snapshot locked),
    then received by the level above or returned with a note and submitted again."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    RECEIVED = "received"


class Report(Base):
    """报送: a township's quarterly report to its county, a county's half-yearly one to
    the city, for one period (``2026Q4``, ``2026H2``).

    ``snapshot`` is what was submitted (the published ranking and the ledger
    figures, see ``ledger.results.reports``), locked until the report is
    returned; each submission's snapshot also stays in the history.
    """

    __tablename__ = "reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: the unit it goes to (the reporting unit's parent)
    to_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    period: Mapped[str] = mapped_column(String(8))
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.DRAFT.value)
    cover_note: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    #: how many times it was submitted
    submissions: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: when the level above received it, or the note it was returned with
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    return_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("unit_id", "period"),
                      Index("ix_reports_to_unit_period", "to_unit_id", "period"))


class ReportEvent(HistoryMixin, Base):
    """Append-only history of a report; a submission's row keeps the snapshot it sent."""

    __tablename__ = "report_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    changes: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("report_id", "seq"),)


class FundsStatus(StrEnum):
    """A funds plan (以奖代补): a draft while its rule is set, then approved and frozen."""

    DRAFT = "draft"
    APPROVED = "approved"


class FundsPlan(Base):
    """以奖代补 of one observing unit in one cycle: the rule and the ranking it was applied to.

    ``rule`` is the rule as saved (amounts as strings of yuan, two decimals), one of
    ``{"kind": "class", "amounts": {...}}``, ``{"kind": "band", "bands": [...]}`` or
    ``{"kind": "pool", "total": ..., "who": "all" | "not_lagging"}``.
    """

    __tablename__ = "funds_plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"))
    #: the observing unit (the township for villages, the county for townships)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: the published ranking version the table was computed from
    ranking_id: Mapped[int] = mapped_column(ForeignKey("rankings.id"))
    status: Mapped[str] = mapped_column(String(16), default=FundsStatus.DRAFT.value)
    rule: Mapped[dict] = mapped_column(JSON)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: who saved the rule last (may not approve it) and when
    saved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    #: not stored: whether the plan's ranking is still the published one (set by the
    #: services for the workflow's guards)
    ranking_current = None

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("cycle_id", "unit_id"),)


class FundsRow(Base):
    """A ranked unit's line of the funds table: its place, class, score and amount (元)."""

    __tablename__ = "funds_rows"
    plan_id: Mapped[int] = mapped_column(ForeignKey("funds_plans.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    klass: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    #: yuan with two decimals (read as ``Decimal``; sums are made in Python, not SQL)
    amount: Mapped[decimal.Decimal] = mapped_column(Numeric(14, 2))


class FundsEvent(HistoryMixin, Base):
    """Append-only history of a funds plan: each saved rule, the approval, a reopening."""

    __tablename__ = "funds_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("funds_plans.id"))
    changes: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (UniqueConstraint("plan_id", "seq"),)
