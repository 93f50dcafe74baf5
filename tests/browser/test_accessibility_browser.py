"""Readable for everyone (WCAG 2.1 AA): axe-core finds no serious or critical problem on
the pages shown before signing in, on a desktop and on a phone.

The pages of every role are checked by the walk of ``test_every_page_browser.py``;
the checks themselves are in ``browser_checks``.
"""

from __future__ import annotations

import pytest
from browser_checks import serious_violations, with_axe
from browser_fixtures import DESKTOP, PHONE


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_sign_in_and_error_pages_have_no_serious_accessibility_violation(
        live_server, browser, viewport):
    context = with_axe(browser.new_context(viewport=viewport, locale="zh-CN"))
    page = context.new_page()
    found = []
    for path, status in (("/login", 200), ("/no-such-page", 404)):
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == status, path
        found += serious_violations(page, path)
    context.close()
    assert not found, "serious/critical axe violation(s):\n" + "\n".join(found)
