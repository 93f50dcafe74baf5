"""Versions as ETags, and ``If-Match`` on every change.

An item's (or an observation's) version is its ETag: ``"7"``.  A change must
send ``If-Match`` with the ETag the client read: without it the API answers
428, with a stale one 412 and the current representation, so no client can
overwrite a change it has not seen.  ``If-Match: *`` is refused like a missing
header: it would say "whatever is there now".
"""

from __future__ import annotations

import re

from flask import request

from web.api.errors import problem

_TAG = re.compile(r'^\s*(?:W/)?"(\d{1,9})"\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version():
    """The version ``If-Match`` names, or a 428 problem response to return instead."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None, problem(
            "precondition-required",
            "Send If-Match with the ETag of the version you read (GET it first).")
    versions = [m.group(1) for m in (_TAG.match(part) for part in raw.split(",")) if m]
    if len(versions) != 1:
        return None, problem("precondition-required",
                             'If-Match must name exactly one version, like "7".')
    return int(versions[0]), None


def stale(current: dict, version: int):
    """412 with the current representation and its ETag."""
    response = problem("precondition-failed",
                       "Someone changed this since you read it; here is the current "
                       "version. Check it and send your change again with its ETag.",
                       current=current)
    response.headers["ETag"] = etag(version)
    return response


#: the documentation of the If-Match header (OpenAPI parameter)
IF_MATCH = {"name": "If-Match", "in": "header", "required": True,
            "description": 'The ETag you read, e.g. "7" (428 without it, 412 when stale)',
            "schema": {"type": "string", "pattern": r'^(W/)?"[0-9]{1,9}"$'}}
ETAG_HEADER = {"ETag": {"description": "The version, to send back as If-Match",
                        "schema": {"type": "string", "pattern": r'^(W/)?"[0-9]{1,9}"$'}}}
