"""The class rule (示范 / 中间 / 后进), configured by the admin per cycle kind.

Two kinds of rule:

* **Quota bands** (default): the top ``top`` % of the ranked units are 示范 and
  the bottom ``bottom`` % are 后进, the rest 中间. Counts are rounded half up
  (``n × top / 100``, 0.5 rounds up), and the 后进 band shrinks when both bands
  would overlap. The ranking is a total order (see ``rankings``), so a band
  boundary falls between two ranks; units equal in score, checklist part and
  failed basic lines are ordered by unit code, and the boundary follows that
  order.
* **Score thresholds**: a final score ≥ ``demonstration_min`` is 示范, a score
  below ``lagging_below`` is 后进, the rest 中间.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import select

from ledger.core.db import dialect_insert
from ledger.core.errors import PermissionDenied, ValidationError
from ledger.core.models import AppSetting, CycleKind, Role

# k of the 软弱涣散 flag: the overdue board reads it too, so it lives there
from ledger.supervision.board import WEAK_KEY, weak_after  # noqa: F401

CLASSES = ("demonstration", "middle", "lagging")
MODES = ("quota", "threshold")


@dataclass(frozen=True)
class ClassRule:
    mode: str = "quota"
    top: float = 20.0
    bottom: float = 10.0
    demonstration_min: float = 90.0
    lagging_below: float = 70.0

    def as_dict(self) -> dict:
        return asdict(self)


def round_half_up(value: float) -> int:
    return int(decimal.Decimal(str(value)).quantize(decimal.Decimal(1), decimal.ROUND_HALF_UP))


def band_sizes(n: int, rule: ClassRule) -> tuple[int, int]:
    """(示范 count, 后进 count) of ``n`` ranked units under a quota rule."""
    top = min(n, round_half_up(n * rule.top / 100))
    bottom = min(n - top, round_half_up(n * rule.bottom / 100))
    return top, bottom


def classes_for(scores: Sequence[float], rule: ClassRule) -> list[str]:
    """The class of each unit, given the final scores in rank order (best first)."""
    n = len(scores)
    if rule.mode == "threshold":
        return ["demonstration" if s >= rule.demonstration_min
                else "lagging" if s < rule.lagging_below else "middle" for s in scores]
    top, bottom = band_sizes(n, rule)
    return ["demonstration" if i < top else "lagging" if i >= n - bottom else "middle"
            for i in range(n)]


def _number(data: Mapping, key: str, default: float) -> float:
    raw = data.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raw = default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValidationError("enter a number", fields={key: "not a number"}) from None
    if value != value or not 0 <= value <= 100:
        raise ValidationError("enter a number from 0 to 100", fields={key: "out of range"})
    return value


def parse_rule(data: Mapping | None) -> ClassRule:
    """A rule from its stored or submitted form; inconsistent rules are refused."""
    data = data or {}
    mode = data.get("mode") or "quota"
    if mode not in MODES:
        raise ValidationError("unknown rule", fields={"mode": "unknown"})
    rule = ClassRule(mode, _number(data, "top", 20), _number(data, "bottom", 10),
                     _number(data, "demonstration_min", 90), _number(data, "lagging_below", 70))
    if rule.top + rule.bottom > 100:
        raise ValidationError("the 示范 and 后进 quotas add up to more than 100%",
                              fields={"top": "quotas over 100", "bottom": "quotas over 100"})
    if rule.demonstration_min <= rule.lagging_below:
        raise ValidationError("the 示范 threshold must lie above the 后进 one",
                              fields={"demonstration_min": "thresholds out of order"})
    return rule


def key_for(kind: str) -> str:
    return f"class_rule:{CycleKind(kind).value}"


def load_rule(session, kind: str) -> ClassRule:
    stored = session.scalar(select(AppSetting.value).where(AppSetting.key == key_for(kind)))
    return parse_rule(stored if isinstance(stored, dict) else None)


def save_rule(uow, actor, kind: str, data: Mapping) -> ClassRule:
    """Store the admin's class rule for a cycle kind (validated first)."""
    if actor.role != Role.ADMIN.value:
        raise PermissionDenied("only an admin changes the class rule", event="settings")
    if kind not in {k.value for k in CycleKind}:
        raise ValidationError("unknown cycle kind", fields={"kind": "unknown"})
    rule = parse_rule(data)
    now = uow.now()
    ins = dialect_insert(uow.session, AppSetting.__table__).values(
        key=key_for(kind), value=rule.as_dict(), updated_at=now)
    uow.session.execute(ins.on_conflict_do_update(
        index_elements=["key"], set_={"value": ins.excluded.value, "updated_at": now}))
    uow.commit()
    return rule


def save_weak_after(uow, actor, value: object) -> int:
    """Store k (1–12): after k 后进 cycles in a row a unit is flagged for review."""
    if actor.role != Role.ADMIN.value:
        raise PermissionDenied("only an admin changes the rule", event="settings")
    try:
        k = int(str(value).strip())
    except ValueError:
        raise ValidationError("enter a whole number", fields={"weak_after": "not a number"}) \
            from None
    if not 1 <= k <= 12:
        raise ValidationError("between 1 and 12 cycles", fields={"weak_after": "out of range"})
    now = uow.now()
    ins = dialect_insert(uow.session, AppSetting.__table__).values(
        key=WEAK_KEY, value=k, updated_at=now)
    uow.session.execute(ins.on_conflict_do_update(
        index_elements=["key"], set_={"value": ins.excluded.value, "updated_at": now}))
    uow.commit()
    return k
