"""Uploads that survive a failed form.

Files are put into the evidence store (content-addressed, checked by content
and size) as soon as they arrive.  When the form then fails — a missing field,
a conflict with someone else's change — the page carries a signed token per
file instead of asking for the upload again.  A token names the blob, its
display name and the user; it is useless to anyone else and says nothing about
items, so it cannot reach another item's evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from ledger.core.evidence import safe_display_name
from ledger.core.uow import UnitOfWork
from ledger.items.services import Upload

FIELD = "kept_file"


@dataclass(frozen=True)
class KeptFile:
    token: str
    sha256: str
    name: str
    size: int
    mime: str


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="sanhu-kept-upload")


def keep(uow: UnitOfWork, storage) -> KeptFile:
    """Store one uploaded file (``werkzeug.FileStorage``); raise ``EvidenceRejected``."""
    blob = uow.evidence.store(storage.stream)
    name = safe_display_name(storage.filename)
    token = _signer().dumps([blob.sha256, name, blob.size, blob.mime, current_user.user.id])
    return KeptFile(token, blob.sha256, name, blob.size, blob.mime)


def kept_from_request() -> list[KeptFile]:
    """The files kept from an earlier attempt, as listed (and not removed) in the form."""
    kept = []
    for token in request.form.getlist(FIELD):
        try:
            sha, name, size, mime, user_id = _signer().loads(token)
        except (BadSignature, ValueError, TypeError):
            continue
        if user_id == current_user.user.id:
            kept.append(KeptFile(token, sha, name, size, mime))
    return kept


def as_uploads(uow: UnitOfWork, kept: list[KeptFile]) -> list[Upload]:
    """Hand kept files to a service (re-storing a blob that exists costs a hash only)."""
    uploads = []
    for k in kept:
        with uow.evidence.open(k.sha256) as f:
            uploads.append(Upload(f.read(), k.name))
    return uploads
