"""A refused upload, shown once at the item's own address (Post/Redirect/Get).

When a file of an event's form is refused, the view does not answer the POST with
the page: a refresh would post the form again.  It keeps what the user typed, the
messages and the files that were accepted (``web.core.uploads.keep``), redirects
(303) to the item, and the item's page shows the form once more, filled in, with
the messages beside its fields.  The typed text can be longer than a session cookie
holds, so it waits in the evidence store's ``kept/`` folder
(``EvidenceStore.keep_text``); the session holds only its id.  Reading it removes it:
the next visit shows the plain page.
"""

from __future__ import annotations

import json

from flask import session
from werkzeug.datastructures import MultiDict

from ledger.core.uow import UnitOfWork
from web.core.uploads import FIELD as KEPT_FIELD
from web.core.uploads import KeptFile

KEY = "sanhu_refused_form"
#: posted fields that are not the user's typing
NOT_TYPED = {"csrf_token", KEPT_FIELD}


def save(uow: UnitOfWork, item_id: int, event: str, form, formdata: MultiDict,
         kept: list[KeptFile], message: str) -> None:
    """Keep a refused form of ``event`` on ``item_id`` for the next visit of the item."""
    typed = {key: formdata.getlist(key) for key in formdata if key not in NOT_TYPED}
    errors = {name: list(field.errors) for name, field in form._fields.items() if field.errors}
    data = {"event": event, "typed": typed, "errors": errors, "message": message,
            "kept": [[k.token, k.name, k.size, k.mime] for k in kept]}
    kept_id = uow.evidence.keep_text(json.dumps(data, ensure_ascii=False).encode())
    session[KEY] = {"item": item_id, "id": kept_id}


def take(uow: UnitOfWork, item_id: int) -> dict | None:
    """The refused form kept for ``item_id`` (once), or None.

    Returns ``event``, ``formdata`` (a ``MultiDict`` to build the form from),
    ``errors`` (field name → messages), ``message`` and ``kept`` (``KeptFile``s).
    A form kept for another item is dropped: the user went elsewhere.
    """
    pointer = session.pop(KEY, None)
    if not isinstance(pointer, dict):
        return None
    raw = uow.evidence.take_text(pointer.get("id"))
    if raw is None or pointer.get("item") != item_id:
        return None
    data = json.loads(raw)
    return {"event": data["event"], "errors": data["errors"], "message": data["message"],
            "formdata": MultiDict([(k, v) for k, values in data["typed"].items()
                                   for v in values]),
            "kept": [KeptFile(*k) for k in data["kept"]]}
