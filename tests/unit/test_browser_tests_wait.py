"""Browser tests never read the page right after a click.

A CI run once failed because a test read the item's status right after
clicking 申请销号, before the page had navigated.  A click must be followed by a
wait (``submit(...)``, ``wait_for_url``, ``expect(...)``, an action that
auto-waits such as ``fill``) before any ``assert``: a plain assert does not
wait, so right after a click it reads whatever page is there.  This walks the
browser tests' syntax trees and names each offending line.
"""

from __future__ import annotations

import ast
from pathlib import Path

BROWSER_TESTS = Path(__file__).parents[1] / "browser"


def reads_right_after_clicks(source: str) -> list[int]:
    """Line numbers of ``assert`` statements that come right after a click."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for before, after in zip(body, body[1:], strict=False):
            clicked = (isinstance(before, ast.Expr) and isinstance(before.value, ast.Call)
                       and isinstance(before.value.func, ast.Attribute)
                       and before.value.func.attr == "click")
            if clicked and isinstance(after, ast.Assert):
                bad.append(after.lineno)
    return bad


def test_the_guard_finds_a_read_right_after_a_click():
    source = ("def t(page):\n"
              "    page.get_by_role('button', name='申请销号').click()\n"
              "    assert page.locator('#item-status').inner_text() == '整改中·待验收'\n")
    assert reads_right_after_clicks(source) == [3]
    helper = source.replace("page.locator('#item-status').inner_text()", "status_text(page)")
    assert reads_right_after_clicks(helper) == [3]
    waited = source.replace(".click()\n", ".click()\n    page.wait_for_url('**/items/1')\n")
    assert reads_right_after_clicks(waited) == []


def test_no_browser_test_reads_the_page_right_after_a_click():
    offenders = {path.name: lines for path in sorted(BROWSER_TESTS.glob("test_*.py"))
                 if (lines := reads_right_after_clicks(path.read_text(encoding="utf-8")))}
    assert offenders == {}, f"read right after a click (wait first): {offenders}"
