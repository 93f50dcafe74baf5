"""The password policy: the one check used on create, import, admin reset and change.

It refuses what guessing tries first, not what merely looks unusual:

- fewer than ``MIN_LENGTH`` characters (or more than ``MAX_LENGTH``);
- the username inside the password, in any case;
- runs and repeats: ``1234567890``, ``aaaaaaaaaa``, ``qwertyuiop``, ``1qaz2wsx3edc``,
  ``abcabcabca`` (a short pattern repeated, or fewer than four different characters);
- a run with digits or punctuation added (``qwertyuiop2026``);
- a password from ``data/common_passwords.txt`` (~200 of the commonest, Chinese
  ones such as ``woaini1314`` included), also with digits or punctuation added
  around it (``password2026!``).

``password_problem`` answers a short English code (or None); the web layer
translates the code, the import reports it per row.
"""

from __future__ import annotations

import string
from functools import cache
from importlib.resources import files

MIN_LENGTH = 10
MAX_LENGTH = 200
#: fewer different characters than this is a repeat (``aaaaaaaaaa``, ``1212121212``)
MIN_DISTINCT = 4
#: keyboard and counting runs; a password that is a piece of one is refused
RUNS = ("01234567890", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm",
        "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "qazwsxedcrfvtgbyhnujmikolp",
        "1q2w3e4r5t6y7u8i9o0p", "q1w2e3r4t5y6u7i8o9p0")
_PADDING = string.digits + string.punctuation + " "


@cache
def common_passwords() -> frozenset[str]:
    """The list of common passwords shipped with the package (lower case)."""
    text = (files("ledger.org") / "data" / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.lstrip().startswith("#"))


def _is_run(lower: str) -> bool:
    """A piece of a run, alone or with digits and punctuation added (``qwertyuiop2026``)."""
    return any(core in run or core in run[::-1] for core in _cores(lower)
               if core == lower or len(core) >= 6 for run in RUNS)


def _is_repeat(password: str) -> bool:
    if len(set(password)) < MIN_DISTINCT:
        return True
    for size in range(1, len(password) // 2 + 1):
        unit = password[:size]
        if (unit * (len(password) // size + 1))[:len(password)] == password:
            return True
    return False


def _cores(lower: str) -> set[str]:
    """The password, and without digits or punctuation added before, after or both."""
    return {lower, lower.rstrip(_PADDING), lower.lstrip(_PADDING), lower.strip(_PADDING)}


def _is_common(lower: str) -> bool:
    return not _cores(lower).isdisjoint(common_passwords())


def password_problem(password: str | None, username: str | None = None) -> str | None:
    """Why ``password`` is not acceptable (for ``username``), as a short code; None if it is.

    Codes: ``required``, ``too long``, ``contains username``, ``too short``,
    ``too simple`` (a run or a repeat), ``too common``.
    """
    if not password:
        return "required"
    if len(password) > MAX_LENGTH:
        return "too long"
    lower = password.lower()
    name = (username or "").strip().lower()
    if len(name) >= 3 and name in lower:
        return "contains username"
    if len(password) < MIN_LENGTH:
        return "too short"
    if _is_run(lower) or _is_repeat(lower):
        return "too simple"
    if _is_common(lower):
        return "too common"
    return None
