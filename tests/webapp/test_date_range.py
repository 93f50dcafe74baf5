"""Dates outside 2000-01-01 .. ten years from today are refused beside the field, never a 500.

The range is ``ledger.calendar.bounds``; it guards the supervision acts' dates
and the deadlines of items (given as a date, N days or N working days).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from test_board import items, make_overdue, post_act  # noqa: F401  (the ``items`` fixture)

from ledger.calendar import bounds
from ledger.calendar.workdays import DeadlineSpec
from ledger.core.errors import ValidationError

MESSAGE = "请输入2000年1月1日至今后十年之间的日期"
FAR = ("0001-01-01", "1999-12-31", "9999-12-31")


def message_beside(html: str, field: str) -> str:
    """The first error shown after the field's input, before the next field."""
    tail = html.split(f'name="{field}"', 1)[1]
    tail = tail.split(' name="', 1)[0]
    found = re.search(r'field-error">([^<]*)<', tail)
    return found.group(1) if found else ""


@pytest.mark.parametrize("action, field, data", [
    ("interview", "held_at", {"place": "会议室", "interviewer": "李组长", "interviewee": "王书记",
                              "interviewee_post": "村党支部书记", "reason": "逾期"}),
    ("interview", "follow_up_deadline", {
        "held_at": "2026-11-20T09:30", "place": "会议室", "interviewer": "李组长",
        "interviewee": "王书记", "interviewee_post": "村党支部书记", "reason": "逾期"}),
    ("inquiry", "reply_due", {"question": "为何逾期?"}),
    ("listing", "term_until", {"reason": "逾期严重"}),
])
def test_a_supervision_date_far_outside_the_range_is_refused_beside_its_field(
        signed_in, items, action, field, data):  # noqa: F811
    client = signed_in("sup_K1")
    for far in FAR:
        value = f"{far}T09:30" if field == "held_at" else far
        response = post_act(client, action, [items["a"]], {**data, field: value})
        html = response.get_data(as_text=True)
        assert response.status_code == 400, (far, response.status_code)
        if far != "1999-12-31" or field == "held_at":  # else "choose a date after today"
            assert MESSAGE in message_beside(html, field), far


def test_the_range_runs_from_2000_to_ten_years_after_today():
    today = dt.date(2028, 2, 29)
    assert bounds.latest(today) == dt.date(2038, 2, 28)
    assert bounds.within(dt.date(2000, 1, 1), today, "d") == dt.date(2000, 1, 1)
    assert bounds.within(dt.datetime(2038, 2, 28, 23, 59), today, "d").year == 2038
    for day in (dt.date(1999, 12, 31), dt.date(2038, 3, 1), dt.date.min, dt.date.max):
        with pytest.raises(ValidationError) as refused:
            bounds.within(day, today, "deadline")
        assert refused.value.fields == {"deadline": bounds.OUT_OF_RANGE}


@pytest.mark.parametrize("raw", ["3654d", "2501w", "2147483648d", "9" * 40 + "w",
                                 "9999-12-31", "0001-01-01"])
def test_a_deadline_beyond_the_range_is_refused_when_resolved(sanhu, raw):
    with sanhu.uow() as uow, pytest.raises(ValidationError) as refused:
        uow.calendar.resolve(DeadlineSpec.parse(raw), uow.today())
    assert refused.value.fields == {"deadline": bounds.OUT_OF_RANGE}


def test_deadlines_within_the_range_still_resolve(sanhu):
    with sanhu.uow() as uow:
        for raw in ("3653d", "2500w", "10d", "5w", (uow.today() + dt.timedelta(30)).isoformat()):
            assert uow.calendar.resolve(DeadlineSpec.parse(raw), uow.today()).date \
                >= uow.today()
