"""Per-view upload limits, enforced before anything reads the request body.

The CSRF check parses every form before a view runs, so a view cannot limit
its own uploads: it is marked with ``upload_limit`` instead, and a hook that
runs ahead of the CSRF check refuses a larger body from its declared length
(413 with the limit in words) and caps the reading of a body sent without one.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request
from flask_babel import gettext as _

#: room for the form's other fields (the CSRF token, the file's part headers)
FORM_OVERHEAD = 16 * 1024


def upload_limit(limit: Callable[[], int]):
    """Mark a view: its uploads may be at most ``limit()`` bytes."""
    def mark(view):
        view.upload_limit = limit
        return view
    return mark


def size_text(size: int) -> str:
    """2097152 → "2 MiB"; 4096 → "4 KiB"."""
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} B"


def too_large_message(limit: int) -> str:
    return _("The file is larger than %(size)s, the most this page accepts.",
             size=size_text(limit))


def _refuse_large_bodies():
    view = current_app.view_functions.get(request.endpoint or "")
    limit_of = getattr(view, "upload_limit", None)
    if limit_of is None or request.method != "POST":
        return None
    limit = limit_of()
    request.max_content_length = limit + FORM_OVERHEAD
    if request.content_length is not None and request.content_length > limit + FORM_OVERHEAD:
        from web.core.errors import render_error

        return render_error(413, too_large_message(limit), "")
    return None


def init_app(app: Flask) -> None:
    """Register the hook; call before the CSRF extension so that it runs first."""
    app.before_request(_refuse_large_bodies)
