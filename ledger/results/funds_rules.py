"""The funds rules of 以奖代补 and the amounts they give, without the database.

**The rules** (amounts in yuan, at most two decimals, from 0 to ``MAX_AMOUNT``):

* ``class`` — an amount per class: 示范, 中间, 后进.
* ``band`` — an amount per rank band, e.g. ranks 1–3, 4–10, 11–20. The bands start
  at rank 1 and follow each other without gap or overlap; ranks after the last
  band get nothing.
* ``pool`` — a total (more than 0) split among the ranked units (all of them, or
  all but the 后进 ones) in proportion to their final scores: each share is
  rounded down to the fen, then the fen left over are given one each in rank
  order (1st, 2nd, …), so the shares add up to the pool exactly. Should every
  score be 0, the pool is split equally in the same way.

Amounts are ``Decimal`` throughout; a rule is stored as JSON with its amounts as
strings of yuan with two decimals (``"5000.00"``).
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from decimal import Decimal

from ledger.core.errors import ValidationError
from ledger.results.classes import CLASSES

KINDS = ("class", "band", "pool")
#: who shares a pool: every ranked unit, or every ranked unit but the 后进 ones
POOL_WHO = ("all", "not_lagging")
#: the largest amount (or pool) accepted, in yuan
MAX_AMOUNT = Decimal("100000000")
MAX_BANDS = 20
MAX_RANK = 100_000
#: the longest amount read, in characters
MAX_CHARS = 32
FEN = Decimal("0.01")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_amount(raw: object, *, positive: bool = False) -> tuple[Decimal | None, str | None]:
    """(the amount, None), or (None, the field code saying why it is refused)."""
    if _blank(raw):
        return None, "required"
    text = str(raw).strip().replace(",", "").replace("，", "")
    if len(text) > MAX_CHARS:
        return None, "not a number"
    try:
        value = Decimal(text)
    except decimal.InvalidOperation:
        return None, "not a number"
    if not value.is_finite():
        return None, "not a number"
    if value < 0:
        return None, "negative amount"
    if value == 0:
        if positive:
            return None, "pool not positive"
        value = Decimal(0)  # not -0
    if value > MAX_AMOUNT:
        return None, "amount too large"
    if value != value.quantize(FEN):
        return None, "too many decimals"
    return value.quantize(FEN), None


def _whole(raw: object) -> tuple[int | None, str | None]:
    text = "" if raw is None else str(raw).strip()
    if not text:
        return None, "required"
    if not text.isdigit() or not 1 <= int(text) <= MAX_RANK:
        return None, "not a rank"
    return int(text), None


def _band_rows(bands: object, errors: dict[str, str]) -> list[dict]:
    """The filled-in bands (wholly blank rows are skipped), checked for order."""
    out: list[dict] = []
    rows = bands if isinstance(bands, list | tuple) else []
    for i, band in enumerate(rows):
        band = band if isinstance(band, Mapping) else {}
        if all(_blank(band.get(k)) for k in ("from_rank", "to_rank", "amount")):
            continue
        first, e1 = _whole(band.get("from_rank"))
        last, e2 = _whole(band.get("to_rank"))
        amount, e3 = parse_amount(band.get("amount"))
        for name, code in (("from_rank", e1), ("to_rank", e2), ("amount", e3)):
            if code:
                errors[f"bands-{i}-{name}"] = code
        if first is not None and last is not None and last < first:
            errors[f"bands-{i}-to_rank"] = "band reversed"
        if not (e1 or e2 or e3):
            out.append({"index": i, "from_rank": first, "to_rank": last, "amount": amount})
    if not out and not errors:
        errors["bands"] = "no band"
    if len(out) > MAX_BANDS:
        errors["bands"] = "too many bands"
    if errors:
        return out
    expected, previous = 1, None
    for band in out:
        code = None
        if band["from_rank"] > expected:
            code = "bands gap"
        elif band["from_rank"] < expected:
            code = "bands out of order" if previous is not None and \
                band["from_rank"] < previous["from_rank"] else "bands overlap"
        if code:
            errors[f"bands-{band['index']}-from_rank"] = code
            break
        expected, previous = band["to_rank"] + 1, band
    return out


def parse_rule(data: Mapping | None) -> dict:
    """The rule to store (amounts as strings of yuan with two decimals) from the submitted
    form: ``kind`` and, by kind, ``demonstration``/``middle``/``lagging``, ``bands``
    (a list of ``from_rank``/``to_rank``/``amount``) or ``total``/``who``.

    Every refused field is named in one ``ValidationError``; nothing is stored.
    """
    data = data or {}
    kind = data.get("kind")
    if kind not in KINDS:
        raise ValidationError("choose how the funds are given", fields={"kind": "unknown"})
    errors: dict[str, str] = {}
    if kind == "class":
        amounts = {}
        for klass in CLASSES:
            amounts[klass], code = parse_amount(data.get(klass))
            if code:
                errors[klass] = code
        rule: dict = {"kind": kind, "amounts": {k: str(v) for k, v in amounts.items()}}
    elif kind == "band":
        bands = _band_rows(data.get("bands"), errors)
        rule = {"kind": kind, "bands": [
            {"from_rank": b["from_rank"], "to_rank": b["to_rank"], "amount": str(b["amount"])}
            for b in bands]}
    else:
        total, code = parse_amount(data.get("total"), positive=True)
        if code:
            errors["total"] = code
        who = data.get("who") or "all"
        if who not in POOL_WHO:
            errors["who"] = "unknown"
        rule = {"kind": kind, "total": str(total), "who": who}
    if errors:
        raise ValidationError("check the funds rule", fields=errors)
    return rule


def as_input(rule: Mapping | None) -> dict:
    """A stored rule in the shape ``parse_rule`` reads (to fill the form again)."""
    rule = rule or {}
    out: dict = {"kind": rule.get("kind", "class")}
    out.update(rule.get("amounts", {}))
    out["bands"] = [{k: str(v) for k, v in b.items()} for b in rule.get("bands", [])]
    if "total" in rule:
        out.update(total=rule["total"], who=rule.get("who", "all"))
    return out


# --- the amounts ------------------------------------------------------------------------


def split_pool(total_fen: int, weights: Sequence[int]) -> list[int]:
    """``total_fen`` split in proportion to ``weights`` (given in rank order), in whole fen:
    each share rounded down, the fen left over given one each from the first on.

    The shares add up to ``total_fen`` exactly; each lies within one fen above its exact
    proportional share rounded down. All-zero weights split equally.
    """
    if not weights:
        return []
    if sum(weights) == 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    shares = [total_fen * w // whole for w in weights]
    for i in range(total_fen - sum(shares)):  # fewer than len(weights)
        shares[i] += 1
    return shares


def _score_weight(score: float | None) -> int:
    """A final score in hundredths of a point (scores are rounded to 2 places)."""
    if score is None:
        return 0
    return int(Decimal(str(score)).quantize(FEN, decimal.ROUND_HALF_UP) * 100)


def amounts_for(rule: Mapping, rows: Sequence[Mapping]) -> list[Decimal]:
    """Each ranked row's amount (rows in rank order: ``rank``, ``klass``, ``score``)."""
    kind = rule["kind"]
    if kind == "class":
        amounts = {k: Decimal(v) for k, v in rule["amounts"].items()}
        return [amounts.get(r["klass"], Decimal(0)).quantize(FEN) for r in rows]
    if kind == "band":
        bands = [(b["from_rank"], b["to_rank"], Decimal(b["amount"])) for b in rule["bands"]]
        return [next((a for lo, hi, a in bands if lo <= r["rank"] <= hi), Decimal(0))
                .quantize(FEN) for r in rows]
    sharing = [i for i, r in enumerate(rows)
               if rule["who"] == "all" or r["klass"] != "lagging"]
    if not sharing:
        raise ValidationError("nobody shares the pool", fields={"who": "nobody shares"})
    total_fen = int(Decimal(rule["total"]) * 100)
    shares = split_pool(total_fen, [_score_weight(rows[i]["score"]) for i in sharing])
    out = [Decimal(0).quantize(FEN)] * len(rows)
    for i, fen in zip(sharing, shares, strict=True):
        out[i] = (Decimal(fen) / 100).quantize(FEN)
    return out


def total_of(rows: Sequence[Mapping]) -> Decimal:
    """The table's total (added as ``Decimal``, to the fen)."""
    return sum((Decimal(r["amount"]) for r in rows), Decimal(0)).quantize(FEN)
