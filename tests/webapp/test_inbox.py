"""The inbox page: the reminders of the sweep, the unread badge, reading, and nobody else's."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from announce_helpers import forget_announcements
from sqlalchemy import select
from web_fixtures import csrf_token

from ledger.core.models import Delivery, Notification, User
from ledger.items import services
from ledger.notify import reminders

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=SH)  # a Wednesday


def item_for_sec111(sanhu, world, description: str, deadline: dt.date) -> str:
    """An item of village V111 with sec_V111 responsible; returns its number."""
    town = world["town_T11"]
    with time_machine.travel(dt.datetime(2026, 11, 2, 9, tzinfo=SH), tick=False):
        with sanhu.uow() as uow:
            item = services.record_finding(uow, town, unit_id=world.units["V111"].id,
                                           description=description)
        with sanhu.uow() as uow:
            services.assign(uow, item.id, town, responsible_user_id=world["sec_V111"].id,
                            category="deadline", deadline=deadline)
    forget_announcements(sanhu)
    return item.number


@pytest.fixture
def swept(sanhu, world):
    """Two items of sec_V111: one 3 working days overdue, one due in 1 working day; swept at T0.

    Returns the numbers (overdue, due) and sec_V111's notification ids, newest first.
    """
    late = item_for_sec111(sanhu, world, "党员活动室制度未上墙", dt.date(2026, 11, 20))
    due = item_for_sec111(sanhu, world, "三会一课记录不全", dt.date(2026, 11, 26))
    with time_machine.travel(T0, tick=False), sanhu.uow() as uow:
        result = reminders.reminder_sweep(uow)
    assert result.notifications["1"] == 1 and result.notifications["overdue"] == 3
    return late, due, note_ids(sanhu, world["sec_V111"].id)


def note_ids(sanhu, user_id: int) -> list[int]:
    with sanhu.uow() as uow:
        return list(uow.session.scalars(select(Notification.id).where(
            Notification.user_id == user_id).order_by(Notification.id.desc())))


def read_at(sanhu, note_id: int):
    with sanhu.uow() as uow:
        return uow.session.get(Notification, note_id).read_at


def text(response) -> str:
    return response.get_data(as_text=True)


def badge(html: str) -> int | None:
    """The number in the header's unread badge (None when there is none)."""
    match = re.search(r'class="badge[^"]*unread-badge">(\d+)', html)
    return int(match.group(1)) if match else None


def test_the_village_secretary_sees_the_reminders_in_the_inbox(swept, signed_in):
    late, due, ids = swept
    client = signed_in("sec_V111")
    html = text(client.get("/inbox/"))
    assert f"逾期提醒：{late} 已逾期 3 个工作日" in html
    assert f"整改提醒：{due} 距整改时限还有 1 个工作日" in html
    assert "党员活动室制度未上墙" in html and "三会一课记录不全" in html
    # newest first, both unread, each linking to its item through the inbox
    positions = [html.index(f'id="n-{i}"') for i in ids]
    assert positions == sorted(positions)
    assert html.count("notification unread") == 2
    for note_id in ids:  # a small POST form (reading changes state: never a plain link)
        assert re.search(rf'<form method="post" action="/inbox/{note_id}/open"[^>]*>\s*'
                         r'<input type="hidden" name="csrf_token"', html)
        assert f'href="/inbox/{note_id}/open"' not in html


def test_the_header_shows_the_unread_count_on_every_page(swept, signed_in):
    client = signed_in("sec_V111")
    for path in ("/", "/ledger/", "/inbox/", "/account"):
        assert badge(text(client.get(path))) == 2, path
    assert badge(text(signed_in("sec_V112").get("/"))) is None  # nothing for them
    assert 'href="/inbox/"' in text(signed_in("sec_V112").get("/"))
    assert badge(text(signed_in("town_T11").get("/"))) == 1  # the overdue copy


