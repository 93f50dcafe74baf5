"""Untrusted input kept within what the databases can hold, in one place.

PostgreSQL's ``integer`` ends at 2^31 - 1 and SQLite's at 2^63 - 1; a larger
number sent to either fails inside the driver (a 500), and PostgreSQL refuses
any text holding a NUL byte.  So, for every route at once:

* ``<int:...>`` in a URL matches only 0 .. ``MAX_ID`` (a larger id is a 404,
  like any id that does not exist);
* ``request.args.get(name, type=int)`` (and ``request.form``) answers 400 for
  an integer beyond ±``MAX_ID`` instead of passing it on;
* a NUL byte in the path, a query or form value or an upload's file name is a 400.

Views reading numbers themselves use ``to_int`` and ``id_list``.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Request, abort, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

#: the largest id (and number) a request may carry: PostgreSQL's ``integer``
MAX_ID = 2**31 - 1


def to_int(raw: object, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """``raw`` as an int, None when it is no ASCII integer; 400 when beyond ``low``..``high``."""
    text = str(raw if raw is not None else "").strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()):
        return None
    if len(digits) > 20 or not low <= int(text) <= high:
        abort(400)
    return int(text)


def id_list(values: Iterable[str]) -> list[int]:
    """The distinct ids among ``values`` in order (non-numbers dropped, too large: 400)."""
    ids = (to_int(v) for v in values)
    return list(dict.fromkeys(i for i in ids if i is not None))


class BoundedInt(IntegerConverter):
    """``<int:...>`` matching 0 .. ``MAX_ID`` only (Werkzeug's own has no upper bound)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = MAX_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)


class BoundedArgs(ImmutableMultiDict):
    """Query and form values whose ``get(..., type=int)`` refuses numbers beyond ±``MAX_ID``."""

    def get(self, key, default=None, type=None):  # noqa: A002
        if type is int:
            value = to_int(super().get(key), low=-MAX_ID)
            return default if value is None else value
        return super().get(key, default, type)


class BoundedRequest(Request):
    parameter_storage_class = BoundedArgs


def refuse_nul() -> None:
    """400 for a NUL byte in the path, a query or form key or value, or a file name."""
    if "\x00" in request.path:
        abort(400)
    for source in (request.args, request.form):
        for key, value in source.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)
    if any("\x00" in (f.filename or "") for _, f in request.files.items(multi=True)):
        abort(400)


def init_app(app: Flask) -> None:
    """Call before registering blueprints: their rules take the converter as they are added."""
    app.url_map.converters["int"] = BoundedInt
    app.request_class = BoundedRequest
    app.before_request(refuse_nul)
