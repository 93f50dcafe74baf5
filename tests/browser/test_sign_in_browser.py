"""A village secretary signs in on a phone-sized screen and sees their own items."""

from __future__ import annotations

import re

from browser_fixtures import submit
from conftest import PASSWORD
from playwright.sync_api import expect

from ledger.items import services as svc


def test_a_secretary_signs_in_on_a_phone_and_sees_only_their_village(
        sanhu, world, live_server, browser, screenshot):
    with sanhu.uow() as uow:
        mine = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V111"].id,
                                  description="村务公开栏未按时更新")
    with sanhu.uow() as uow:
        svc.assign(uow, mine.id, world["town_T11"], responsible_user_id=world["sec_V111"].id,
                   category="deadline", deadline="10w")
    with sanhu.uow() as uow:
        other = svc.record_finding(uow, world["town_T11"], unit_id=world.units["V112"].id,
                                   description="邻村的问题")
    with sanhu.uow() as uow:
        svc.assign(uow, other.id, world["town_T11"], responsible_user_id=world["sec_V112"].id,
                   category="deadline", deadline="10w")
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/")
    assert "/login" in page.url
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    screenshot(page, "login-phone")
    page.get_by_label("用户名").fill("sec_V111")
    page.get_by_label("密码").fill(PASSWORD)
    submit(page, page.get_by_role("button", name="登录"))
    page.wait_for_url(f"{live_server}/")
    expect(page.get_by_role("heading", name="我的台账")).to_be_visible()
    body = page.locator("body").inner_text()
    assert mine.number in body and "村务公开栏未按时更新" in body
    assert other.number not in body
    screenshot(page, "home-secretary-phone")
    context.close()


def test_a_wrong_password_keeps_the_user_on_the_login_page_with_a_message(
        world, live_server, browser):
    page = browser.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill("county_K1")
    page.get_by_label("密码").fill("not-the-password")
    submit(page, page.get_by_role("button", name="登录"))
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"^\s*用户名或密码错误"))
    expect(page.get_by_label("用户名")).to_have_value("county_K1")
    page.close()
