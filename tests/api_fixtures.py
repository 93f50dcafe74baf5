"""API test helpers (a pytest plugin): tokens for ``World`` users and a client that
sends them.

``api_as(name)`` returns an ``ApiClient`` for the named user: ``get``/``post``
send ``Authorization: Bearer`` and JSON, and ``etag(path)`` reads an ETag.
"""

from __future__ import annotations

import pytest

from ledger.org import tokens


class ApiClient:
    def __init__(self, client, token: str) -> None:
        self.client = client
        self.token = token

    def headers(self, extra: dict | None = None) -> dict:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **kw):
        return self.client.get(path, headers=self.headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, json=None, **kw):
        return self.client.post(path, json=json, headers=self.headers(kw.pop("headers", None)),
                                **kw)

    def etag(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.headers["ETag"]

    def fire(self, item_id: int, event: str, body: dict | None = None, etag: str | None = None):
        tag = etag or self.etag(f"/api/v1/items/{item_id}")
        return self.post(f"/api/v1/items/{item_id}/events/{event}", json=body or {},
                         headers={"If-Match": tag})


def make_token(sanhu, actor, name: str = "tests", days: int = 30) -> str:
    with sanhu.uow() as uow:
        return tokens.create(uow, actor, name=name, days=days).secret


@pytest.fixture
def api_as(app, sanhu, world):
    """Factory: an ``ApiClient`` acting as the named ``World`` user."""
    made: dict[str, ApiClient] = {}

    def make(name: str) -> ApiClient:
        if name not in made:
            made[name] = ApiClient(app.test_client(), make_token(sanhu, world[name]))
        return made[name]
    return make


@pytest.fixture
def any_api_as(any_sanhu, any_world):
    """``api_as`` on SQLite and on PostgreSQL (when configured)."""
    from web import create_app

    app = create_app(sanhu=any_sanhu)
    made: dict[str, ApiClient] = {}

    def make(name: str) -> ApiClient:
        if name not in made:
            made[name] = ApiClient(app.test_client(), make_token(any_sanhu, any_world[name]))
        return made[name]
    return make
