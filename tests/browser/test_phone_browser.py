"""On a phone (390×844) item lists are cards: the village secretary's home shows each
task as a card whose deadline can be read without scrolling; a desktop keeps the table.
That no page of any role is wider than a phone is checked by the walk of
``test_every_page_browser.py``.
"""

from __future__ import annotations

import re

from browser_fixtures import DESKTOP, PHONE, demo_session
from playwright.sync_api import expect


def test_the_secretarys_home_shows_cards_with_the_deadline_on_a_phone(demo_server, browser,
                                                                      screenshot):
    context, page, errors = demo_session(browser, demo_server, "sec111", viewport=PHONE)
    cards = page.locator(".home-section .item-card")
    expect(cards.first).to_be_visible()
    expect(page.locator(".home-section table.ledger").first).to_be_hidden()
    for i in range(cards.count()):
        card = cards.nth(i)
        card.scroll_into_view_if_needed()
        deadline = card.locator(".card-deadline")
        expect(deadline).to_be_visible()
        expect(deadline).to_contain_text(re.compile(r"整改时限：(\d{4}年\d{1,2}月\d{1,2}日|—)"))
        box = deadline.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        expect(card.locator(".card-number")).to_be_visible()
        expect(card.locator(".card-status")).to_be_visible()
    screenshot(page, "home-secretary-cards-phone", full_page=False)
    context.close()
    assert not errors, errors

    context, page, errors = demo_session(browser, demo_server, "sec111", viewport=DESKTOP)
    expect(page.locator(".home-section table.ledger").first).to_be_visible()
    expect(page.locator(".home-section .item-card").first).to_be_hidden()
    context.close()
    assert not errors, errors
