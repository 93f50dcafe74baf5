"""The city supervisor works the overdue board in Chromium, on the demo city.

Filters the board to one county, records a 约谈 on an item, issues a 通报 for
two items and opens the printable notice.  Screenshots: ``board``, ``notice``.
"""

from __future__ import annotations

import re

from browser_fixtures import demo_session, submit
from playwright.sync_api import expect
from sqlalchemy import select

from ledger.core.models import Item, ItemEvent, Notice


def rows(page):
    return page.locator("tr.board-row")


def test_the_supervisor_filters_the_board_interviews_and_issues_a_notice(
        demo_sanhu, demo_server, browser, screenshot):
    context, page, errors = demo_session(browser, demo_server, "supervisor")

    # the board: every overdue item of the city, most overdue first, with suggestions
    page.get_by_role("link", name="逾期督办", exact=True).click()
    page.wait_for_url(re.compile(r".*/board/.*"))
    expect(page.get_by_role("heading", name="逾期督办")).to_be_visible()
    expect(rows(page)).to_have_count(11)
    expect(page.locator(".total")).to_contain_text("逾期问题 11 项")
    assert page.locator(".suggestion").count() >= 11  # each is due at least a 催办

    # filter: one county (applied at once), then at least one working day overdue
    page.get_by_role("combobox", name="单位").select_option(label="东山县")
    page.wait_for_url(re.compile(r".*unit=\d+.*"))
    in_county = rows(page).count()
    assert 0 < in_county < 11
    assert page.locator(".unit-path").inner_text().endswith("东山县")
    page.get_by_label("逾期工作日不少于").fill("1")
    submit(page, page.get_by_role("button", name="筛选"))
    page.wait_for_url(re.compile(r".*min_workdays=1.*"))
    assert "min_days=" not in page.url  # empty filters stay out of the address
    assert page.get_by_label("逾期工作日不少于").input_value() == "1"
    filtered = rows(page).count()
    assert 0 < filtered <= in_county
    for cell in page.locator(".unit-cell").all_inner_texts():
        assert cell.startswith("东山县")
    screenshot(page, "board")
    first, second = (rows(page).nth(i).get_attribute("data-number") for i in (0, 1))

    # 约谈 on the first item
    rows(page).nth(0).locator("input[name=ids]").check()
    submit(page, page.get_by_role("button", name="约谈"))
    page.wait_for_url(re.compile(r".*/board/act\?.*action=interview.*"))
    assert first in page.locator(".act-items").inner_text()
    page.get_by_label("时间").fill("2026-11-20T09:30")
    page.get_by_label("地点", exact=True).fill("县委组织部第一会议室")
    page.get_by_label("约谈人", exact=True).fill("市督查组 李组长")
    page.get_by_label("被约谈人", exact=True).fill("王建国")
    page.get_by_label("被约谈人职务").fill("村党支部书记")
    page.get_by_label("约谈事由").fill("整改逾期,多次催办未果")
    page.get_by_label("约谈纪要").fill("指出问题,明确整改要求和时限。")
    page.get_by_label("约谈结果").fill("表态两周内整改到位")
    page.get_by_label("整改跟进时限").fill("2026-12-31")
    submit(page, page.get_by_role("button", name="约谈"))
    expect(page.locator(".act-summary")).to_have_text(re.compile(r"^\s*共 1 条，已完成 1 条"))
    submit(page, page.get_by_role("link", name="查看记录"))
    expect(page.locator(".record-details")).to_contain_text("王建国")
    details = page.locator(".record-details").inner_text()
    assert "王建国" in details and "县委组织部第一会议室" in details and "2026年12月31日" in details
    page.locator(".act-items a").first.click()
    page.wait_for_url(re.compile(r".*/items/\d+$"))
    expect(page.locator("#history")).to_contain_text("约谈")
    expect(page.locator("#supervision")).to_contain_text("约谈")

    # 通报 for two items, then the printable notice
    submit(page, page.get_by_role("link", name="逾期督办", exact=True))
    page.get_by_role("combobox", name="单位").select_option(label="东山县")
    page.wait_for_url(re.compile(r".*unit=\d+.*"))
    for number in (first, second):
        page.locator(f'tr[data-number="{number}"] input[name=ids]').check()
    submit(page, page.get_by_role("button", name="通报"))
    page.wait_for_url(re.compile(r".*/board/act\?.*action=notice.*"))
    page.get_by_label("标题").fill("关于东山县逾期未整改问题的通报")
    page.get_by_label("通报正文").fill("以下问题逾期未整改,予以通报,请相关单位立即整改。")
    submit(page, page.get_by_role("button", name="通报"))
    expect(page.locator(".act-summary")).to_have_text(re.compile(r"^\s*共 2 条，已完成 2 条"))
    page.locator("#open-notice").click()
    page.wait_for_url(re.compile(r".*/board/notices/\d+$"))
    with demo_sanhu.uow() as uow:
        notice = uow.session.scalars(select(Notice)).one()
        year, quarter = uow.today().year, (uow.today().month - 1) // 3 + 1
    expect(page.locator("#notice-number")).to_have_text(f"{year}年第{quarter}季度第1号")
    expect(page.locator("#notice-title")).to_have_text("关于东山县逾期未整改问题的通报")
    listed = page.locator(".notice-items").inner_text()
    assert first in listed and second in listed
    assert page.locator(".notice-row").count() == 2
    assert all(u.startswith("东山县") for u in page.locator(".notice-units li").all_inner_texts())
    assert page.locator('link[media="print"]').count() == 1
    assert page.get_by_role("button", name="打印").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".sanhu-bar").is_visible()  # the print sheet drops the menu
    screenshot(page, "notice")
    page.emulate_media(media="screen")

    with demo_sanhu.uow() as uow:
        ids = uow.session.scalars(select(Item.id).where(Item.number.in_([first, second]))).all()
        last = {i: uow.session.scalars(select(ItemEvent.event).where(ItemEvent.item_id == i)
                                       .order_by(ItemEvent.seq.desc())).first() for i in ids}
    assert sorted(last.values()) == ["notice", "notice"]
    assert notice.number == f"{year}年第{quarter}季度第1号"
    assert not errors, errors
    context.close()
