"""Uploads that survive a failed form, without entering the evidence store.

A posted file is checked by content and size and *staged* (``EvidenceStore.stage``):
it reaches the store only when the service accepts the event.  When the form
fails instead — a missing field, a conflict with someone else's change — the
staged file moves to the store's ``kept/`` folder under a random id, and the
page carries a signed, timed token per file instead of asking for the upload
again.  A token names the kept file, its description and the user; it expires
after ``KEPT_MAX_AGE`` (the daily ``evidence_gc`` job removes kept files older
than that), is useless to anyone else and says nothing about items, so it
cannot reach another item's evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ledger.core.evidence import KEPT_MAX_AGE, StagedFile, StoredBlob
from ledger.core.uow import UnitOfWork

FIELD = "kept_file"


@dataclass(frozen=True)
class KeptFile:
    """A file kept for the retry, as the form lists it (``token`` goes back with the form)."""

    token: str
    name: str
    size: int
    mime: str


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="sanhu-kept-upload-v2")


def stage(uow: UnitOfWork, storage) -> StagedFile:
    """Check and stage one uploaded file (``werkzeug.FileStorage``); raise ``EvidenceRejected``."""
    return uow.evidence.stage(storage.stream, storage.filename)


def keep(uow: UnitOfWork, staged: StagedFile, user_id: int | None = None) -> KeptFile:
    """Keep a staged file for the retry and sign a fresh token for it (for ``user_id``,
    by default the signed-in user)."""
    kept = uow.evidence.keep(staged)
    blob = kept.blob
    owner = current_user.user.id if user_id is None else user_id
    token = _signer().dumps([kept.kept_id, blob.sha256, blob.size, blob.mime, blob.kind,
                             kept.name, owner])
    return KeptFile(token, kept.name, blob.size, blob.mime)


def kept_from_request(uow: UnitOfWork) -> list[StagedFile]:
    """The files kept from an earlier attempt, as listed (and not removed) in the form.

    Tokens that are forged, expired, another user's, or whose file is gone are ignored.
    """
    return kept_files(uow, request.form.getlist(FIELD), current_user.user.id)


def kept_files(uow: UnitOfWork, tokens: list[str], user_id: int,
               missing: list[str] | None = None) -> list[StagedFile]:
    """The kept files ``tokens`` name for ``user_id``; the tokens that name none (forged,
    expired, another user's, gone) are skipped, or listed in ``missing`` when given."""
    kept = []
    for token in tokens:
        try:
            kept_id, sha, size, mime, kind, name, owner = _signer().loads(
                token, max_age=int(KEPT_MAX_AGE.total_seconds()))
        except (BadSignature, ValueError, TypeError):
            kept_id = owner = None
        staged = None
        if kept_id is not None and owner == user_id:
            staged = uow.evidence.kept(kept_id, StoredBlob(sha, size, mime, kind), name)
        if staged is not None:
            kept.append(staged)
        elif missing is not None:
            missing.append(token)
    return kept
