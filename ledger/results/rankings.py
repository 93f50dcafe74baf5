"""Rankings per cycle and observing unit (a township ranks its villages, a county its
townships), from the confirmed observations' frozen scores.

**Order (the tie-break rule, stated on the page):** higher final score first;
equal scores by the higher checklist part; then by fewer 不符合 lines of the basic
standards; then by the unit code. The order is total, so every rank is distinct.

A ranking can be computed while coverage is incomplete: targets without a
confirmed observation are listed as missing and the ranking cannot be approved
until each is confirmed (compute again) or excused with a reason. Classes come
from the admin's rule for the cycle kind (``classes``); the observing unit may
move a unit to another class with a reason. Every change bumps the ranking's
version and appends a history row in the same transaction; a published ranking
is read-only and a correction is a new version.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, func, insert, select, update

from ledger.core.actors import Actor
from ledger.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.models import (
    Cycle,
    Observation,
    ObservationLine,
    ObservationStatus,
    Ranking,
    RankingEvent,
    RankingRow,
    RankingStatus,
    Standard,
    Unit,
    UnitClass,
)
from ledger.core.rulebook import require_inputs
from ledger.core.uow import UnitOfWork
from ledger.observations.access import MAX_TEXT
from ledger.results import classes, pairing
from ledger.results.publication import open_publication
from ledger.results.workflow import RULEBOOK, RULES_BY_EVENT, STAFF

DRAFT, APPROVED = RankingStatus.DRAFT.value, RankingStatus.APPROVED.value
PUBLISHED, SUPERSEDED = RankingStatus.PUBLISHED.value, RankingStatus.SUPERSEDED.value
CONFIRMED = ObservationStatus.CONFIRMED.value
OBSERVING_LEVEL = {"village_quarterly": "township", "township_half_yearly": "county"}


@dataclass(frozen=True)
class RankingResult:
    id: int
    status: str
    version: int
    number: int


# --- computing ------------------------------------------------------------------------


def _target_rows(session, cycle: Cycle, unit_ids: list[int]) -> dict[int, list[dict]]:
    """Every target of these observing units: score parts and failed basic lines."""
    fails = (select(ObservationLine.observation_id, func.count().label("n"))
             .join(Standard, Standard.id == ObservationLine.standard_id)
             .join(Observation, Observation.id == ObservationLine.observation_id)
             .where(Observation.cycle_id == cycle.id, Observation.status == CONFIRMED,
                    Observation.observing_unit_id.in_(unit_ids),
                    ObservationLine.result == "fail", Standard.set == "basic")
             .group_by(ObservationLine.observation_id).subquery())
    rows = session.execute(
        select(Observation.id, Observation.unit_id, Observation.observing_unit_id,
               Observation.status, Observation.score, Observation.score_breakdown,
               Unit.code, func.coalesce(fails.c.n, 0))
        .join(Unit, Unit.id == Observation.unit_id)
        .outerjoin(fails, fails.c.observation_id == Observation.id)
        .where(Observation.cycle_id == cycle.id, Observation.observing_unit_id.in_(unit_ids)))
    out: dict[int, list[dict]] = {u: [] for u in unit_ids}
    for oid, unit_id, observer, status, score, breakdown, code, failed in rows:
        confirmed = status == CONFIRMED and score is not None
        out[observer].append({
            "observation_id": oid, "unit_id": unit_id, "code": code, "confirmed": confirmed,
            "score": score if confirmed else None,
            "checklist": (breakdown or {}).get("checklist") if confirmed else None,
            "failed_basic": int(failed) if confirmed else None})
    return out


def order_key(row: dict) -> tuple:
    """The documented order: score, checklist part, fewer failed basic lines, unit code."""
    return (-row["score"], -(row["checklist"] or 0), row["failed_basic"], row["code"])


def rank_rows(rows: list[dict], rule: classes.ClassRule,
              keep: dict[int, dict] | None = None) -> list[dict]:
    """Ranks and classes for the confirmed rows; missing ones keep their excuse.

    ``keep`` holds the manual class changes and excuses of the draft being
    recomputed, by unit id: a manual class survives while the unit stays ranked.
    """
    keep = keep or {}
    ranked = sorted((r for r in rows if r["confirmed"]), key=order_key)
    for rank, (row, klass) in enumerate(zip(ranked, classes.classes_for(
            [r["score"] for r in ranked], rule), strict=True), start=1):
        row.update(rank=rank, klass=klass, rule_klass=klass, klass_reason=None, excused=None)
        kept = keep.get(row["unit_id"], {})
        if kept.get("klass_reason"):
            row.update(klass=kept["klass"], klass_reason=kept["klass_reason"])
    missing = sorted((r for r in rows if not r["confirmed"]), key=lambda r: r["code"])
    for row in missing:
        row.update(rank=None, klass=None, rule_klass=None, klass_reason=None,
                   excused=keep.get(row["unit_id"], {}).get("excused"))
    return ranked + missing


def _history(uow: UnitOfWork, ranking_id: int, seq: int, event: str, before: str | None,
             after: str, actor: Actor, note: str | None = None,
             changes: dict | None = None) -> None:
    uow.session.execute(insert(RankingEvent), [{
        "ranking_id": ranking_id, "seq": seq, "event": event, "from_status": before,
        "to_status": after, "actor_id": actor.id, "actor_role": actor.role, "at": uow.now(),
        "note": note, "changes": changes}])


def _own_unit(uow: UnitOfWork, cycle: Cycle, actor: Actor) -> Unit:
    """The unit the actor ranks for in this cycle (their own, at the observing level)."""
    if actor.role not in STAFF or actor.unit_level != OBSERVING_LEVEL[cycle.kind]:
        raise PermissionDenied("only the observing unit's staff rank its targets",
                               event="compute")
    return uow.session.get(Unit, actor.unit_id)


def _cycle(uow: UnitOfWork, cycle_id: object) -> Cycle:
    cycle = uow.session.get(Cycle, int(cycle_id)) if str(cycle_id).isdigit() else None
    if cycle is None:
        raise NotFound("no such cycle")
    return cycle


def latest(session, cycle_id: int, unit_id: int) -> Ranking | None:
    return session.scalar(select(Ranking).where(
        Ranking.cycle_id == cycle_id, Ranking.observing_unit_id == unit_id)
        .order_by(Ranking.number.desc()).limit(1))


def _write_rows(uow: UnitOfWork, ranking_id: int, rows: list[dict]) -> None:
    uow.session.execute(delete(RankingRow).where(RankingRow.ranking_id == ranking_id))
    if rows:
        uow.session.execute(insert(RankingRow), [
            {"ranking_id": ranking_id, "unit_id": r["unit_id"],
             "observation_id": r["observation_id"], "rank": r["rank"], "score": r["score"],
             "checklist": r["checklist"], "failed_basic": r["failed_basic"],
             "klass": r["klass"], "rule_klass": r["rule_klass"],
             "klass_reason": r["klass_reason"], "excused": r["excused"]} for r in rows])


def _kept(session, ranking_id: int) -> dict[int, dict]:
    return {r.unit_id: {"klass": r.klass, "klass_reason": r.klass_reason,
                        "excused": r.excused}
            for r in session.scalars(select(RankingRow).where(
                RankingRow.ranking_id == ranking_id))}


def compute(uow: UnitOfWork, cycle_id: object, actor: Actor, *,
            reason: str | None = None) -> RankingResult:
    """Compute (or recompute) the observing unit's draft ranking for the cycle.

    A draft is recomputed in place, keeping manual classes and excuses; an
    approved ranking must be revised first; after publication only a correction
    (``reason`` given) starts a new version.
    """
    cycle = _cycle(uow, cycle_id)
    unit = _own_unit(uow, cycle, actor)
    rule = classes.load_rule(uow.session, cycle.kind)
    current = latest(uow.session, cycle.id, unit.id)
    rows = _target_rows(uow.session, cycle, [unit.id])[unit.id]
    now = uow.now()
    if current is not None and current.status == APPROVED:
        raise InvalidTransition("an approved ranking is revised before it is computed again",
                                event="compute", status=APPROVED)
    if current is not None and current.status == PUBLISHED and not (reason or "").strip():
        raise ValidationError("a published ranking is corrected by a new version with a reason",
                              fields={"reason": "required"})
    if reason is not None and len(reason) > MAX_TEXT:
        raise ValidationError(f"at most {MAX_TEXT} characters", fields={"reason": "too long"})
    if current is None or current.status in (PUBLISHED, SUPERSEDED):
        ranking = Ranking(cycle_id=cycle.id, observing_unit_id=unit.id,
                          number=(current.number + 1) if current else 1, status=DRAFT,
                          rule=rule.as_dict(), reason=(reason or "").strip() or None,
                          computed_by_id=actor.id, computed_at=now)
        uow.session.add(ranking)
        uow.flush()
        keep = {} if current is None else _kept(uow.session, current.id)
        _write_rows(uow, ranking.id, rank_rows(rows, rule, keep))
        _history(uow, ranking.id, ranking.version, "compute", None, DRAFT, actor,
                 note=ranking.reason, changes={"number": ranking.number})
    else:
        ranking = current
        keep = _kept(uow.session, ranking.id)
        _bump(uow, ranking, rule=rule.as_dict(), computed_by_id=actor.id, computed_at=now)
        _write_rows(uow, ranking.id, rank_rows(rows, rule, keep))
        _history(uow, ranking.id, ranking.version, "compute", DRAFT, DRAFT, actor)
    uow.commit()
    return RankingResult(ranking.id, ranking.status, ranking.version, ranking.number)


def compute_all(uow: UnitOfWork, cycle_id: object) -> int:
    """Draft rankings for every observing unit of the cycle that has none yet, in one
    transaction (what the province-scale benchmark times); returns how many.

    Each draft is computed by the first active staff member of its unit, as that
    person's "compute" would; rankings that exist are left alone.
    """
    from ledger.core.models import User

    cycle = _cycle(uow, cycle_id)
    rule = classes.load_rule(uow.session, cycle.kind)
    level = OBSERVING_LEVEL[cycle.kind]
    staff_role = "township_staff" if level == "township" else "county_staff"
    have = set(uow.session.scalars(select(Ranking.observing_unit_id).where(
        Ranking.cycle_id == cycle.id)))
    staff = dict(uow.session.execute(
        select(User.unit_id, func.min(User.id)).join(Unit, Unit.id == User.unit_id)
        .where(Unit.level == level, User.role == staff_role, User.active.is_(True))
        .group_by(User.unit_id)).all())
    units = [u for u in staff if u not in have]
    if not units:
        return 0
    rows = _target_rows(uow.session, cycle, units)
    now = uow.now()
    ids = {}
    for unit_id in units:
        ranking = Ranking(cycle_id=cycle.id, observing_unit_id=unit_id, number=1, status=DRAFT,
                          rule=rule.as_dict(), computed_by_id=staff[unit_id], computed_at=now)
        uow.session.add(ranking)
        ids[unit_id] = ranking
    uow.flush()
    all_rows, events = [], []
    for unit_id, ranking in ids.items():
        for r in rank_rows(rows[unit_id], rule):
            all_rows.append({"ranking_id": ranking.id, "unit_id": r["unit_id"],
                             "observation_id": r["observation_id"], "rank": r["rank"],
                             "score": r["score"], "checklist": r["checklist"],
                             "failed_basic": r["failed_basic"], "klass": r["klass"],
                             "rule_klass": r["rule_klass"], "klass_reason": None,
                             "excused": None})
        events.append({"ranking_id": ranking.id, "seq": 1, "event": "compute",
                       "from_status": None, "to_status": DRAFT, "actor_id": staff[unit_id],
                       "actor_role": staff_role, "at": now, "note": None,
                       "changes": {"number": 1}})
    if all_rows:
        uow.session.execute(insert(RankingRow), all_rows)
    uow.session.execute(insert(RankingEvent), events)
    uow.commit()
    return len(ids)


# --- changing a draft -------------------------------------------------------------------


def get_ranking(uow: UnitOfWork, ranking_id: object, actor: Actor) -> Ranking:
    """The ranking if its observing unit lies in the actor's scope (else ``NotFound``)."""
    ranking = uow.session.get(Ranking, int(ranking_id)) if str(ranking_id).isdigit() else None
    if ranking is None:
        raise NotFound("no such ranking")
    unit = uow.session.get(Unit, ranking.observing_unit_id)
    if not actor.sees(unit):
        raise NotFound("no such ranking")
    return ranking


