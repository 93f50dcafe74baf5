"""Dates look the same everywhere: 2026年12月15日 and 2026年12月15日 14:05 in Chinese, on
the item page and in its history, in the inbox and on a supervision record; never the
ISO 2026-12-15 (an <input type=date> may keep it in its value, which is not shown)."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re

from ledger.core.models import Item
from ledger.items import services as svc
from ledger.supervision import acts as sup

#: dates as machines write them: 2026-12-15, 2026/12/15, 12/15/26
MACHINE_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}/\d{1,2}/\d{2}\b")
CHINESE_DATETIME = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}")


def visible(html: str) -> str:
    """The page's text as read: no tags (so no attribute values), no scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def chinese(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def test_the_item_page_its_history_the_inbox_and_a_record_show_dates_the_chinese_way(
        sanhu, world, signed_in):
    with sanhu.uow() as uow:
        today = uow.today()
        item = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                  description="村务公开栏未更新")
    with sanhu.uow() as uow:  # the history keeps the deadline it set
        svc.assign(uow, item.id, world["town_T11"], responsible_user_id=world["sec_V111"].id,
                   category="deadline", deadline="10w")
    with sanhu.uow() as uow:
        svc.accept(uow, item.id, world["sec_V111"], measures="当周更新")
    with sanhu.uow() as uow:
        result = sup.record_interview(
            uow, [item.id], world["sup_K1"],
            held_at=f"{(today - dt.timedelta(days=1)).isoformat()}T09:30", place="会议室",
            interviewer="李组长", interviewee="王书记", interviewee_post="村党支部书记",
            reason="进度慢", follow_up_deadline=(today + dt.timedelta(days=20)).isoformat())
    with sanhu.uow() as uow:
        deadline = uow.session.get(Item, item.id).deadline
    assert deadline is not None

    sec = signed_in("sec_V111")
    page = visible(sec.get(f"/items/{item.id}").get_data(as_text=True))
    assert page.count(chinese(deadline)) >= 2, page  # the field and the history's entry
    assert CHINESE_DATETIME.search(page), page  # when each history entry happened
    assert not MACHINE_DATE.findall(page), MACHINE_DATE.findall(page)

    inbox = visible(sec.get("/inbox/").get_data(as_text=True))
    assert chinese(deadline) in inbox and CHINESE_DATETIME.search(inbox), inbox
    assert not MACHINE_DATE.findall(inbox), MACHINE_DATE.findall(inbox)

    record = visible(signed_in("sup_K1").get(f"/board/records/{result.record_id}")
                     .get_data(as_text=True))
    assert f"{chinese(today - dt.timedelta(days=1))} 09:30" in record, record
    assert chinese(today + dt.timedelta(days=20)) in record, record
    assert not MACHINE_DATE.findall(record), MACHINE_DATE.findall(record)


def test_english_keeps_its_own_forms(sanhu, world, signed_in):
    with sanhu.uow() as uow:
        due = uow.today() + dt.timedelta(days=40)
        item = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                  description="村务公开栏未更新")
    with sanhu.uow() as uow:
        svc.assign(uow, item.id, world["town_T11"], responsible_user_id=world["sec_V111"].id,
                   category="deadline", deadline=due.isoformat())
    sec = signed_in("sec_V111")
    sec.set_cookie("sanhu_lang", "en")
    page = visible(sec.get(f"/items/{item.id}").get_data(as_text=True))
    assert f"{due:%B} {due.day}, {due.year}" in page, page
    assert re.search(r"\d{1,2}/\d{1,2}/\d{2}, \d{1,2}:\d{2}\s?[AP]M", page), page