def test_marking_one_as_read_needs_the_csrf_token_and_lowers_the_count(sanhu, swept, signed_in):
    _, _, (newest, oldest) = swept
    client = signed_in("sec_V111")
    assert client.post(f"/inbox/{newest}/read").status_code == 400
    assert read_at(sanhu, newest) is None
    token = csrf_token(client, "/inbox/")
    response = client.post(f"/inbox/{newest}/read", data={"csrf_token": token},
                           follow_redirects=True)
    html = text(response)
    assert "已标为已读" in html and badge(html) == 1
    assert read_at(sanhu, newest) is not None and read_at(sanhu, oldest) is None
    assert html.count("notification unread") == 1 and html.count("notification read") == 1
    with sanhu.uow() as uow:
        status = uow.session.scalar(select(Delivery.status).where(
            Delivery.notification_id == newest, Delivery.channel == "inbox"))
    assert status == "read"


def test_mark_all_as_read_clears_the_badge(sanhu, swept, signed_in):
    _, _, ids = swept
    client = signed_in("sec_V111")
    response = client.post("/inbox/read-all", data={"csrf_token": csrf_token(client, "/inbox/")},
                           follow_redirects=True)
    html = text(response)
    assert "已将 2 条消息标为已读" in html
    assert badge(html) is None and "notification unread" not in html
    assert all(read_at(sanhu, i) is not None for i in ids)
    assert "没有未读消息" in text(client.get("/inbox/?unread=1"))
    assert badge(text(signed_in("town_T11").get("/"))) == 1  # others' stay unread


def open_by_post(client, note_id: int, token: str | None = None):
    """Open a message as its button does: a POST with the inbox page's CSRF token."""
    token = token if token is not None else csrf_token(client, "/inbox/")
    return client.post(f"/inbox/{note_id}/open", data={"csrf_token": token})


def test_opening_a_reminder_lands_on_the_item_and_marks_it_read(sanhu, swept, signed_in):
    _, _, (newest, oldest) = swept
    client = signed_in("sec_V111")
    with sanhu.uow() as uow:
        item_id = uow.session.get(Notification, newest).item_id
    response = open_by_post(client, newest)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/items/{item_id}")
    assert read_at(sanhu, newest) is not None and read_at(sanhu, oldest) is None
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and badge(text(page)) == 1
    first_read = read_at(sanhu, newest)
    assert open_by_post(client, newest).status_code == 302  # again: still read, same time
    assert read_at(sanhu, newest) == first_read


def test_following_a_message_by_get_only_redirects_and_marks_nothing(sanhu, swept, signed_in):
    _, _, (newest, oldest) = swept
    client = signed_in("sec_V111")
    with sanhu.uow() as uow:
        item_id = uow.session.get(Notification, newest).item_id
    response = client.get(f"/inbox/{newest}/open")  # an old bookmark, a prefetch, an <img>
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/items/{item_id}")
    assert read_at(sanhu, newest) is None and read_at(sanhu, oldest) is None
    assert badge(text(client.get("/inbox/"))) == 2


def test_opening_by_post_needs_the_csrf_token(sanhu, swept, signed_in):
    _, _, (newest, _oldest) = swept
    client = signed_in("sec_V111")
    assert client.post(f"/inbox/{newest}/open").status_code == 400
    assert open_by_post(client, newest, token="forged").status_code == 400
    assert read_at(sanhu, newest) is None


def test_another_users_notification_is_not_found_and_stays_untouched(sanhu, swept, signed_in):
    _, _, ids = swept
    other = signed_in("sec_V112")
    token = csrf_token(other, "/inbox/")
    for note_id in ids:
        assert other.get(f"/inbox/{note_id}/open").status_code == 404
        assert open_by_post(other, note_id, token).status_code == 404
        assert other.post(f"/inbox/{note_id}/read", data={"csrf_token": token}).status_code == 404
        assert read_at(sanhu, note_id) is None
    assert other.get("/inbox/999999/open").status_code == 404
    other.post("/inbox/read-all", data={"csrf_token": token})
    assert all(read_at(sanhu, i) is None for i in ids)
    assert "暂无消息" in text(other.get("/inbox/"))