def _bump(uow: UnitOfWork, ranking: Ranking, expected: int | None = None, **values) -> None:
    """Move the ranking's version (and set ``values``), refusing a stale one."""
    table = Ranking.__table__
    before = ranking.version if expected is None else expected
    moved = uow.session.execute(update(table).where(
        table.c.id == ranking.id, table.c.version == before).values(
        version=before + 1, **values)).rowcount
    if moved != 1:
        uow.rollback()
        raise Conflict("the ranking was changed by someone else; reload and try again")
    uow.session.expire(ranking)


def _editable(uow: UnitOfWork, ranking_id: object, actor: Actor,
              expected_version: object) -> Ranking:
    ranking = get_ranking(uow, ranking_id, actor)
    if actor.role not in STAFF or actor.unit_id != ranking.observing_unit_id:
        raise PermissionDenied("only the observing unit's staff change its ranking",
                               event="change")
    if ranking.status != DRAFT:
        raise InvalidTransition("only a draft ranking can be changed", event="change",
                                status=ranking.status)
    if str(expected_version).isdigit() and int(expected_version) != ranking.version:
        raise Conflict("the ranking was changed by someone else; reload and try again")
    return ranking


def _row(uow: UnitOfWork, ranking: Ranking, unit_id: object) -> RankingRow:
    row = uow.session.get(RankingRow, (ranking.id, int(unit_id))) \
        if str(unit_id).isdigit() else None
    if row is None:
        raise NotFound("no such unit in the ranking")
    return row


