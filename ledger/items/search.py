"""Free-text search over the ledger: the same tokens on SQLite (FTS5) and PostgreSQL (GIN).

Chinese has no spaces between words, and people search for two- to four-character
words ("漏雨", "公开栏", "三会一课").  Each item keeps ``items.search_terms``: its
number, problem, responsible person and measures as tokens — for every run of
Chinese characters all its substrings of two, three and four characters, and
every run of letters or digits as a word.  A needle of two to four characters is
then exactly one token, which both databases look up in their index and whose
frequency their planners know: a common word is read newest-first and stops
after a page, a rare one comes straight from the index.  A longer needle asks for
all its four-character pieces and is confirmed with ``LIKE`` on the few rows
that hold them all; so is a needle of several parts ("2026Q4-1301…-003").
SQLite indexes the column with FTS5 (an external-content table kept by
triggers), PostgreSQL with a GIN index on a stored generated column
``search_vector = to_tsvector('simple', search_terms)`` (migration 0008).

A needle of one Chinese character has no token and falls back to ``LIKE``.
Letters and digits are whole words: a village code or "2026Q4" is found, a
partly typed code is not (type it whole, or narrow the unit and search there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: a run of Han characters, or a run of letters/digits
_RUNS = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|([0-9a-z]+)")
#: the longest Chinese piece stored as one token
LONGEST = 4

#: PostgreSQL estimates how many items hold a token from the column's statistics;
#: rare tokens (a village code) are only told apart from common ones with a long list
#: of most common tokens, so ``search_vector`` gets the largest statistics target
PG_STATISTICS = "ALTER TABLE items ALTER COLUMN search_vector SET STATISTICS 10000"


def _grams(run: str, n: int) -> list[str]:
    return [run[i:i + n] for i in range(len(run) - n + 1)]


def tokens(text: str | None) -> list[str]:
    """The search tokens of ``text``: Chinese 2/3/4-character pieces and ASCII words.

    """
    out: list[str] = []
    for han, word in _RUNS.findall((text or "").lower()):
        if word:
            out.append(word)
        elif len(han) == 1:
            out.append(han)
        else:
            for n in range(2, min(LONGEST, len(han)) + 1):
                out.extend(_grams(han, n))
    return out


def terms(*texts: str | None) -> str:
    """The ``search_terms`` value for an item's texts."""
    return " ".join(" ".join(tokens(t)) for t in texts if t)


def append_terms(current: str | None, *texts: str | None) -> str:
    """``search_terms`` after new text (measures, a responsible person) joined the item."""
    extra = terms(*texts)
    if not current:
        return extra
    if not extra or f" {extra} " in f" {current} ":
        return current  # e.g. reassigned to the same person: nothing new to find
    return f"{current} {extra}"


@dataclass(frozen=True)
class Query:
    """What to ask the index: items holding every token; ``confirm`` adds a LIKE check.

    Only whole tokens, no phrases and no prefixes: the planners estimate a
    token's frequency from their statistics, so a common word is read newest
    first and stops after a page while a rare one comes from the index.  (Phrase
    and prefix queries are estimated as rare whatever they are, and PostgreSQL
    then rechecks every candidate row.)
    """

    tokens: tuple[str, ...]
    #: the tokens only narrow the rows; the whole needle must also match by LIKE
    confirm: bool = False


def query(needle: str) -> Query | None:
    """How to find ``needle`` through the index, or None when only LIKE can."""
    runs = _RUNS.findall(needle.lower())
    found: list[str] = []
    for han, word in runs:
        if word:
            found.append(word)
        elif len(han) <= LONGEST:
            if len(han) > 1:
                found.append(han)
        else:
            found.extend(dict.fromkeys(_grams(han, LONGEST)))
    if not found:
        return None
    exact = len(runs) == 1 and len(found) == 1 and (
        bool(runs[0][1]) or 1 < len(runs[0][0]) <= LONGEST)
    return Query(tuple(found), confirm=not exact)


def fts5_match(q: Query) -> str:
    """An FTS5 MATCH expression: every token (quoted, so none is read as an operator)."""
    return " AND ".join(f'"{t}"' for t in q.tokens)


def tsquery(q: Query) -> str:
    """A ``to_tsquery('simple', ...)`` text: every token."""
    return " & ".join(q.tokens)