def test_the_inbox_speaks_english_when_chosen(swept, signed_in):
    late, due, _ = swept
    client = signed_in("sec_V111")
    client.set_cookie("sanhu_lang", "en")
    html = text(client.get("/inbox/"))
    assert f"Overdue by 3 working days: {late}" in html
    assert f"Reminder: 1 working day left until the deadline of {due}" in html
    assert ">Messages" in html and "Mark all as read" in html and "Unread only" in html
    assert "逾期提醒" not in html  # the stored Chinese title is not shown


def test_the_deadline_day_and_the_supervision_board_read_well_in_english(sanhu, world,
                                                                       signed_in):
    number = item_for_sec111(sanhu, world, "today", dt.date(2026, 11, 25))
    with time_machine.travel(T0, tick=False), sanhu.uow() as uow:
        reminders.reminder_sweep(uow)
    client = signed_in("sec_V111")
    client.set_cookie("sanhu_lang", "en")
    assert f"Reminder: the deadline of {number} is today" in text(client.get("/inbox/"))
    client.set_cookie("sanhu_lang", "zh_CN")
    assert f"整改提醒：今天是 {number} 的整改时限" in text(client.get("/inbox/"))


def test_messages_without_an_item_keep_their_stored_text(sanhu, world, signed_in):
    with sanhu.uow() as uow:
        reminders.insert_notification(uow, user_id=world["sec_V111"].id, kind="report",
                                      title="季度报告提醒:请报送", body="请报送县委组织部。")
    client = signed_in("sec_V111")
    client.set_cookie("sanhu_lang", "en")
    html = text(client.get("/inbox/"))
    assert "季度报告提醒:请报送" in html and "Report due" in html
    [note_id] = note_ids(sanhu, world["sec_V111"].id)
    assert f"/inbox/{note_id}/open" not in html  # nothing to open
    response = open_by_post(client, note_id)
    assert response.headers["Location"].endswith("/inbox/")
    assert read_at(sanhu, note_id) is not None


def test_the_inbox_pages_and_filters_unread(sanhu, world, signed_in):
    user_id = world["sec_V111"].id
    with sanhu.uow() as uow:
        for n in range(25):
            reminders.insert_notification(uow, user_id=user_id, kind="test",
                                          title=f"消息 {n:02d}", body="正文")
    client = signed_in("sec_V111")
    first = text(client.get("/inbox/"))
    assert first.count('class="list-group-item notification') == 20
    assert "消息 24" in first and "消息 04" not in first and "第 1 页 / 共 2 页" in first
    second = text(client.get("/inbox/?page=2"))
    assert second.count('class="list-group-item notification') == 5 and "消息 00" in second
    ids = note_ids(sanhu, user_id)
    with sanhu.uow() as uow:
        reminders.mark_read(uow, user_id, ids[:23])
    unread = text(client.get("/inbox/?unread=1"))
    assert unread.count('class="list-group-item notification') == 2
    assert "消息 01" in unread and "消息 00" in unread and "消息 02" not in unread
    # marking one from the filtered page comes back to the filtered page
    response = client.post(f"/inbox/{ids[-1]}/read",
                           data={"csrf_token": csrf_token(client, "/inbox/"), "unread": "1"})
    assert response.headers["Location"].endswith("/inbox/?unread=1")


def test_the_inbox_needs_a_signed_in_user(client):
    response = client.get("/inbox/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert 'href="/inbox/"' not in text(client.get("/login"))


def test_an_admin_has_an_inbox_for_test_messages(sanhu, world, signed_in):
    with sanhu.uow() as uow:
        admin_id = uow.session.scalar(select(User.id).where(User.username == "admin"))
    client = signed_in("admin")
    assert badge(text(client.get("/admin/"))) is None
    with sanhu.uow() as uow:
        reminders.insert_notification(uow, user_id=admin_id, kind="test", title="测试",
                                      body="正文")
    assert badge(text(client.get("/admin/"))) == 1
