"""以奖代补 through the services, on SQLite and PostgreSQL: each kind of rule, the pool
split, approval by a colleague, the frozen table, refused input with nothing saved,
stale versions and scope."""

from __future__ import annotations

from decimal import Decimal

import pytest
from funds_helpers import publish_correction, publish_t11
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from ledger.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ledger.core.models import FundsEvent, FundsPlan, FundsRow, RankingRow
from ledger.results import funds, funds_rules

CLASS_RULE = {"kind": "class", "demonstration": "5000", "middle": "2000", "lagging": "500.5"}


@pytest.fixture
def setup(any_sanhu, any_world):
    return publish_t11(any_sanhu, any_world)


def table(sanhu, setup) -> dict[str, Decimal]:
    with sanhu.uow() as uow:
        view = funds.view(uow, setup["ranking"], setup["town"])
        return {r["name"]: r["amount"] for r in view.rows}


def counts(sanhu) -> tuple[int, int, int]:
    with sanhu.uow() as uow:
        return tuple(uow.session.scalar(select(func.count()).select_from(model))
                     for model in (FundsPlan, FundsRow, FundsEvent))


def save(sanhu, setup, data, actor=None, **kw):
    with sanhu.uow() as uow:
        return funds.save_rule(uow, setup["ranking"], actor or setup["town"], data, **kw)


def test_an_amount_per_class_per_band_or_a_pool_split_by_score(any_sanhu, setup):
    saved = save(any_sanhu, setup, CLASS_RULE)
    assert (saved.status, saved.version, saved.total) == ("draft", 1, Decimal("5500.50"))
    assert table(any_sanhu, setup) == {"村112": Decimal("5000.00"), "村111": Decimal("500.50")}
    saved = save(any_sanhu, setup, {"kind": "band", "bands": [
        {"from_rank": "1", "to_rank": "1", "amount": "3000"},
        {"from_rank": "", "to_rank": "", "amount": ""},  # a blank row is skipped
        {"from_rank": "2", "to_rank": "10", "amount": "1,000.25"}]})
    assert saved.version == 2 and saved.total == Decimal("4000.25")
    assert table(any_sanhu, setup) == {"村112": Decimal("3000.00"), "村111": Decimal("1000.25")}
    # ranks after the last band get nothing
    save(any_sanhu, setup, {"kind": "band", "bands": [
        {"from_rank": "1", "to_rank": "1", "amount": "3000"}]})
    assert table(any_sanhu, setup)["村111"] == Decimal("0.00")
    with any_sanhu.uow() as uow:
        scores = dict(uow.session.execute(select(RankingRow.rank, RankingRow.score).where(
            RankingRow.ranking_id == setup["ranking"])).all())
    saved = save(any_sanhu, setup, {"kind": "pool", "total": "10000", "who": "all"})
    got = table(any_sanhu, setup)
    assert saved.total == Decimal("10000.00") == sum(got.values())
    first = Decimal(scores[1]) / Decimal(scores[1] + scores[2]) * 10000
    assert abs(got["村112"] - first) <= Decimal("0.01") and got["村112"] > got["村111"]
    save(any_sanhu, setup, {"kind": "pool", "total": "10000", "who": "not_lagging"})
    assert table(any_sanhu, setup) == {"村112": Decimal("10000.00"), "村111": Decimal("0.00")}
    with any_sanhu.uow() as uow:
        events = uow.session.execute(select(FundsEvent.seq, FundsEvent.event).order_by(
            FundsEvent.seq)).all()
        plan = uow.session.scalar(select(FundsPlan))
    assert [e.event for e in events] == ["save"] * 5 and [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert plan.rule == {"kind": "pool", "total": "10000.00", "who": "not_lagging"}
    assert funds_rules.as_input(plan.rule)["total"] == "10000.00"


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=10_000_000_000),
       st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=60))
def test_a_pool_is_split_to_the_fen_and_adds_up_exactly(total, weights):
    shares = funds_rules.split_pool(total, weights)
    assert sum(shares) == total and len(shares) == len(weights)
    whole = sum(weights) or len(weights)
    for share, weight in zip(shares, weights, strict=True):
        exact_floor = total * (weight if sum(weights) else 1) // whole
        assert exact_floor <= share <= exact_floor + 1
    # the left-over fen go to the first ranks
    extra = [s - total * (w if sum(weights) else 1) // whole for s, w in zip(shares, weights,
                                                                               strict=True)]
    assert extra == sorted(extra, reverse=True)


