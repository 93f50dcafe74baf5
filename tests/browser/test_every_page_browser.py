"""Every page of every role of the demo city, in one walk per role: readable for
everyone, fits a phone, and all in Chinese (the checks of ``browser_checks``).

For each role the test signs in, opens every page of the menu and follows the links
found there, one page per kind of address (one item page, one observation record, …;
but every cycle and every cycle's ranking, which differ by state), up to four clicks
away from the home page (``browser_fixtures.walk``).  Each page is loaded on a phone
(390×844) and checked for sideways scrolling; then the same page is widened to a
desktop (1280×900) and axe-core and the Chinese-only check read it.  The village
secretary works on a phone: their pages go through axe at both sizes, and so does the
phone's folded menu, opened.  The sign-in and error pages are checked in
``test_accessibility_browser.py``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from browser_checks import english_on, serious_violations, too_wide, with_axe
from browser_fixtures import DESKTOP, PHONE, demo_session, kind_of, walk
from playwright.sync_api import expect

STAFF_PAGES = {"/dashboard/", "/items/N", "/observations/N", "/results/cycles/N/ranking",
               "/results/rankings/N/funds", "/results/reports/N/NQN"}
#: (user, kinds of page the walk must have checked: the main detail pages)
ROLES = [
    ("admin", {"/admin/users/N", "/admin/units/N", "/admin/jobs"}),
    ("city", STAFF_PAGES),
    ("supervisor", STAFF_PAGES | {"/board/"}),
    ("county1", STAFF_PAGES | {"/board/", "/survey/N"}),
    ("town11", STAFF_PAGES | {"/survey/N"}),
    ("lead11", STAFF_PAGES),
    ("sec111", {"/dashboard/", "/items/N", "/observations/N", "/survey/N"}),
]
#: roles whose pages axe also reads on the phone
ON_A_PHONE = {"sec111"}


@pytest.mark.parametrize(("username", "must"), ROLES, ids=[u for u, _ in ROLES])
def test_every_page_of_a_role_is_accessible_fits_a_phone_and_is_in_chinese(
        demo_server, browser, username, must):
    context, page, errors = demo_session(browser, demo_server, username, viewport=PHONE)
    with_axe(context)
    violations, wide, english, checked = [], [], [], []
    for path in walk(page, demo_server):
        checked.append(path)
        if (why := too_wide(page, path)) is not None:
            wide.append(why)
        if username in ON_A_PHONE:
            violations += serious_violations(page, f"{path} (phone)")
        page.set_viewport_size(DESKTOP)
        violations += serious_violations(page, path)
        if (words := english_on(page, path)) is not None:
            english.append(words)
        page.set_viewport_size(PHONE)  # the walk loads the next page on the phone
    if username in ON_A_PHONE:  # the menu is folded away on a phone: open it and check it
        page.goto(f"{demo_server}/")
        page.get_by_role("button", name="菜单").click()
        expect(page.locator("#mainnav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
        expect(page.locator("#mainnav .nav-link").first).to_be_visible()
        violations += serious_violations(page, "/ (menu open, phone)")
    context.close()
    assert len(checked) > 5, checked  # the walk did reach the menu's pages
    missed = must - {kind_of(urlsplit(p).path) for p in checked}
    assert not missed, f"the walk for {username} did not reach {sorted(missed)}: {checked}"
    assert not violations, (f"{len(violations)} serious/critical axe violation(s) for "
                            f"{username} ({len(checked)} pages checked):\n"
                            + "\n".join(violations))
    assert not wide, (f"{len(wide)} of {len(checked)} pages of {username} scroll sideways "
                      "on a phone:\n" + "\n".join(wide))
    assert not english, (f"English on {len(english)} of {len(checked)} pages of {username}:\n"
                         + "\n".join(english))
    assert not errors, errors
