"""On a phone (390×844) no page is wider than the screen, and item lists are cards.

For each role of the demo city the test walks the pages reachable from the menu (the
walk of the accessibility test, ``browser_fixtures.walk``) on a phone-sized screen and
checks that none scrolls sideways: a wide table may scroll inside its own box, the
page may not.  The village secretary's home shows each task as a card whose deadline
can be read without scrolling; a desktop keeps the table.
"""

from __future__ import annotations

import re

import pytest
from browser_fixtures import DESKTOP, PHONE, demo_session, walk
from playwright.sync_api import expect

#: the page's width against the screen's, and (when wider) the innermost elements that
#: reach past the screen's right edge: where to look
WIDTH = """() => {
  const inner = window.innerWidth, scroll = document.documentElement.scrollWidth;
  const past = el => el.getBoundingClientRect().right > inner + 0.5;
  const culprits = scroll <= inner ? [] : Array.from(document.body.querySelectorAll('*'))
    .filter(el => el.getClientRects().length && past(el)
            && !Array.from(el.children).some(c => c.getClientRects().length && past(c)))
    .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (el.className && typeof el.className === 'string'
         ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
      + ' (right edge ' + Math.round(el.getBoundingClientRect().right) + 'px)');
  return {inner, scroll, culprits};
}"""

ROLES = ["admin", "city", "supervisor", "county1", "town11", "lead11", "sec111"]


@pytest.mark.parametrize("username", ROLES)
def test_no_page_of_a_role_is_wider_than_a_phone(demo_server, browser, username):
    context, page, errors = demo_session(browser, demo_server, username, viewport=PHONE)
    wide, checked = [], []
    for path in walk(page, demo_server):
        checked.append(path)
        width = page.evaluate(WIDTH)
        if width["scroll"] > width["inner"]:
            wide.append(f"{path}: {width['scroll']}px wide in {width['inner']}px; "
                        + "; ".join(width["culprits"]))
    context.close()
    assert len(checked) > 5, checked  # the walk did reach the menu's pages
    assert not wide, (f"{len(wide)} of {len(checked)} pages of {username} scroll sideways "
                      "on a phone:\n" + "\n".join(wide))
    assert not errors, errors


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
