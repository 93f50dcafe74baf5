"""The whole daily journey in Chromium, each step by the demo user whose job it is.

finding → assign → accept → progress → submit with a photo → reject →
resubmit → verify → close.  The village secretary works on a phone-sized
screen; the staff on a desktop.  Screenshots of the main pages are saved under
``artifacts/screenshots`` (git-ignored) for CI and the README.
"""

from __future__ import annotations

import re

from browser_fixtures import DESKTOP, PHONE, demo_session, submit
from playwright.sync_api import expect
from samples import make_png
from sqlalchemy import select

from ledger.core.models import Item, ItemEvent, User


def open_action(page, event: str, label: str):
    """Expand the accordion of one event form and return the form's container.

    Waits until Bootstrap's collapse transition has ended (class ``show``, not
    ``collapsing``): a form typed into and submitted mid-transition once never
    sent its request in CI.
    """
    box = page.locator(f"#form-{event}")
    header = page.locator(f"[data-bs-target='#form-{event}']")
    if header.get_attribute("aria-expanded") != "true":
        header.click()
    expect(box).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    expect(header).to_have_attribute("aria-expanded", "true")
    return box


def expect_status(page, status: str) -> None:
    """Wait until the item page shows ``status`` (the page may still be loading)."""
    expect(page.locator("#item-status")).to_have_text(status)


def test_the_daily_journey_in_the_browser(demo_sanhu, demo_server, browser, screenshot,
                                          tmp_path):
    with demo_sanhu.uow() as uow:
        sec = uow.session.scalar(select(User).where(User.username == "sec111"))
        village = sec.unit
    photo = tmp_path / "整改后.png"
    photo.write_bytes(make_png(7))
    second = tmp_path / "签字页.png"
    second.write_bytes(make_png(9))

    # 1. the township records the finding and assigns it, in working days
    town_ctx, town, town_errors = demo_session(browser, demo_server, "town11", DESKTOP)
    screenshot(town, "home-township-staff")
    town.get_by_role("link", name="登记问题").click()
    unit_label = f"\u3000{village.name} ({village.code})"
    town.get_by_label("单位（乡镇或村）").select_option(label=unit_label)
    town.get_by_label("对应标准").select_option(index=3)
    town.get_by_label("问题描述").fill("党员活动室“三会一课”制度未上墙")
    town.get_by_label("整改类别").select_option(label="限期整改")
    town.get_by_label("整改时限").fill("5w")
    town.get_by_role("button", name="计算日期").click()
    expect(town.locator(".deadline-hint")).to_contain_text("整改时限：")
    assert town.get_by_label("问题描述").input_value().startswith("党员活动室")
    screenshot(town, "record-finding")
    submit(town, town.get_by_role("button", name="登记", exact=True))
    town.wait_for_url(re.compile(r".*/items/\d+$"))
    item_id = int(town.url.rsplit("/", 1)[1])
    expect_status(town, "已交办")
    item_url = town.url
    number = town.locator("#item-number").inner_text()

    # 2. the village secretary, on a phone, accepts, reports progress and submits
    sec_ctx, phone, phone_errors = demo_session(browser, demo_server, "sec111", PHONE)
    screenshot(phone, "home-secretary-phone")
    phone.goto(item_url)
    form = open_action(phone, "accept", "签收")
    form.get_by_label("整改措施").fill("制作制度牌并上墙，支部书记负责")
    submit(phone, form.get_by_role("button", name="签收"))
    expect(phone.get_by_role("alert").first).to_contain_text("已完成")
    expect_status(phone, "整改中")
    form = open_action(phone, "report_progress", "报告进展")
    form.get_by_label("进展情况").fill("制度牌已订制")
    submit(phone, form.get_by_role("button", name="报告进展"))
    form = open_action(phone, "submit", "申请销号")
    form.get_by_label("整改完成情况").fill("制度牌已上墙")
    form.locator("input[type=file][multiple]").set_input_files(str(photo))
    submit(phone, form.get_by_role("button", name="申请销号"))
    expect_status(phone, "整改中·待验收")
    expect(phone.locator("#evidence img")).to_have_count(1)
    screenshot(phone, "item-secretary-phone")

    # 3. the township sends it back with a reason
    town.goto(item_url)
    form = open_action(town, "reject", "退回")
    submit(town, form.get_by_role("button", name="退回"))  # no reason: refused, nothing changes
    expect(town.locator("#form-reject")).to_contain_text("此项为必填项")
    form = open_action(town, "reject", "退回")
    form.get_by_label("退回理由").fill("缺少支部委员签字")
    submit(town, form.get_by_role("button", name="退回"))
    expect_status(town, "整改中")

    # 4. the secretary resubmits with the signed page
    phone.goto(item_url)
    form = open_action(phone, "submit", "申请销号")
    form.get_by_label("整改完成情况").fill("已补签字")
    form.locator("input[type=file][multiple]").set_input_files(str(second))
    submit(phone, form.get_by_role("button", name="申请销号"))
    expect_status(phone, "整改中·待验收")

    # 5. the township verifies
    town.goto(item_url)
    form = open_action(town, "verify", "验收通过")
    form.get_by_label("验收方式").select_option(label="实地查看")
    form.get_by_label("验收意见").fill("现场查看，制度已上墙")
    submit(town, form.get_by_role("button", name="验收通过"))
    expect_status(town, "已验收")

    # 6. the county closes it (销号)
    county_ctx, county, county_errors = demo_session(browser, demo_server, "county1", DESKTOP)
    county.goto(item_url)
    form = open_action(county, "close", "销号")
    submit(county, form.get_by_role("button", name="销号"))
    expect_status(county, "已销号")
    history = county.locator("#history").inner_text()
    for step in ("登记", "交办", "签收", "报告进展", "申请销号", "退回", "缺少支部委员签字",
                 "验收通过", "销号"):
        assert step in history
    screenshot(county, "item-closed-history")
    county.get_by_role("link", name="台账", exact=True).first.click()
    county.wait_for_url(re.compile(r".*/ledger/.*"))
    expect(county.locator("table").first).to_contain_text(number)
    screenshot(county, "ledger-list", full_page=False)

    with demo_sanhu.uow() as uow:
        events = uow.session.scalars(select(ItemEvent.event).where(ItemEvent.item_id == item_id)
                                     .order_by(ItemEvent.seq)).all()
        actors = uow.session.scalars(
            select(User.username).join(ItemEvent, ItemEvent.actor_id == User.id)
            .where(ItemEvent.item_id == item_id).order_by(ItemEvent.seq)).all()
        item = uow.session.get(Item, item_id)
    assert events == ["record", "assign", "accept", "report_progress", "submit", "reject",
                      "submit", "verify", "close"]
    assert actors == ["town11", "town11", "sec111", "sec111", "sec111", "town11", "sec111",
                      "town11", "county1"]
    assert item.rejection_count == 1
    assert not town_errors and not phone_errors and not county_errors
    for ctx in (town_ctx, sec_ctx, county_ctx):
        ctx.close()
