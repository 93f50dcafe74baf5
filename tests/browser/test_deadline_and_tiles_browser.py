"""In Chromium: the live deadline hint says why a deadline cannot be used before the form
is sent, and a long evidence file name wraps inside its tile on a phone."""

from __future__ import annotations

from browser_fixtures import DESKTOP, PHONE, demo_session
from playwright.sync_api import expect
from samples import make_office, make_pdf
from sqlalchemy import select

from ledger.core.models import User
from ledger.items import services as svc
from ledger.items.services import Upload
from ledger.org.directory import actor_for

LONG_NAME = "zhenggai_qingkuang_shuoming_" * 4 + "2026-12-01_final_v2.xlsx"  # one long word


def test_the_deadline_hint_names_the_reason_before_the_form_is_sent(demo_server, browser):
    context, page, errors = demo_session(browser, demo_server, "town11", DESKTOP)
    page.goto(demo_server + "/items/new")
    field, hint = page.get_by_label("整改时限"), page.locator(".deadline-hint")
    field.fill("2020年1月1日")
    expect(hint).to_have_text("整改时限不能早于今天。")
    expect(hint).to_have_class("form-text deadline-hint text-danger")
    field.fill("10个工作日")
    expect(hint).to_contain_text("→ ")
    expect(hint).not_to_have_class("form-text deadline-hint text-danger")
    field.fill("2099/12/31")
    expect(hint).to_have_text("整改时限不能超过今后两年。")
    assert errors == []
    context.close()


def test_a_long_evidence_file_name_wraps_inside_its_tile_on_a_phone(demo_sanhu, demo_server,
                                                                    browser, screenshot):
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
    with demo_sanhu.uow() as uow:
        svc.report_progress(uow, item.id, sec_actor, note="已制作",
                            uploads=[Upload(make_office("xl", 5000), LONG_NAME),
                                     Upload(make_office("word", 300), "会议记录.docx"),
                                     Upload(make_pdf(2_500_000), "整改报告.pdf")])
    context, page, errors = demo_session(browser, demo_server, "sec111", PHONE)
    page.goto(f"{demo_server}/items/{item.id}")
    tile = page.locator("#evidence figure").filter(has_text="Excel")
    expect(tile.locator(".file-type")).to_have_text("Excel")
    expect(tile.locator(".file-size")).to_contain_text("KB")
    caption = tile.locator("figcaption")
    expect(caption).to_contain_text(LONG_NAME)
    fits = caption.evaluate("el => el.scrollWidth <= el.clientWidth "
                            "&& el.getBoundingClientRect().width <= 140")
    assert fits
    tile.scroll_into_view_if_needed()
    screenshot(page, "evidence-tiles-phone", full_page=False)
    assert errors == []
    context.close()
