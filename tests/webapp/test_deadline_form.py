"""The deadline field accepts deadlines the way people type them in China, and refuses
past ones and ones more than two years ahead with the reason, keeping what was typed.

The record page, an item's assign form and the live hint all use ``DeadlineSpec.parse``
and ``WorkCalendar.deadline``; these tests drive them with the Flask test client.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib

import pytest
from sqlalchemy import select
from test_items import post_event
from web_fixtures import csrf_token

from ledger.core.models import Item
from ledger.items import services as svc

PAST = "整改时限不能早于今天。"
TOO_FAR = "整改时限不能超过今后两年。"


def today(sanhu) -> dt.date:
    with sanhu.uow() as uow:
        return uow.today()


def resolved(sanhu, raw: str) -> dt.date:
    with sanhu.uow() as uow:
        return svc.preview_deadline(uow, raw).date


def record(client, world, deadline: str, **extra):
    return client.post("/items/new", data={
        "csrf_token": csrf_token(client, "/items/new"), "unit_id": world.units["V111"].id,
        "standard_id": 0, "cycle_id": 0, "source": "observation", "severity": "normal",
        "description": "制度未上墙", "category": "deadline", "deadline": deadline, **extra})


def written(day: dt.date) -> dict[str, str]:
    return {"iso": day.isoformat(), "slashes": f"{day.year}/{day.month}/{day.day}",
            "chinese": f"{day.year}年{day.month}月{day.day}日",
            "month and day": f"{day.month}月{day.day}日"}


@pytest.mark.parametrize("form", ["iso", "slashes", "chinese", "month and day"])
def test_a_date_in_each_form_records_that_deadline(sanhu, world, signed_in, form):
    day = today(sanhu) + dt.timedelta(days=40)
    response = record(signed_in("town_T11"), world, written(day)[form])
    assert response.status_code == 302
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(Item.deadline)) == day


@pytest.mark.parametrize(("typed", "same_as"), [("10天", "10d"), ("10日", "10d"),
                                                ("10个工作日", "10w"), ("10工作日", "10w"),
                                                ("１０个工作日", "10w")])
def test_days_and_working_days_in_chinese_record_the_counted_deadline(sanhu, world, signed_in,
                                                                      typed, same_as):
    expected = resolved(sanhu, same_as)
    assert (expected - today(sanhu)).days >= (10 if same_as == "10d" else 14)
    assert record(signed_in("town_T11"), world, typed).status_code == 302
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(Item.deadline)) == expected


@pytest.mark.parametrize("when", ["past", "too far"])
def test_a_refused_deadline_says_why_and_keeps_everything_typed(sanhu, world, signed_in, when):
    now = today(sanhu)
    if when == "past":
        typed, reason = f"{now.year - 1}年{now.month}月1日", PAST
    else:
        typed, reason = (now + dt.timedelta(days=3 * 366)).strftime("%Y/%m/%d"), TOO_FAR
    client = signed_in("town_T11")
    for extra in ({}, {"preview": "1"}):  # sent, or only previewed
        response = record(client, world, typed, **extra)
        page = html_lib.unescape(response.get_data(as_text=True))
        assert response.status_code == (200 if extra else 400)
        assert reason in page
        assert f'value="{typed}"' in page and "制度未上墙" in page
        assert "整改时限：" not in page  # no date shown as if it were fine
    with sanhu.uow() as uow:
        assert uow.session.scalar(select(Item.id)) is None
    fine = html_lib.unescape(record(client, world, "10天", preview="1").get_data(as_text=True))
    assert "整改时限：" in fine and reason not in fine


def test_the_live_hint_gives_the_date_or_the_reason_in_chinese(sanhu, signed_in):
    client = signed_in("town_T11")
    now = today(sanhu)
    ok = client.get("/items/deadline-preview", query_string={"deadline": "10个工作日"}).json
    assert ok["ok"] and ok["date"] == resolved(sanhu, "10w").isoformat()
    for typed, reason in ((f"{now.year - 1}-01-01", PAST), ("800天", TOO_FAR),
                          ((now + dt.timedelta(days=3 * 366)).strftime("%Y年%m月%d日"),
                           TOO_FAR)):
        answer = client.get("/items/deadline-preview", query_string={"deadline": typed})
        assert answer.status_code == 400
        assert answer.json == {"ok": False, "message": reason}
    help_text = client.get("/items/new").get_data(as_text=True)
    assert "w 表示工作日" in help_text and "10个工作日" in help_text


def test_the_assign_form_takes_working_days_in_chinese_and_keeps_a_refused_one(
        sanhu, world, signed_in):
    with sanhu.uow() as uow:
        item = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                  description="党员活动室制度未上墙")
    town = signed_in("town_T11")
    too_far = f"{today(sanhu).year + 3}年1月1日"
    response = post_event(town, item.id, "assign", {
        "responsible_user_id": world["sec_V111"].id, "category": "deadline",
        "deadline": too_far, "note": "请尽快整改"})
    page = html_lib.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert TOO_FAR in page and f'value="{too_far}"' in page and "请尽快整改" in page
    response = post_event(town, item.id, "assign", {
        "responsible_user_id": world["sec_V111"].id, "category": "deadline",
        "deadline": "5个工作日"})
    assert response.status_code == 302
    with sanhu.uow() as uow:
        assert uow.session.get(Item, item.id).deadline == svc.preview_deadline(uow, "5w").date
