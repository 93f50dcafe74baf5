"""以奖代补 (rewards instead of subsidies): per cycle and observing unit, a funds rule
applied to the published ranking gives each ranked unit an amount in yuan.

The rules (an amount per class, per rank band, or a pool split by score) and the
amounts they give are in ``funds_rules``. Units the ranking excused (no confirmed
observation) are not in the table.

Saving the rule recomputes the table in the same transaction, version-checked
like the rankings. Approval (``funds_workflow``: by a colleague, not the one who
saved the rule last) freezes the rule and the table. A later corrected ranking
does not change an approved table: the page says the table was computed from a
superseded ranking, and the unit may reopen it with a reason to compute it again.

Amounts are ``Decimal`` throughout and stored as ``Numeric(14, 2)``; totals are
added in Python, never by SQL ``SUM`` (SQLite would add floats).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

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
    FundsEvent,
    FundsPlan,
    FundsRow,
    FundsStatus,
    Ranking,
    RankingRow,
    RankingStatus,
    Unit,
)
from ledger.core.uow import UnitOfWork
from ledger.observations.access import MAX_TEXT
from ledger.results import rankings
from ledger.results.funds_rules import FEN, amounts_for, parse_rule, total_of
from ledger.results.funds_workflow import RULEBOOK, RULES_BY_EVENT
from ledger.results.workflow import STAFF

DRAFT, APPROVED = FundsStatus.DRAFT.value, FundsStatus.APPROVED.value
PUBLISHED, SUPERSEDED = RankingStatus.PUBLISHED.value, RankingStatus.SUPERSEDED.value


@dataclass(frozen=True)
class FundsResult:
    id: int
    status: str
    version: int
    total: Decimal


# --- the table ---------------------------------------------------------------------------


def _ranked(session, ranking_id: int) -> list[dict]:
    return [{"unit_id": r.unit_id, "rank": r.rank, "klass": r.klass, "score": r.score}
            for r in session.scalars(select(RankingRow).where(
                RankingRow.ranking_id == ranking_id, RankingRow.rank.is_not(None))
                .order_by(RankingRow.rank))]


def table_of(session, plan_id: int) -> list[dict]:
    """The plan's table in rank order, with the units' names."""
    return [{"unit_id": unit_id, "name": name, "rank": rank, "klass": klass, "score": score,
             "amount": amount}
            for unit_id, name, rank, klass, score, amount in session.execute(
                select(FundsRow.unit_id, Unit.name, FundsRow.rank, FundsRow.klass,
                       FundsRow.score, FundsRow.amount)
                .join(Unit, Unit.id == FundsRow.unit_id)
                .where(FundsRow.plan_id == plan_id).order_by(FundsRow.rank))]


# --- reading -------------------------------------------------------------------------------


def published_ranking(session, cycle_id: int, unit_id: int) -> Ranking | None:
    """The observing unit's published ranking of the cycle (None before, or while only
    a correction is being prepared and nothing is published yet)."""
    return session.scalar(select(Ranking).where(
        Ranking.cycle_id == cycle_id, Ranking.observing_unit_id == unit_id,
        Ranking.status == PUBLISHED).limit(1))


def plan_of(session, cycle_id: int, unit_id: int) -> FundsPlan | None:
    """The funds plan of a cycle and observing unit (one per pair), if a rule was saved."""
    return session.scalar(select(FundsPlan).where(
        FundsPlan.cycle_id == cycle_id, FundsPlan.unit_id == unit_id))


def get_ranking(uow: UnitOfWork, ranking_id: object, actor: Actor) -> Ranking:
    """A published (or superseded) ranking in the actor's scope, else ``NotFound``."""
    ranking = rankings.get_ranking(uow, ranking_id, actor)
    if ranking.status not in (PUBLISHED, SUPERSEDED):
        raise NotFound("funds follow a published ranking")
    return ranking


