"""Serving a stored file (evidence, record photos, plan attachments) after the caller's
permission check: never cached, shown inline only for images a browser renders safely."""

from __future__ import annotations

from pathlib import Path

from flask import Response, send_file

INLINE_IMAGES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def send_private(path: Path, mime: str, name: str, *, inline: bool = False) -> Response:
    """The file as a download, or inline when asked for and it is a safe image type."""
    as_image = inline and mime in INLINE_IMAGES
    response = send_file(path, mimetype=mime, as_attachment=not as_image, download_name=name,
                         conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
