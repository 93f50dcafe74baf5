"""The acting user as services see it, and the scope rule (the unit subtree)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement

from ledger.core.models import Unit, User


@dataclass(frozen=True)
class Actor:
    """Who is acting: enough to check role and scope without another query."""

    id: int
    role: str
    unit_id: int
    unit_level: str
    username: str = ""

    @classmethod
    def of(cls, user: User, unit: Unit | None = None) -> Actor:
        unit = unit or user.unit
        return cls(user.id, user.role, unit.id, unit.level, user.username)

    @property
    def scope_column(self) -> str:
        return f"{self.unit_level}_id"

    def sees(self, obj: object) -> bool:
        """True when ``obj`` (a unit or an item) lies in this actor's subtree."""
        return getattr(obj, self.scope_column) == self.unit_id

    def is_above(self, obj: object) -> bool:
        """In scope and strictly below the actor's own unit."""
        return self.sees(obj) and getattr(obj, "unit_id", getattr(obj, "id", None)) != self.unit_id

    def scope_clause(self, model: type) -> ColumnElement[bool]:
        """The SQL filter that keeps only rows of ``model`` inside the scope."""
        return getattr(model, self.scope_column) == self.unit_id