@dataclass
class FundsView:
    """What the funds page shows."""

    ranking: Ranking
    cycle: Cycle
    unit: Unit
    plan: FundsPlan | None
    rows: list[dict]
    total: Decimal
    #: the published ranking of the cycle now (None while none is)
    current: Ranking | None
    #: the plan was computed from a ranking that a correction has superseded
    stale: bool
    #: the observing unit's staff may change things; the events they may fire now
    staff: bool
    events: list[str]


def view(uow: UnitOfWork, ranking_id: object, actor: Actor) -> FundsView:
    """The funds rule and table of a published ranking's cycle and observing unit."""
    ranking = get_ranking(uow, ranking_id, actor)
    session = uow.session
    plan = plan_of(session, ranking.cycle_id, ranking.observing_unit_id)
    current = published_ranking(session, ranking.cycle_id, ranking.observing_unit_id)
    rows, stale, events = [], False, []
    staff = actor.role in STAFF and actor.unit_id == ranking.observing_unit_id
    if plan is not None:
        rows = table_of(session, plan.id)
        plan.ranking_current = current is not None and current.id == plan.ranking_id
        stale = not plan.ranking_current
        if staff:
            events = RULEBOOK.allowed_events(plan, actor, uow.context())
    elif staff and ranking.status == PUBLISHED:
        events = ["save"]
    return FundsView(ranking, session.get(Cycle, ranking.cycle_id),
                     session.get(Unit, ranking.observing_unit_id), plan, rows, total_of(rows),
                     current, stale, staff, events)


# --- changing ------------------------------------------------------------------------------


def _history(uow: UnitOfWork, plan_id: int, seq: int, event: str, before: str | None,
             after: str, actor: Actor, note: str | None = None,
             changes: dict | None = None) -> None:
    uow.session.execute(insert(FundsEvent), [{
        "plan_id": plan_id, "seq": seq, "event": event, "from_status": before,
        "to_status": after, "actor_id": actor.id, "actor_role": actor.role, "at": uow.now(),
        "note": note, "changes": changes}])


def _bump(uow: UnitOfWork, plan: FundsPlan, expected: int, was: str, **values) -> None:
    """Move the plan's version (and set ``values``) if it is still at ``expected`` and
    its status still ``was``; else someone changed it meanwhile."""
    table = FundsPlan.__table__
    stmt = update(table).where(table.c.id == plan.id, table.c.version == expected,
                               table.c.status == was)
    if uow.session.execute(stmt.values(version=expected + 1, **values)).rowcount != 1:
        uow.rollback()
        raise Conflict("the funds plan was changed by someone else; reload and try again")
    uow.session.expire(plan)


def _expected(plan: FundsPlan, expected_version: object) -> int:
    if str(expected_version).isdigit() and int(expected_version) != plan.version:
        raise Conflict("the funds plan was changed by someone else; reload and try again")
    return plan.version


def _write_rows(uow: UnitOfWork, plan_id: int, rows: list[dict],
                amounts: list[Decimal]) -> None:
    uow.session.execute(delete(FundsRow).where(FundsRow.plan_id == plan_id))
    if rows:
        uow.session.execute(insert(FundsRow), [
            {"plan_id": plan_id, "unit_id": r["unit_id"], "rank": r["rank"],
             "klass": r["klass"], "score": r["score"], "amount": a}
            for r, a in zip(rows, amounts, strict=True)])


