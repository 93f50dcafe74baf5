"""Free-text search over the ledger: the same tokens on SQLite (FTS5) and PostgreSQL (GIN).

Chinese has no spaces between words and people search for two- to four-character
words ("漏雨", "三会一课").  Each item keeps ``items.search_terms``: its number,
problem, measures and responsible person as tokens — every two neighbouring
Chinese characters (bigrams), and each run of letters or digits as a word.  A
search is the phrase of the needle's tokens, which matches exactly where the
needle occurs as a substring.  SQLite indexes the column with FTS5 (an
external-content table kept by triggers), PostgreSQL with a GIN index on
``to_tsvector('simple', search_terms)``; both answer "which items contain this
phrase" from the index instead of reading millions of rows.

A needle without a usable token (a single Chinese character, punctuation) falls
back to ``LIKE``.
"""

from __future__ import annotations

import re

#: a run of Han characters, or a run of letters/digits
_RUNS = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|([0-9a-z]+)")


def tokens(text: str | None) -> list[str]:
    """The search tokens of ``text``, in order: Chinese bigrams and ASCII words."""
    out: list[str] = []
    for han, word in _RUNS.findall((text or "").lower()):
        if word:
            out.append(word)
        elif len(han) == 1:
            out.append(han)
        else:
            out.extend(han[i:i + 2] for i in range(len(han) - 1))
    return out


def terms(*texts: str | None) -> str:
    """The ``search_terms`` value for an item's texts (each text its own phrase run)."""
    return " ".join(" ".join(tokens(t)) for t in texts if t)


def append_terms(current: str | None, *texts: str | None) -> str:
    """``search_terms`` after new text (measures, a responsible person) joined the item."""
    extra = terms(*texts)
    if not current:
        return extra
    if not extra or f" {extra} " in f" {current} ":
        return current  # e.g. reassigned to the same person: nothing new to find
    return f"{current} {extra}"


def phrase(needle: str) -> tuple[list[str], bool] | None:
    """The needle as (tokens, last token is a prefix), or None when the index cannot help.

    A needle of one Chinese character has no bigram; a single-character token at
    the end of a longer needle would not match the bigrams of the text either.
    A trailing ASCII word is searched as a prefix, so "2026q4-1399" finds numbers.
    """
    found = tokens(needle)
    if not found:
        return None
    runs = _RUNS.findall(needle.lower())
    if any(han and len(han) == 1 for han, _ in runs):
        return None
    return found, bool(runs[-1][1])


def fts5_query(needle_tokens: list[str], prefix: bool) -> str:
    """An FTS5 MATCH expression: one phrase, the last token a prefix when asked."""
    return '"' + " ".join(needle_tokens) + '"' + (" *" if prefix else "")


def tsquery(needle_tokens: list[str], prefix: bool) -> str:
    """A PostgreSQL ``to_tsquery('simple', ...)`` text: the tokens adjacent (<->)."""
    parts = list(needle_tokens)
    if prefix:
        parts[-1] += ":*"
    return " <-> ".join(parts)
