"""Properties of the observation score (README, "The score"), checked with Hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.core.errors import ValidationError
from ledger.observations.scoring import RESULTS, Line, Rules, compute, parse_rules

KEYS = [f"basic:{n}" for n in range(1, 43)]
lines_st = st.lists(st.builds(
    Line, standard_key=st.sampled_from(KEYS), category_key=st.sampled_from(
        [f"basic:{c}" for c in range(1, 9)]),
    result=st.one_of(st.none(), st.sampled_from(RESULTS)),
    deduction=st.one_of(st.none(), st.floats(0, 100)), counted=st.booleans()), max_size=65)
scores_st = st.lists(st.floats(0, 100), max_size=8)
rules_st = st.builds(Rules, partial=st.floats(0, 10), fail=st.floats(0, 20),
                     caps=st.dictionaries(st.sampled_from([f"basic:{c}" for c in range(1, 9)]),
                                          st.floats(0, 40), max_size=8))
weight_st = st.integers(0, 100)


@given(lines_st, scores_st, weight_st, rules_st)
def test_the_score_is_always_between_0_and_100(lines, scores, weight, rules):
    score = compute(lines, scores, weight, rules)
    assert 0 <= score.total <= 100 and 0 <= score.checklist <= 100


@given(lines_st, scores_st, weight_st, rules_st, st.sampled_from(KEYS),
       st.sampled_from(["partial", "fail"]), st.one_of(st.none(), st.floats(0, 100)))
def test_adding_a_deduction_never_raises_the_score(lines, scores, weight, rules, key, result,
                                                   points):
    before = compute(lines, scores, weight, rules)
    after = compute([*lines, Line(key, "basic:1", result, points)], scores, weight, rules)
    assert after.total <= before.total and after.checklist <= before.checklist


@given(lines_st, st.lists(st.floats(0, 100), min_size=1, max_size=8), weight_st, rules_st)
def test_the_weights_are_respected(lines, scores, weight, rules):
    score = compute(lines, scores, weight, rules)
    expected = (score.checklist * weight + score.evaluation * (100 - weight)) / 100
    assert score.total == pytest.approx(expected, abs=0.02)
    assert score.evaluation == pytest.approx(sum(scores) / len(scores), abs=0.01)


@given(lines_st, rules_st)
def test_without_evaluations_the_checklist_stands_alone(lines, rules):
    score = compute(lines, [], 70, rules)
    assert score.total == score.checklist and score.evaluation is None


def test_defaults_caps_and_overrides():
    fail, partial = Line("basic:1", "basic:1", "fail"), Line("basic:2", "basic:1", "partial")
    assert compute([fail, partial], [60]).total == pytest.approx((96 * 70 + 60 * 30) / 100)
    capped = Rules(caps={"basic:1": 2.5})
    assert compute([fail, partial], [], rules=capped).checklist == 97.5
    own = Rules(standards={"basic:1": {"fail": 10}})
    assert compute([fail], [], rules=own).checklist == 90
    # what the observer wrote beats the default; not counted and na take nothing
    assert compute([Line("basic:1", "basic:1", "fail", 0.5)], []).checklist == 99.5
    assert compute([Line("basic:1", "basic:1", "fail", counted=False),
                    Line("basic:3", "basic:1", "na", 5)], []).checklist == 100


def test_bad_rules_are_refused_with_the_entry_named():
    with pytest.raises(ValidationError) as bad:
        parse_rules({"caps": {"basic:1": "-1"}})
    assert bad.value.fields == {"caps.basic:1": "out of range"}
    with pytest.raises(ValidationError):
        parse_rules({"fail": "三"})
