"""Languages: Chinese (zh_CN) by default, English selectable and remembered.

Message catalogs live in ``web/translations/<locale>/LC_MESSAGES`` as ``.po``
files, one per area of the app (``messages.po`` for the shell, ``items.po``,
``admin.po``, ...), so that areas can be worked on side by side.  On start the
``.po`` files of a locale are merged into the one compiled ``messages.mo`` that
Flask-Babel reads (build output, git-ignored), when missing or stale.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel, get_locale

LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT = "zh_CN"
COOKIE = "sanhu_lang"
TRANSLATIONS = Path(__file__).parents[1] / "translations"


def merged_catalog(directory: Path) -> Catalog:
    """All ``.po`` files of one ``LC_MESSAGES`` directory as one catalog."""
    merged: Catalog | None = None
    for po in sorted(directory.glob("*.po")):
        with po.open("rb") as f:
            catalog = read_po(f)
        if merged is None:
            merged = catalog
            continue
        for message in catalog:
            if message.id and message.id not in merged:
                merged[message.id] = message
    return merged or Catalog()


def compile_catalogs(directory: Path = TRANSLATIONS) -> None:
    """Write ``messages.mo`` in each ``LC_MESSAGES`` directory older than its ``.po`` files."""
    for folder in directory.glob("*/LC_MESSAGES"):
        sources = list(folder.glob("*.po"))
        mo = folder / "messages.mo"
        newest = max((p.stat().st_mtime for p in sources), default=0)
        if not sources or (mo.exists() and mo.stat().st_mtime >= newest):
            continue
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as f:
            write_mo(f, merged_catalog(folder))
        tmp.replace(mo)


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE)
    return chosen if chosen in LANGUAGES else DEFAULT


def init_app(app: Flask) -> None:
    compile_catalogs()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, get_locale=get_locale)
