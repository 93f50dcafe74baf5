"""Importing an existing ledger in Chromium: county1 uploads a 200-row sheet with five
bad rows, sees them named, fixes them, imports; sec111 sees the items on a phone."""

from __future__ import annotations

import re

from browser_fixtures import DESKTOP, PHONE, demo_session, submit
from playwright.sync_api import expect

from ledger.items.ledger_columns import HEADERS

BAD_LINES = {12, 50, 99, 150, 201}  # file lines (the header is line 1)


def ledger_csv(fixed: bool) -> bytes:
    lines = [",".join(HEADERS)]
    for n in range(1, 201):
        line = n + 1
        unit = "城关镇/东村" if fixed or line not in BAD_LINES else "城关镇/不存在村"
        lines.append(f"{n},IMPB-{n:03d},观摩,,{unit},基本标准 {1 + n % 42},导入问题{n},按要求整改,"
                     f"限期整改,东村党支部书记,2027/06/30,整改中,,,,")
    return "\n".join(lines).encode("utf-8-sig")


def test_county1_fixes_five_bad_rows_imports_200_and_sec111_sees_them_on_a_phone(
        demo_sanhu, demo_server, browser, screenshot):
    ctx, page, errors = demo_session(browser, demo_server, "county1", DESKTOP)
    page.goto(f"{demo_server}/ledger/")
    submit(page, page.locator("#import-ledger"))
    page.wait_for_url(re.compile(r".*/items/import$"))
    page.set_input_files("input[type=file]", files=[{
        "name": "东山县台账.csv", "mimeType": "text/csv", "buffer": ledger_csv(False)}])
    submit(page, page.get_by_role("button", name="检查文件"))
    problems = page.locator("#import-problems tbody tr")
    expect(problems).to_have_count(5)
    expect(page.locator("#import-problems")).to_contain_text("找不到该单位")
    for line in BAD_LINES:
        expect(page.locator("#import-problems")).to_contain_text(f"{line}")
    expect(page.locator("#import-confirm")).to_have_count(0)
    screenshot(page, "ledger-import-problems")

    page.set_input_files("input[type=file]", files=[{
        "name": "东山县台账.csv", "mimeType": "text/csv", "buffer": ledger_csv(True)}])
    submit(page, page.get_by_role("button", name="检查文件"))
    expect(page.locator("#import-summary")).to_contain_text("待导入 200 行")
    expect(page.locator("#import-preview")).to_contain_text("东山县/城关镇/东村")
    screenshot(page, "ledger-import-preview")
    submit(page, page.locator("#import-confirm button"))
    expect(page.locator("#import-result")).to_contain_text("200")
    expect(page.locator("#import-created li")).to_have_count(200)
    assert not errors, errors
    ctx.close()

    ctx, phone, errors = demo_session(browser, demo_server, "sec111", PHONE)
    phone.goto(f"{demo_server}/ledger/?q=IMPB-007")
    expect(phone.locator("body")).to_contain_text("IMPB-007")
    phone.get_by_role("link", name="IMPB-007").first.click()
    phone.wait_for_url(re.compile(r".*/items/\d+$"))
    expect(phone.locator("#item-imported")).to_contain_text("东山县台账.csv")
    expect(phone.locator("#item-number")).to_have_text("IMPB-007")
    screenshot(phone, "ledger-import-item-phone")
    assert not errors, errors
    ctx.close()