def test_a_colleague_approves_and_the_table_is_then_frozen(any_sanhu, setup):
    town, leader = setup["town"], setup["leader"]
    save(any_sanhu, setup, CLASS_RULE)
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition, match="saved"):
        funds.approve(uow, setup["ranking"], town)
    with any_sanhu.uow() as uow:
        approved = funds.approve(uow, setup["ranking"], leader, expected_version=1)
    assert (approved.status, approved.version, approved.total) == ("approved", 2,
                                                                   Decimal("5500.50"))
    before = counts(any_sanhu), table(any_sanhu, setup)
    for who in (town, leader):
        with any_sanhu.uow() as uow, pytest.raises(InvalidTransition, match="frozen"):
            funds.save_rule(uow, setup["ranking"], who, {"kind": "pool", "total": "1"})
    # the ranking is still the published one: nothing to reopen for
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition, match="frozen"):
        funds.reopen(uow, setup["ranking"], town, reason="想改金额")
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition):
        funds.approve(uow, setup["ranking"], leader)
    assert (counts(any_sanhu), table(any_sanhu, setup)) == before
    with any_sanhu.uow() as uow:
        plan = uow.session.scalar(select(FundsPlan))
        assert (plan.approved_by_id, plan.saved_by_id) == (leader.id, town.id)


@pytest.mark.parametrize(("data", "field", "code"), [
    ({**CLASS_RULE, "middle": "-1"}, "middle", "negative amount"),
    ({**CLASS_RULE, "lagging": "五百"}, "lagging", "not a number"),
    ({**CLASS_RULE, "lagging": "NaN"}, "lagging", "not a number"),
    ({**CLASS_RULE, "demonstration": "100000000.01"}, "demonstration", "amount too large"),
    ({**CLASS_RULE, "demonstration": "1e12"}, "demonstration", "amount too large"),
    ({**CLASS_RULE, "demonstration": "10.005"}, "demonstration", "too many decimals"),
    ({**CLASS_RULE, "middle": " "}, "middle", "required"),
    ({"kind": "pool", "total": "0"}, "total", "pool not positive"),
    ({"kind": "pool", "total": "-100"}, "total", "negative amount"),
    ({"kind": "pool", "total": "100", "who": "everybody"}, "who", "unknown"),
    ({"kind": "band", "bands": []}, "bands", "no band"),
    ({"kind": "band", "bands": [{"from_rank": "1", "to_rank": "3", "amount": "9"},
                                {"from_rank": "3", "to_rank": "5", "amount": "1"}]},
     "bands-1-from_rank", "bands overlap"),
    ({"kind": "band", "bands": [{"from_rank": "1", "to_rank": "3", "amount": "9"},
                                {"from_rank": "5", "to_rank": "9", "amount": "1"}]},
     "bands-1-from_rank", "bands gap"),
    ({"kind": "band", "bands": [{"from_rank": "2", "to_rank": "3", "amount": "9"}]},
     "bands-0-from_rank", "bands gap"),
    ({"kind": "band", "bands": [{"from_rank": "4", "to_rank": "6", "amount": "9"},
                                {"from_rank": "1", "to_rank": "3", "amount": "1"}]},
     "bands-0-from_rank", "bands gap"),
    ({"kind": "band", "bands": [{"from_rank": "1", "to_rank": "3", "amount": "9"},
                                {"from_rank": "4", "to_rank": "6", "amount": "1"},
                                {"from_rank": "2", "to_rank": "2", "amount": "1"}]},
     "bands-2-from_rank", "bands out of order"),
    ({"kind": "band", "bands": [{"from_rank": "3", "to_rank": "1", "amount": "9"}]},
     "bands-0-to_rank", "band reversed"),
    ({"kind": "band", "bands": [{"from_rank": "1", "to_rank": "x", "amount": "-5"}]},
     "bands-0-amount", "negative amount"),
    ({"kind": "lottery"}, "kind", "unknown"),
])
def test_bad_rules_are_refused_and_nothing_is_half_saved(any_sanhu, setup, data, field, code):
    with any_sanhu.uow() as uow, pytest.raises(ValidationError) as refused:
        funds.save_rule(uow, setup["ranking"], setup["town"], data)
    assert refused.value.fields[field] == code
    assert counts(any_sanhu) == (0, 0, 0)
    save(any_sanhu, setup, CLASS_RULE)
    before = counts(any_sanhu), table(any_sanhu, setup)
    with any_sanhu.uow() as uow, pytest.raises(ValidationError):
        funds.save_rule(uow, setup["ranking"], setup["town"], data, expected_version=1)
    assert (counts(any_sanhu), table(any_sanhu, setup)) == before
    with any_sanhu.uow() as uow:
        assert uow.session.scalar(select(FundsPlan.version)) == 1


