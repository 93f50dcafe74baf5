"""The JSON API under ``/api/v1`` (flask-smorest: marshmallow schemas, OpenAPI 3.1).

One set of marshmallow schemas validates each request, serialises each
response and generates the OpenAPI document at ``/api/v1/openapi.json``; the
docs page ``/api/v1/docs`` is Swagger UI served from the ``swagger-ui-py``
package (no CDN).  Every view calls the same ``ledger`` services as the pages;
authentication (personal access tokens), problem+json errors, ETags and rate
limits are set up here.
"""

from __future__ import annotations

import http

from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from flask_smorest import Api as SmorestApi
from flask_smorest.utils import prepare_response

from web.api import auth, docs, errors, limits
from web.api.schemas import Problem

API_PREFIX = "/api/v1"


class Api(SmorestApi):
    """flask-smorest's Api with problem+json errors, documented as such, and no
    app-wide JSON error handler (the pages keep their HTML errors)."""

    ERROR_SCHEMA = Problem

    def _register_error_handlers(self):
        """Errors are handled for ``/api/`` only, by ``web.api.errors``."""

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, errors.MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (RFC 9457 problem details)",
                    "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, errors.MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


api = Api()


def init_app(app: Flask) -> None:
    from web.api import (
        catalog,
        items,
        notifications,
        observation_record,
        observations,
        org,
        rankings,
        supervision,
        workflow,
    )
    from web.core.extensions import csrf

    app.config.update(
        API_TITLE="Sanhu API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {"description": docs.DESCRIPTION},
            "servers": [{"url": "/"}],
            "components": {"securitySchemes": {
                "token": {"type": "http", "scheme": "bearer",
                          "description": "A personal access token (account page)."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "A signed-in browser session: reads only."}}},
            "security": [{"token": []}, {"session": []}],
        },
    )
    api.init_app(app, spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(
        schema_name_resolver=_schema_name)})
    auth.init_app(app)  # before the rate limit, which counts per token
    limits.init_app(app)
    errors.init_app(app)
    for module in (items, org, catalog, workflow, observations, observation_record,
                   notifications, supervision, rankings):
        csrf.exempt(module.blp)  # token requests; a session cookie never writes
        limits.limit(module.blp)
        api.register_blueprint(module.blp)
    docs.init_app(app)
    csrf.exempt(docs.bp)


def _schema_name(schema) -> str | None:
    """Component names without the ``Schema`` suffix; partial/only variants inline."""
    from apispec.ext.marshmallow.common import resolve_schema_cls

    cls = resolve_schema_cls(schema)
    name = cls.__name__
    if getattr(schema, "partial", False) or getattr(schema, "only", None):
        return None
    return name[:-6] if name.endswith("Schema") else name