def change_class(uow: UnitOfWork, ranking_id: object, unit_id: object, actor: Actor, *,
                 klass: str, reason: str, expected_version: object = None) -> RankingResult:
    """Move a ranked unit to another class (示范/中间/后进), with a reason, logged."""
    if klass not in classes.CLASSES:
        raise ValidationError("unknown class", fields={"klass": "unknown"})
    require_inputs({"reason": reason}, ["reason"])
    if len(reason) > MAX_TEXT:
        raise ValidationError(f"at most {MAX_TEXT} characters", fields={"reason": "too long"})
    ranking = _editable(uow, ranking_id, actor, expected_version)
    row = _row(uow, ranking, unit_id)
    if row.rank is None:
        raise ValidationError("only ranked units have a class", fields={"klass": "not ranked"})
    before = row.klass
    manual = klass != row.rule_klass
    uow.session.execute(update(RankingRow.__table__).where(
        RankingRow.__table__.c.ranking_id == ranking.id,
        RankingRow.__table__.c.unit_id == row.unit_id).values(
        klass=klass, klass_reason=reason.strip() if manual else None))
    _bump(uow, ranking)
    _history(uow, ranking.id, ranking.version, "change_class", DRAFT, DRAFT, actor,
             note=reason.strip(), changes={"unit_id": row.unit_id, "from": before, "to": klass})
    uow.commit()
    return RankingResult(ranking.id, ranking.status, ranking.version, ranking.number)