def test_nobody_to_share_the_pool_is_refused(any_sanhu, any_world, setup):
    with any_sanhu.uow() as uow:
        # only 后进 units left: make both villages lagging through the stored rows
        uow.session.execute(text("UPDATE ranking_rows SET klass = 'lagging'"))
        uow.commit()
    with any_sanhu.uow() as uow, pytest.raises(ValidationError) as refused:
        funds.save_rule(uow, setup["ranking"], setup["town"],
                        {"kind": "pool", "total": "100", "who": "not_lagging"})
    assert refused.value.fields == {"who": "nobody shares"}
    assert counts(any_sanhu) == (0, 0, 0)


def test_a_stale_form_is_a_conflict(any_sanhu, setup):
    save(any_sanhu, setup, CLASS_RULE)
    save(any_sanhu, setup, {**CLASS_RULE, "middle": "1"}, expected_version="1")
    with any_sanhu.uow() as uow, pytest.raises(Conflict):
        funds.save_rule(uow, setup["ranking"], setup["town"], CLASS_RULE, expected_version="1")
    with any_sanhu.uow() as uow, pytest.raises(Conflict):
        funds.approve(uow, setup["ranking"], setup["leader"], expected_version="1")
    assert table(any_sanhu, setup)["村111"] == Decimal("500.50")
    with any_sanhu.uow() as uow:
        assert uow.session.scalar(select(FundsPlan.status)) == "draft"


def test_who_sees_and_who_sets_the_funds(any_sanhu, any_world, setup):
    w = any_world
    with any_sanhu.uow() as uow, pytest.raises(PermissionDenied):
        funds.save_rule(uow, setup["ranking"], w["county_K1"], CLASS_RULE)
    for name in ("town_T12", "sec_V111", "county_K2"):
        with any_sanhu.uow() as uow, pytest.raises(NotFound):
            funds.view(uow, setup["ranking"], w[name])
        with any_sanhu.uow() as uow, pytest.raises(NotFound):
            funds.save_rule(uow, setup["ranking"], w[name], CLASS_RULE)
    save(any_sanhu, setup, CLASS_RULE)
    for name in ("county_K1", "city", "sup_K1"):
        with any_sanhu.uow() as uow:
            seen = funds.view(uow, setup["ranking"], w[name])
            assert seen.total == Decimal("5500.50") and not seen.staff and not seen.events
    with any_sanhu.uow() as uow, pytest.raises(PermissionDenied):
        funds.approve(uow, setup["ranking"], w["county_K1"])
    for statement in ("UPDATE funds_events SET note = 'x'", "DELETE FROM funds_events"):
        with any_sanhu.uow() as uow, pytest.raises(DBAPIError, match="append-only"):
            uow.session.execute(text(statement))


def test_a_draft_ranking_has_no_funds(any_sanhu, setup):
    from ledger.results import rankings

    with any_sanhu.uow() as uow:
        fix = rankings.compute(uow, setup["cycle"], setup["town"], reason="更正")
    with any_sanhu.uow() as uow, pytest.raises(NotFound):
        funds.view(uow, fix.id, setup["town"])


def test_a_corrected_ranking_leaves_the_approved_table_and_may_reopen_it(any_sanhu, setup):
    town, leader = setup["town"], setup["leader"]
    save(any_sanhu, setup, CLASS_RULE)
    with any_sanhu.uow() as uow:
        funds.approve(uow, setup["ranking"], leader)
    fix = publish_correction(any_sanhu, setup)
    with any_sanhu.uow() as uow:
        seen = funds.view(uow, fix, town)
        assert seen.stale and seen.plan.ranking_id == setup["ranking"]
        assert seen.total == Decimal("5500.50") and seen.events == ["reopen"]
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition, match="frozen"):
        funds.save_rule(uow, fix, town, CLASS_RULE)
    with any_sanhu.uow() as uow, pytest.raises(ValidationError):
        funds.reopen(uow, fix, town, reason=" ")
    with any_sanhu.uow() as uow:
        assert funds.reopen(uow, fix, town, reason="排名已更正，重新核定").status == "draft"
    # a draft computed from the superseded ranking is not approved as it is
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition, match="corrected"):
        funds.approve(uow, fix, leader)
    with any_sanhu.uow() as uow, pytest.raises(InvalidTransition, match="superseded"):
        funds.save_rule(uow, setup["ranking"], town, CLASS_RULE)
    with any_sanhu.uow() as uow:
        funds.save_rule(uow, fix, town, {**CLASS_RULE, "middle": "1500"})
    with any_sanhu.uow() as uow:
        assert funds.approve(uow, fix, leader).status == "approved"
    with any_sanhu.uow() as uow:
        seen = funds.view(uow, setup["ranking"], town)  # the old link shows the same plan
        assert not seen.stale and seen.plan.ranking_id == fix
        events = uow.session.scalars(select(FundsEvent.event).order_by(FundsEvent.seq)).all()
    assert events == ["save", "approve", "reopen", "save", "approve"]
