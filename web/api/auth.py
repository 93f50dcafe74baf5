"""Who an API request acts as.

``Authorization: Bearer <token>`` (a personal access token, ``ledger.org.tokens``)
acts as the token's user, with exactly the user's role, unit and scope.  A
signed-in browser session may read (GET/HEAD) but never write: CSRF does not
apply to the API, so writes need a token, which a browser never sends by itself.
The documentation, the OpenAPI document and the list of problem types are
public.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, request
from flask_login import current_user

from ledger.core.actors import Actor
from ledger.core.models import Unit, User
from ledger.org import tokens
from web.core.extensions import sanhu

PUBLIC_ENDPOINTS = {"api-docs.openapi_json", "api_docs.page", "api_docs.asset",
                    "api_docs.problem_types", "api_docs.problem_type"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Caller:
    """The user behind a request: the actor for services, and how they came."""

    actor: Actor
    user: User
    unit: Unit
    token_id: int | None


class Unauthorized(Exception):
    """No (valid) credentials: answered 401 with ``WWW-Authenticate``."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def caller() -> Caller:
    """The caller of this API request (set before the view runs)."""
    return g.api_caller


def actor() -> Actor:
    return g.api_caller.actor


def _authenticate() -> None:
    if not request.path.startswith("/api/") or request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthorized("Use 'Authorization: Bearer <token>'.")
        with sanhu().uow() as uow:
            found = tokens.authenticate(uow, secret.strip())
        if found is None:
            raise Unauthorized("The token is unknown, expired or revoked, or its user's "
                               "password or status changed.")
        g.api_caller = Caller(Actor.of(found.user, found.unit), found.user, found.unit,
                              found.token_id)
        return
    if current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            raise Unauthorized("A signed-in browser session may only read; changes need "
                               "a personal access token.")
        g.api_caller = Caller(current_user.actor, current_user.user, current_user.unit, None)
        return
    raise Unauthorized("A personal access token is needed (Authorization: Bearer <token>).")


def init_app(app: Flask) -> None:
    from web.api.limits import limit_body

    app.before_request(limit_body)
    app.before_request(_authenticate)
