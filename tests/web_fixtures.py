"""Flask test-client fixtures and helpers shared by the web tests (a pytest plugin).

Import the helpers with ``from web_fixtures import csrf_token, sign_in``.

``app``/``client`` run the real app on the per-test SQLite database;
``signed_in(name)`` returns a client signed in as a ``World`` user;
``csrf_token(client, path)`` reads the token from a rendered form.
"""

from __future__ import annotations

import re

import pytest

from web import create_app

PASSWORD = "pw-for-tests-1"  # the same as conftest.PASSWORD


@pytest.fixture
def app(sanhu):
    return create_app(sanhu=sanhu)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, username: str, password: str = PASSWORD, **extra):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client), **extra})


@pytest.fixture
def signed_in(app, world):
    """Factory: a fresh test client signed in as the named ``World`` user."""
    def make(name: str):
        c = app.test_client()
        response = sign_in(c, name)
        assert response.status_code == 302, f"{name} could not sign in"
        return c
    return make
