"""No English in the Chinese interface: how ``browser_checks`` tells a word that skipped
the catalogs from a code, a number or a name.  Every page of every role is read so by
the walk of ``test_every_page_browser.py``."""

from __future__ import annotations

from browser_checks import english_words


def test_english_words_finds_strings_that_skipped_the_catalogs():
    assert english_words("请先登录 Please log in 2026Q4 sec111 Excel 1.5 MB") == {
        "Please", "log", "in"}
