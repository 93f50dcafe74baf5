"""The 100-point score of an observation, and the admin's scoring rules.

The rule (README, "The score"):

* **Checklist part.** Start from 100 and take off each line's deduction. A
  line 符合 (conform) or 不适用 (na), a line still open, and a line outside the
  categories of a selective observation take off nothing. A line 基本符合
  (partial) or 不符合 (fail) takes off what the observer wrote, or else the
  standard's default for that result. Deductions are summed per category and
  each category's sum is capped where the admin set a cap; the part is floored
  at 0.
* **Evaluation part.** The mean of the participants' evaluation scores (评,
  0–100). When nobody has scored yet (a record being filled), the score is the
  checklist part alone and the breakdown says so; a record cannot be submitted
  without at least one evaluation score.
* **Total.** ``checklist × w + evaluation × (100 − w)``, divided by 100, where
  ``w`` is the cycle's checklist weight (70 by default), rounded to 2 places.

The score is computed by ``compute`` alone (pages, confirmation, exports and
the benchmark all call it) and frozen on the observation at confirmation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from ledger.core.db import dialect_insert
from ledger.core.errors import PermissionDenied, ValidationError
from ledger.core.models import AppSetting, Role

#: the four results of a checklist line, in the order pages offer them
RESULTS = ("conform", "partial", "fail", "na")
#: the results that take points off
DEDUCTING = ("partial", "fail")
#: the app_settings key of the admin's scoring rules
SETTING = "observation_scoring"
DEFAULT_DEDUCTION = {"partial": 1.0, "fail": 3.0}


@dataclass(frozen=True)
class Rules:
    """Default deductions per result, per-standard overrides and category caps.

    Standards and categories are keyed ``"basic:12"`` (set and number) and
    ``"basic:3"`` (set and category number), so the rules survive a new
    catalog version.
    """

    partial: float = DEFAULT_DEDUCTION["partial"]
    fail: float = DEFAULT_DEDUCTION["fail"]
    standards: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    caps: Mapping[str, float] = field(default_factory=dict)

    def default_for(self, standard_key: str, result: str) -> float:
        own = self.standards.get(standard_key, {})
        return float(own.get(result, getattr(self, result)))

    def as_dict(self) -> dict:
        return {"partial": self.partial, "fail": self.fail,
                "standards": {k: dict(v) for k, v in self.standards.items()},
                "caps": dict(self.caps)}


@dataclass(frozen=True)
class Line:
    """What the score needs of one checklist line."""

    standard_key: str
    category_key: str
    result: str | None
    deduction: float | None = None
    counted: bool = True  # False: outside a selective observation's categories


@dataclass(frozen=True)
class Score:
    total: float
    checklist: float
    evaluation: float | None
    checklist_weight: int
    #: category key → (deductions summed, deductions counted after the cap)
    categories: dict[str, tuple[float, float]]
    evaluations: int

    def as_dict(self) -> dict:
        return {"total": self.total, "checklist": self.checklist,
                "evaluation": self.evaluation, "checklist_weight": self.checklist_weight,
                "evaluations": self.evaluations,
                "categories": {k: list(v) for k, v in self.categories.items()}}


def line_deduction(line: Line, rules: Rules) -> float:
    """The points this line takes off (0 unless partial or fail and counted)."""
    if not line.counted or line.result not in DEDUCTING:
        return 0.0
    if line.deduction is not None:
        return float(line.deduction)
    return rules.default_for(line.standard_key, line.result)


def compute(lines: Iterable[Line], evaluations: Iterable[float], checklist_weight: int = 70,
            rules: Rules | None = None) -> Score:
    """The 100-point score and its breakdown (see the module docstring)."""
    rules = rules or Rules()
    if not 0 <= checklist_weight <= 100:
        raise ValueError("the checklist weight is a share of 100")
    raw: dict[str, float] = {}
    for line in lines:
        raw[line.category_key] = raw.get(line.category_key, 0.0) + line_deduction(line, rules)
    categories = {}
    for key, total in raw.items():
        cap = rules.caps.get(key)
        categories[key] = (round(total, 2), round(min(total, cap) if cap is not None else total,
                                                 2))
    checklist = max(0.0, 100.0 - sum(capped for _, capped in categories.values()))
    scores = [float(s) for s in evaluations]
    evaluation = sum(scores) / len(scores) if scores else None
    if evaluation is None:
        total = checklist
    else:
        total = (checklist * checklist_weight + evaluation * (100 - checklist_weight)) / 100
    return Score(round(total, 2), round(checklist, 2),
                 None if evaluation is None else round(evaluation, 2), checklist_weight,
                 categories, len(scores))


# --- the admin's rules ----------------------------------------------------------


def _number(value: object, where: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError(f"{where}: not a number", fields={where: "not a number"}) from None
    if not 0 <= number <= 100:
        raise ValidationError(f"{where}: between 0 and 100", fields={where: "out of range"})
    return number


def parse_rules(data: Mapping | None) -> Rules:
    """Rules from their stored or submitted form; ``ValidationError`` names the bad entry."""
    data = data or {}
    standards = {
        str(key): {r: _number(v, f"standards.{key}.{r}") for r, v in (own or {}).items()
                   if r in DEDUCTING}
        for key, own in (data.get("standards") or {}).items()
    }
    caps = {str(k): _number(v, f"caps.{k}") for k, v in (data.get("caps") or {}).items()
            if v not in (None, "")}
    return Rules(partial=_number(data.get("partial", DEFAULT_DEDUCTION["partial"]), "partial"),
                 fail=_number(data.get("fail", DEFAULT_DEDUCTION["fail"]), "fail"),
                 standards=standards, caps=caps)


def load_rules(session) -> Rules:
    stored = session.scalar(select(AppSetting.value).where(AppSetting.key == SETTING))
    return parse_rules(stored if isinstance(stored, dict) else None)


def save_rules(uow, actor, data: Mapping) -> Rules:
    """Store the admin's scoring rules (validated first: nothing half-saved)."""
    if actor.role != Role.ADMIN.value:
        raise PermissionDenied("only an admin changes the scoring rules", event="settings")
    rules = parse_rules(data)
    now = uow.now()
    ins = dialect_insert(uow.session, AppSetting.__table__).values(
        key=SETTING, value=rules.as_dict(), updated_at=now)
    uow.session.execute(ins.on_conflict_do_update(
        index_elements=["key"], set_={"value": ins.excluded.value, "updated_at": now}))
    uow.commit()
    return rules
