"""In Chromium: a long text is counted near its limit and refused, never cut; a refused
upload leaves the item's own address in the bar, so a refresh sends nothing again."""

from __future__ import annotations

import re

from browser_fixtures import DESKTOP, PHONE, demo_session, submit
from playwright.sync_api import expect
from sqlalchemy import select

from ledger.core.models import User
from ledger.items import services as svc
from ledger.org.directory import actor_for


def test_a_long_description_is_counted_refused_and_kept_whole(demo_sanhu, demo_server,
                                                              browser):
    with demo_sanhu.uow() as uow:
        village = uow.session.scalar(select(User).where(User.username == "sec111")).unit
    context, page, errors = demo_session(browser, demo_server, "town11", DESKTOP)
    page.goto(demo_server + "/items/new")
    unit_label = f"\u3000{village.name} ({village.code})"
    page.get_by_label("单位（乡镇或村）").select_option(label=unit_label)
    description = page.get_by_label("问题描述")
    counter = page.locator("#" + description.get_attribute("id") + "-count")
    description.fill("三会一课记录不全")
    expect(counter).to_be_hidden()  # far from the limit: no counter
    description.fill("记" * 3300)
    expect(counter).to_have_text("3,300 / 4,000")
    text = ("党员活动室制度未上墙，" * 401)[:4010]
    description.fill(text)
    expect(counter).to_have_text("4,010 / 4,000 · 超出 10 字")
    expect(counter).to_have_class(re.compile(r"\btext-danger\b"))
    assert len(description.input_value()) == 4010  # the browser did not cut the text
    submit(page, page.get_by_role("button", name="登记", exact=True))
    expect(page.locator(".field-error")).to_have_text(
        "最多 4000 字，现有 4010 字，请删减后再提交。")
    expect(page.get_by_label("问题描述")).to_have_value(text)
    expect(page.locator("#" + description.get_attribute("id") + "-count")).to_have_text(
        "4,010 / 4,000 · 超出 10 字")
    assert errors == []
    context.close()


def test_a_refused_upload_leaves_the_item_address_and_a_refresh_sends_nothing(
        demo_sanhu, demo_server, browser, tmp_path):
    with demo_sanhu.uow() as uow:
        sec = uow.session.scalar(select(User).where(User.username == "sec111"))
        town = uow.session.scalar(select(User).where(User.username == "town11"))
        sec_actor, town_actor = actor_for(uow.session, sec.id), actor_for(uow.session, town.id)
    with demo_sanhu.uow() as uow:
        item = svc.record_finding(uow, town_actor, unit_id=sec_actor.unit_id,
                                  description="制度未上墙")
    with demo_sanhu.uow() as uow:
        svc.assign(uow, item.id, town_actor, responsible_user_id=sec_actor.id,
                   category="deadline", deadline="10个工作日")
    with demo_sanhu.uow() as uow:
        svc.accept(uow, item.id, sec_actor, measures="制作制度牌")
    fake = tmp_path / "整改照片.png"
    fake.write_bytes(b"MZ\x90\x00 not a picture at all")

    context, page, errors = demo_session(browser, demo_server, "sec111", PHONE)
    item_url = f"{demo_server}/items/{item.id}"
    page.goto(item_url)
    header = page.locator("[data-bs-target='#form-submit']")
    header.click()
    form = page.locator("#form-submit")
    expect(form).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
    form.get_by_label("整改完成情况").fill("制度牌已上墙，附照片")
    form.locator("input[type=file][multiple]").set_input_files(str(fake))
    submit(page, form.get_by_role("button", name="申请销号"))
    expect(page.locator(".field-error")).to_contain_text("整改照片.png")
    expect(page).to_have_url(item_url)  # not …/events/submit
    expect(page.locator("#form-submit").get_by_label("整改完成情况")).to_have_value(
        "制度牌已上墙，附照片")

    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    with page.expect_navigation():
        page.reload()
    expect(page.locator("#item-status")).to_have_text("整改中")
    expect(page.locator(".field-error")).to_have_count(0)
    assert posts == []  # the refresh loaded the item; it did not send the form again
    assert errors == []
    context.close()
