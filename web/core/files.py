"""Serving a stored file (evidence, record photos, plan attachments) after the caller's
permission check.

Every file is served under a name whose extension matches its detected type
(``ledger.core.evidence.download_name``: a JPEG stored as ``整改报告.hta``
downloads as ``整改报告.jpg``), as an attachment, never cached, with
``X-Content-Type-Options: nosniff`` and a sandboxing Content-Security-Policy.
Only images of a type a browser renders safely may be shown inline.
"""

from __future__ import annotations

from pathlib import Path

from flask import Response, send_file

from ledger.core.evidence import download_name

INLINE_IMAGES = ("image/jpeg", "image/png", "image/gif", "image/webp")
#: nothing in a served file may run, load or navigate anything
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'none'; sandbox"


def send_private(path: Path, mime: str, name: str, *, inline: bool = False) -> Response:
    """The file as a download, or inline when asked for and it is a safe image type.

    ``mime`` is the type detected from the content when the file was stored;
    ``name`` the uploader's name, kept only as the stem of the download name.
    """
    as_image = inline and mime in INLINE_IMAGES
    response = send_file(path, mimetype=mime, as_attachment=not as_image,
                         download_name=download_name(name, mime), conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    return response
