"""The class rule (示范/中间/后进) with Hypothesis: quotas add up, bands follow the rank
order (ties are already ordered by the documented rule), thresholds are respected."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.core.errors import ValidationError
from ledger.results.classes import ClassRule, band_sizes, classes_for, parse_rule, round_half_up

quota = st.builds(ClassRule, mode=st.just("quota"), top=st.floats(0, 60),
                  bottom=st.floats(0, 40))
scores = st.lists(st.floats(0, 100), max_size=60).map(lambda s: sorted(s, reverse=True))


@given(scores, quota)
def test_the_quota_bands_add_up_and_follow_the_rank_order(ranked, rule):
    result = classes_for(ranked, rule)
    top, bottom = band_sizes(len(ranked), rule)
    assert result.count("demonstration") == top and result.count("lagging") == bottom
    assert result.count("middle") == len(ranked) - top - bottom
    order = {"demonstration": 0, "middle": 1, "lagging": 2}
    assert [order[c] for c in result] == sorted(order[c] for c in result)
    assert top == min(len(ranked), round_half_up(len(ranked) * rule.top / 100))


@given(scores, st.floats(50, 100), st.floats(0, 49.99))
def test_thresholds_are_respected(ranked, high, low):
    rule = ClassRule(mode="threshold", demonstration_min=high, lagging_below=low)
    for score, klass in zip(ranked, classes_for(ranked, rule), strict=True):
        assert (klass == "demonstration") == (score >= high)
        assert (klass == "lagging") == (score < low)


def test_the_default_rule_rounds_half_up():
    # 17 villages: 20 % is 3.4 → 3 示范, 10 % is 1.7 → 2 后进; 15: 3 and 1.5 → 2
    assert band_sizes(17, ClassRule()) == (3, 2)
    assert band_sizes(15, ClassRule()) == (3, 2)
    assert band_sizes(2, ClassRule()) == (0, 0)


@pytest.mark.parametrize("data, field", [
    ({"top": 80, "bottom": 30}, "top"),
    ({"mode": "threshold", "demonstration_min": 60, "lagging_below": 70}, "demonstration_min"),
    ({"top": "-1"}, "top"), ({"bottom": "十"}, "bottom"), ({"mode": "lottery"}, "mode")])
def test_bad_rules_are_refused_naming_the_field(data, field):
    with pytest.raises(ValidationError) as bad:
        parse_rule(data)
    assert field in bad.value.fields