def excuse(uow: UnitOfWork, ranking_id: object, unit_id: object, actor: Actor, *,
           reason: str, expected_version: object = None) -> RankingResult:
    """Excuse a target without a confirmed observation (it stays unranked), with a reason."""
    require_inputs({"reason": reason}, ["reason"])
    if len(reason) > MAX_TEXT:
        raise ValidationError(f"at most {MAX_TEXT} characters", fields={"reason": "too long"})
    ranking = _editable(uow, ranking_id, actor, expected_version)
    row = _row(uow, ranking, unit_id)
    if row.rank is not None:
        raise ValidationError("a ranked unit needs no excuse", fields={"reason": "ranked"})
    uow.session.execute(update(RankingRow.__table__).where(
        RankingRow.__table__.c.ranking_id == ranking.id,
        RankingRow.__table__.c.unit_id == row.unit_id).values(excused=reason.strip()))
    _bump(uow, ranking)
    _history(uow, ranking.id, ranking.version, "excuse", DRAFT, DRAFT, actor,
             note=reason.strip(), changes={"unit_id": row.unit_id})
    uow.commit()
    return RankingResult(ranking.id, ranking.status, ranking.version, ranking.number)


# --- approval and publication -------------------------------------------------------------


def count_missing(uow: UnitOfWork, ranking: Ranking) -> int:
    ranking.missing = uow.session.scalar(select(func.count()).select_from(RankingRow).where(
        RankingRow.ranking_id == ranking.id, RankingRow.rank.is_(None),
        RankingRow.excused.is_(None))) or 0
    return ranking.missing