def save_rule(uow: UnitOfWork, ranking_id: object, actor: Actor, data: Mapping, *,
              expected_version: object = None) -> FundsResult:
    """Save the funds rule of a published ranking's cycle and observing unit, and compute
    its table from that ranking, in one transaction.

    Only the observing unit's staff save, only while the plan is a draft; a stale
    ``expected_version`` is a ``Conflict``; a refused rule stores nothing.
    """
    ranking = get_ranking(uow, ranking_id, actor)
    if actor.role not in STAFF or actor.unit_id != ranking.observing_unit_id:
        raise PermissionDenied("only the observing unit's staff set its funds rule",
                               event="save")
    plan = plan_of(uow.session, ranking.cycle_id, ranking.observing_unit_id)
    if plan is not None and plan.status == APPROVED:
        raise InvalidTransition("an approved funds table is frozen", event="save",
                                status=APPROVED)
    if ranking.status != PUBLISHED:
        raise InvalidTransition("the ranking has been superseded by a correction",
                                event="save", status=ranking.status)
    expected = _expected(plan, expected_version) if plan is not None else None
    rule = parse_rule(data)
    rows = _ranked(uow.session, ranking.id)
    amounts = amounts_for(rule, rows)
    total = sum(amounts, Decimal(0)).quantize(FEN)
    now = uow.now()
    changes = {"rule": rule, "ranking_id": ranking.id, "total": str(total)}
    if plan is None:
        plan = FundsPlan(cycle_id=ranking.cycle_id, unit_id=ranking.observing_unit_id,
                         ranking_id=ranking.id, status=DRAFT, rule=rule,
                         created_by_id=actor.id, saved_by_id=actor.id, saved_at=now)
        uow.session.add(plan)
        try:
            uow.flush()
        except IntegrityError:
            uow.rollback()
            raise Conflict("the funds plan was changed by someone else; reload and try again") \
                from None
        before, seq = None, plan.version
    else:
        RULEBOOK.require(RULES_BY_EVENT["save"], plan, actor, uow.context(), {})
        _bump(uow, plan, expected, DRAFT, rule=rule, ranking_id=ranking.id,
              saved_by_id=actor.id, saved_at=now)
        before, seq = DRAFT, expected + 1
    _write_rows(uow, plan.id, rows, amounts)
    _history(uow, plan.id, seq, "save", before, DRAFT, actor, changes=changes)
    uow.commit()
    return FundsResult(plan.id, DRAFT, seq, total)


def _transition(uow: UnitOfWork, ranking_id: object, actor: Actor, event: str, *,
                expected_version: object = None, reason: str | None = None) -> FundsResult:
    ranking = get_ranking(uow, ranking_id, actor)
    plan = plan_of(uow.session, ranking.cycle_id, ranking.observing_unit_id)
    if plan is None:
        raise NotFound("no funds rule has been saved")
    expected = _expected(plan, expected_version)
    if reason is not None and len(reason) > MAX_TEXT:
        raise ValidationError(f"at most {MAX_TEXT} characters", fields={"reason": "too long"})
    current = published_ranking(uow.session, plan.cycle_id, plan.unit_id)
    plan.ranking_current = current is not None and current.id == plan.ranking_id
    ctx = uow.context()
    RULEBOOK.require(RULES_BY_EVENT[event], plan, actor, ctx, {"reason": reason})
    before = plan.status
    RULEBOOK.fire(plan, event, actor, ctx)
    after = plan.status
    uow.session.expire(plan)
    values: dict = {"status": after}
    if event == "approve":
        values.update(approved_by_id=actor.id, approved_at=ctx.now)
    else:
        values.update(approved_by_id=None, approved_at=None)
    _bump(uow, plan, expected, before, **values)
    _history(uow, plan.id, expected + 1, event, before, after, actor,
             note=(reason or "").strip() or None)
    uow.commit()
    rows = table_of(uow.session, plan.id)
    return FundsResult(plan.id, after, expected + 1, total_of(rows))


def approve(uow, ranking_id, actor, *, expected_version=None) -> FundsResult:
    """Approve (审定) the funds table: a colleague of whoever saved the rule last. The
    rule and the table are frozen from then on."""
    return _transition(uow, ranking_id, actor, "approve", expected_version=expected_version)


def reopen(uow, ranking_id, actor, *, reason: str, expected_version=None) -> FundsResult:
    """Take an approved table back to draft, saying why: only once the ranking it was
    computed from has been superseded by a corrected publication."""
    return _transition(uow, ranking_id, actor, "reopen", expected_version=expected_version,
                       reason=reason)
