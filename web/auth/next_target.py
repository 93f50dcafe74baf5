"""Where to go after sign-in: only a path of this site, checked in the form it will be sent.

The ``next`` parameter is attacker-controlled.  Browsers and Werkzeug both
rewrite URLs before using them (tabs and newlines are dropped, ``\\`` is read as
``/``), so ``/\\t/evil.example`` turns into ``//evil.example`` — another host —
after a check on the raw string passed.  Here any control character or
backslash refuses the target outright, the rest is parsed, rebuilt as a URI and
checked again, and the percent-decoded form must pass too (a proxy or a
second redirect may decode it).
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

from werkzeug.urls import iri_to_uri


def _is_local_path(target: str) -> bool:
    """True for ``/path?query#fragment``: no scheme, host, ``//``, control character or ``\\``."""
    if (not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)):
        return False
    parts = urlsplit(target)
    return (not parts.scheme and not parts.netloc and parts.path.startswith("/")
            and not parts.path.startswith("//"))


def safe_next(target: str | None, home: str) -> str:
    """The normalised local ``target`` if it is safe to redirect to, else ``home``."""
    if not _is_local_path(target or ""):
        return home
    parts = urlsplit(target)
    normalised = iri_to_uri(urlunsplit(("", "", parts.path, parts.query, parts.fragment)))
    if not _is_local_path(normalised) or not _is_local_path(unquote(urlsplit(normalised).path)):
        return home
    return normalised