def _transition(uow: UnitOfWork, ranking_id: object, actor: Actor, event: str, *,
                expected_version: object = None, reason: str | None = None) -> RankingResult:
    ranking = get_ranking(uow, ranking_id, actor)
    if str(expected_version).isdigit() and int(expected_version) != ranking.version:
        raise Conflict("the ranking was changed by someone else; reload and try again")
    rule = RULES_BY_EVENT[event]
    ctx = uow.context()
    count_missing(uow, ranking)
    RULEBOOK.require(rule, ranking, actor, ctx, {"reason": reason})
    before, version = ranking.status, ranking.version
    RULEBOOK.fire(ranking, event, actor, ctx)
    after = ranking.status
    uow.session.expire(ranking)
    values: dict = {"status": after}
    if event == "approve":
        values.update(approved_by_id=actor.id, approved_at=ctx.now)
    elif event == "revise":
        values.update(approved_by_id=None, approved_at=None)
    elif event == "publish":
        values.update(published_at=ctx.now, **open_publication(uow, ranking))
    _bump(uow, ranking, version, **values)
    _history(uow, ranking.id, version + 1, event, before, after, actor, note=reason)
    if event == "publish":
        _publish_classes(uow, ranking)
        pairing.suggest(uow, ranking, actor)
    uow.commit()
    return RankingResult(ranking.id, after, version + 1, ranking.number)


def _publish_classes(uow: UnitOfWork, ranking: Ranking) -> None:
    """The units' classes of this cycle, and the previous version superseded."""
    table = Ranking.__table__
    uow.session.execute(update(table).where(
        table.c.cycle_id == ranking.cycle_id,
        table.c.observing_unit_id == ranking.observing_unit_id,
        table.c.status == PUBLISHED, table.c.id != ranking.id).values(
        status=SUPERSEDED, version=table.c.version + 1))
    uow.session.execute(delete(UnitClass).where(UnitClass.cycle_id == ranking.cycle_id,
                                                UnitClass.unit_id.in_(
        select(RankingRow.unit_id).where(RankingRow.ranking_id == ranking.id))))
    rows = uow.session.execute(select(RankingRow.unit_id, RankingRow.klass).where(
        RankingRow.ranking_id == ranking.id, RankingRow.klass.is_not(None))).all()
    if rows:
        uow.session.execute(insert(UnitClass), [
            {"cycle_id": ranking.cycle_id, "unit_id": u, "klass": k, "ranking_id": ranking.id}
            for u, k in rows])


def approve(uow, ranking_id, actor, *, expected_version=None) -> RankingResult:
    """Approve a draft (审定): someone of the observing unit other than its author."""
    return _transition(uow, ranking_id, actor, "approve", expected_version=expected_version)


def revise(uow, ranking_id, actor, *, reason: str, expected_version=None) -> RankingResult:
    """Take an approved ranking back to draft, saying why."""
    return _transition(uow, ranking_id, actor, "revise", expected_version=expected_version,
                       reason=reason)


def publish(uow, ranking_id, actor, *, expected_version=None) -> RankingResult:
    """Publish (公示) an approved ranking: its classes become the units' classes."""
    return _transition(uow, ranking_id, actor, "publish", expected_version=expected_version)


def class_of(session, cycle_id: int, unit_id: int) -> str | None:
    """A unit's published class in a cycle (None before publication)."""
    return session.scalar(select(UnitClass.klass).where(
        and_(UnitClass.cycle_id == cycle_id, UnitClass.unit_id == unit_id)))

