"""Readable for everyone (WCAG 2.1 AA): axe-core finds no serious or critical problem on
the pages each role of the demo city reaches.

For each role the test signs in, opens every page of the menu and follows the links
found there, one page per kind of address (one item page, one observation record, …;
but every cycle and every cycle's ranking, which differ by state), up to four clicks
away from the home page, and runs axe-core on each.  axe-core is vendored under
``tests/browser/vendor/axe-core`` (no network needed).  Any violation of impact
"serious" or "critical" fails the test with the rule, the page and the offending
elements (with their colours for contrast).  The village secretary's pages are also
checked on a phone-sized screen, and so are the sign-in and error pages.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_fixtures import DESKTOP, PHONE, demo_session, kind_of, walk
from playwright.sync_api import expect

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"

#: impacts that fail the test
FAILING = {"serious", "critical"}

#: all of axe's rules (WCAG 2.0/2.1 A and AA, and best practices); violations only, each
#: element with its colours when the rule measured a contrast
RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => {
      const check = n.any.concat(n.all, n.none).find(c => c.data && c.data.contrastRatio);
      const data = check && check.data;
      const colours = data ? ` (${data.fgColor} on ${data.bgColor}, ${data.contrastRatio}:1)` : '';
      return n.target.join(' ') + colours;
    }),
  }));
}"""

STAFF_PAGES = {"/dashboard/", "/items/N", "/observations/N", "/results/cycles/N/ranking",
               "/results/rankings/N/funds", "/results/reports/N/NQN"}
#: (user, screen, kinds of page the walk must have checked: the main detail pages)
ROLES = [
    ("admin", DESKTOP, {"/admin/users/N", "/admin/units/N", "/admin/jobs"}),
    ("city", DESKTOP, STAFF_PAGES),
    ("supervisor", DESKTOP, STAFF_PAGES | {"/board/"}),
    ("county1", DESKTOP, STAFF_PAGES | {"/board/", "/survey/N"}),
    ("town11", DESKTOP, STAFF_PAGES | {"/survey/N"}),
    ("lead11", DESKTOP, STAFF_PAGES),
    ("sec111", DESKTOP, {"/dashboard/", "/items/N", "/observations/N", "/survey/N"}),
    ("sec111", PHONE, {"/dashboard/", "/items/N", "/observations/N", "/survey/N"}),
]


def serious_violations(page, path: str) -> list[str]:
    """One line per serious or critical axe violation on the open page."""
    lines = []
    for v in page.evaluate(RUN):
        if v["impact"] in FAILING:
            shown = "; ".join(v["targets"][:8]) + (" …" if len(v["targets"]) > 8 else "")
            lines.append(f"{v['id']} ({v['impact']}) on {path}: {v['help']}; "
                         f"{len(v['targets'])} element(s): {shown}")
    return lines


def with_axe(context):
    """``context`` with axe-core in every page it opens from now on.  An init script, not
    a <script> tag added to the page: the app's Content-Security-Policy (script-src
    'self') refuses inline scripts, and loosening it (bypass_csp) would also apply the
    inline styles real browsers refuse, so axe would judge another page."""
    context.add_init_script(path=str(AXE))
    return context


@pytest.mark.parametrize(("username", "viewport", "must"), ROLES,
                         ids=[f"{u}-{'phone' if v is PHONE else 'desktop'}" for u, v, _ in ROLES])
def test_no_page_of_a_role_has_a_serious_accessibility_violation(
        demo_server, browser, username, viewport, must):
    context, page, _errors = demo_session(browser, demo_server, username, viewport=viewport)
    with_axe(context)
    found, checked = [], []
    for path in walk(page, demo_server):
        checked.append(path)
        found += serious_violations(page, path)
    if viewport is PHONE:  # the menu is folded away on a phone: open it and check it too
        page.goto(f"{demo_server}/")
        page.get_by_role("button", name="菜单").click()
        expect(page.locator("#mainnav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))
        expect(page.locator("#mainnav .nav-link").first).to_be_visible()
        found += serious_violations(page, "/ (menu open)")
    context.close()
    missed = must - {kind_of(urlsplit(p).path) for p in checked}
    assert not missed, f"the walk for {username} did not reach {sorted(missed)}: {checked}"
    assert not found, (f"{len(found)} serious/critical axe violation(s) for {username} "
                       f"({len(checked)} pages checked):\n" + "\n".join(found))


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
