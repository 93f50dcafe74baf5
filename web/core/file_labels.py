"""How a stored file is named on a page: a short type name, an icon and its size.

The ledger reports precise MIME types (``ledger.core.evidence``); people know
"Word" or "Excel", not ``application/vnd.openxmlformats-officedocument…``.
Sizes are written in the user's language (``format_decimal``), in KB or MB.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup

_WORD = ("Word", "word")
_EXCEL = ("Excel", "excel")
_POWERPOINT = ("PowerPoint", "powerpoint")
#: MIME type → (short type name, icon); product names stay as they are in every language
TYPES = {
    "application/pdf": ("PDF", "pdf"),
    "application/msword": _WORD,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _WORD,
    "application/vnd.ms-excel": _EXCEL,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _EXCEL,
    "application/vnd.ms-powerpoint": _POWERPOINT,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _POWERPOINT,
}
#: the colour of each icon's band (the applications' own colours)
_COLOURS = {"pdf": "#c5221f", "word": "#2b579a", "excel": "#217346",
            "powerpoint": "#c43e1c", "image": "#6c757d", "file": "#6c757d"}


def file_type(mime: str | None) -> str:
    """"Word", "Excel", "PDF", "PowerPoint"; "Photo" / "File" in the user's language."""
    known = TYPES.get(mime or "")
    if known:
        return known[0]
    return _("Photo") if (mime or "").startswith("image/") else _("File")


def _icon_name(mime: str | None) -> str:
    known = TYPES.get(mime or "")
    if known:
        return known[1]
    return "image" if (mime or "").startswith("image/") else "file"


def file_icon(mime: str | None) -> Markup:
    """A small inline SVG (a page with a coloured band), decorative: the name is beside it."""
    name = _icon_name(mime)
    colour = _COLOURS[name]
    return Markup(
        '<svg class="file-icon file-icon-{name}" width="36" height="44" viewBox="0 0 36 44" '
        'aria-hidden="true" focusable="false">'
        '<path d="M2 2h22l10 10v30H2z" fill="#fff" stroke="#adb5bd" stroke-width="2"/>'
        '<path d="M24 2v10h10" fill="none" stroke="#adb5bd" stroke-width="2"/>'
        '<rect x="2" y="24" width="32" height="12" fill="{colour}"/></svg>'
    ).format(name=name, colour=colour)


def file_size(size: int | None) -> str:
    """812 → "812 B", 1234 → "1.2 KB", 1234567 → "1.2 MB" (decimals as the locale writes them)."""
    size = int(size or 0)
    if size < 1024:
        return f"{format_decimal(size)} B"
    value, unit = (size / 1024 / 1024, "MB") if size >= 1024 * 1024 else (size / 1024, "KB")
    return f"{format_decimal(value, format='#,##0.#' if value < 100 else '#,##0')} {unit}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(file_type=file_type, file_icon=file_icon, file_size=file_size)
