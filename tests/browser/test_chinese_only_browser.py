"""No English in the Chinese interface: every page of every role, read as its user sees it.

The walk of the accessibility test (``browser_fixtures.walk``) opens each kind of page
a role reaches from the menu, in Chinese, and reads the page's visible text (not what
is shown as code: ``<code>``, ``<kbd>``, ``<samp>``, ``<pre>``).  A word of Latin
letters that is not a code, a number, a name or a file type (``ALLOWED``) is a string
that reached the page without passing through the catalogs.
"""

from __future__ import annotations

import re

import pytest
from browser_fixtures import demo_session, walk

ROLES = ["admin", "city", "supervisor", "county1", "town11", "lead11", "sec111"]
#: a run of Latin letters (a word, with its apostrophes and hyphens)
WORD = re.compile(r"(?<![\w.@/-])[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)*(?![\w.@/-])")
#: words that are the same in both languages: file types, products and protocols, the
#: language switch, units of measure, the deadline syntax (10d, 5w: "N 天"), the demo's
#: user names, and the keywords people type in the import formats the pages describe
ALLOWED = {
    "English", "Sanhu", "Excel", "Word", "PDF", "PowerPoint", "Office", "HEIC", "xlsx", "csv",
    "CSV", "XLSX", "PNG", "JPEG", "KB", "MB", "GB", "B", "ECharts", "SMTP", "STARTTLS",
    "Webhook", "URL", "http", "https", "key", "N", "d", "w", "API", "JSON",
    "admin", "city", "supervisor",
    "holiday", "workday", "code", "level", "name", "parent_code", "username",
    "display_name", "role", "unit_code", "email", "phone", "post", "password",
}
#: the visible text of the open page, without what it shows as code
VISIBLE_TEXT = """() => {
  const skip = 'code, kbd, samp, pre, script, style, noscript, template';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const out = [document.title];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (el && !el.closest(skip) && el.getClientRects().length) out.push(node.textContent);
  }
  return out.join('\\n');
}"""


def english_words(text: str) -> set[str]:
    return {w for w in WORD.findall(text) if w not in ALLOWED}


def test_english_words_finds_strings_that_skipped_the_catalogs():
    assert english_words("请先登录 Please log in 2026Q4 sec111 Excel 1.5 MB") == {
        "Please", "log", "in"}


@pytest.mark.parametrize("username", ROLES)
def test_no_page_of_a_role_shows_english_in_chinese(demo_server, browser, username):
    context, page, errors = demo_session(browser, demo_server, username)
    found, checked = [], []
    for path in walk(page, demo_server):
        checked.append(path)
        text = page.evaluate(VISIBLE_TEXT)
        words = english_words(text)
        if words:  # each word with what surrounds it, to find where it comes from
            found.append(f"{path}: " + "; ".join(
                f"{w} in “{' '.join(text[max(0, text.find(w) - 20):text.find(w) + 30].split())}”"
                for w in sorted(words)))
    context.close()
    assert len(checked) > 5, checked
    assert not found, (f"English on {len(found)} of {len(checked)} pages of {username}:\n"
                       + "\n".join(found))
