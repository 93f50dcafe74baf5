"""The inbox and the jobs page in Chromium, on the demo data.

The village secretary, on a phone, sees the reminder of the daily sweep as a
badge in the header, opens the inbox and the item from there (a POST: opening
marks it read), and the badge goes away.  The admin sees the scheduled jobs and runs one.
"""

from __future__ import annotations

import datetime as dt
import re

from browser_fixtures import DESKTOP, PHONE, demo_session, submit
from playwright.sync_api import expect
from sqlalchemy import select

from ledger.core.actors import Actor
from ledger.core.models import Item, Notification, User
from ledger.items import services
from ledger.notify import reminders


def actor(uow, username: str) -> Actor:
    return Actor.of(uow.session.scalar(select(User).where(User.username == username)))


def remind_sec111(sanhu) -> tuple[int, str]:
    """A new item of sec111's village, swept one working day before its deadline.

    Returns the item's id and number.  Other reminders the demo data gets on
    that day are marked read first, so the badge counts this one reminder.
    """
    with sanhu.uow() as uow:
        town, sec = actor(uow, "town11"), actor(uow, "sec111")
        item = services.record_finding(uow, town, unit_id=sec.unit_id,
                                       description="党员活动室“三会一课”记录不全")
    with sanhu.uow() as uow:
        services.assign(uow, item.id, town, responsible_user_id=sec.id, category="deadline",
                        deadline="10w")
    with sanhu.uow() as uow:
        deadline = uow.session.get(Item, item.id).deadline
        day = deadline - dt.timedelta(days=1)
        while not uow.calendar.is_workday(day):
            day -= dt.timedelta(days=1)
        reminders.mark_read(uow, sec.id)
        result = reminders.reminder_sweep(uow, today=day)
        assert result.notifications["1"] >= 1
        ours = uow.session.scalars(select(Notification.id).where(
            Notification.user_id == sec.id, Notification.item_id == item.id,
            Notification.kind == "reminder")).all()  # besides the assignment's announcement
        assert len(ours) == 1
        others = uow.session.scalars(select(Notification.id).where(
            Notification.user_id == sec.id, Notification.id != ours[0])).all()
        reminders.mark_read(uow, sec.id, list(others))
    return item.id, item.number


def test_the_secretary_opens_the_reminder_from_the_inbox_on_a_phone(demo_sanhu, demo_server,
                                                                      browser, screenshot):
    item_id, number = remind_sec111(demo_sanhu)
    ctx, phone, errors = demo_session(browser, demo_server, "sec111", PHONE)
    badge = phone.locator(".unread-badge")
    expect(badge).to_be_visible()  # in the header, without opening the menu
    expect(badge).to_have_text(re.compile(r"^\s*1\b"))
    phone.locator("a.inbox-link").click()
    phone.wait_for_url(re.compile(r".*/inbox/$"))
    note = phone.locator(".notification.unread")
    expect(note).to_have_count(1)
    expect(note).to_contain_text(f"整改提醒：{number} 距整改时限还有 1 个工作日")
    screenshot(phone, "inbox-phone")
    # the title is a button of a small POST form: opening marks it read
    submit(phone, note.get_by_role("button", name=re.compile(number)))
    phone.wait_for_url(re.compile(rf".*/items/{item_id}$"))
    expect(phone.locator("#item-number")).to_have_text(number)
    expect(phone.locator(".unread-badge")).to_have_count(0)
    phone.locator("a.inbox-link").click()
    phone.wait_for_url(re.compile(r".*/inbox/$"))
    expect(phone.locator(".notification.unread")).to_have_count(0)
    assert not errors, errors
    ctx.close()


def test_the_admin_runs_a_job_and_changes_the_reminder_offsets(demo_server, browser, screenshot):
    ctx, page, errors = demo_session(browser, demo_server, "admin", DESKTOP)
    page.goto(f"{demo_server}/admin/")
    page.get_by_role("link", name="定时任务").first.click()
    page.wait_for_url(re.compile(r".*/admin/jobs$"))
    rows = page.locator("tr.job")
    expect(rows).to_have_count(10)
    expect(page.locator("#job-observation_sweep")).to_contain_text("观摩提醒")
    row = page.locator("#job-report_reminders")
    expect(row).to_contain_text("每天 09:00")
    expect(row).to_contain_text("从未执行")
    submit(page, row.get_by_role("button", name="立即执行"))
    page.wait_for_url(re.compile(r".*/admin/jobs$"))
    expect(page.get_by_role("alert").first).to_contain_text("已执行成功")
    expect(page.locator("#job-report_reminders .job-last")).to_contain_text("成功")
    screenshot(page, "admin-jobs")
    page.get_by_role("link", name="通知设置").click()
    page.wait_for_url(re.compile(r".*/admin/notifications$"))
    page.get_by_label("期限前提醒（工作日）").fill("3,1,0")
    submit(page, page.get_by_role("button", name="保存设置"))
    expect(page.get_by_role("alert").first).to_contain_text("通知设置已保存")
    expect(page.get_by_label("期限前提醒（工作日）")).to_have_value("3,1,0")
    screenshot(page, "admin-notifications")
    page.get_by_role("link", name="发送记录").click()
    page.wait_for_url(re.compile(r".*/admin/deliveries$"))
    screenshot(page, "admin-deliveries", full_page=False)
    assert not errors, errors
    ctx.close()
