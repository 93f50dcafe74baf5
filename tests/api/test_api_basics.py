"""What every API call shares: the OpenAPI document and its docs page, tokens,
read-only browser sessions, problem+json for every error, body limits."""

from __future__ import annotations

import datetime as dt
import re

import time_machine
from api_fixtures import make_token
from sqlalchemy import update
from web_fixtures import csrf_token

from ledger.core.models import User
from ledger.org import tokens


def test_the_openapi_document_is_3_1_and_describes_the_items_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json
    assert doc["openapi"] == "3.1.0"
    assert "/api/v1/items" in doc["paths"]
    assert "/api/v1/items/{item_id}/events/{event}" in doc["paths"]
    fire = doc["paths"]["/api/v1/items/{item_id}/events/{event}"]["post"]
    assert any(p["name"] == "If-Match" and p["required"] for p in fire["parameters"])
    assert {"412", "428"} <= set(fire["responses"])
    assert doc["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    error = doc["components"]["responses"]["DEFAULT_ERROR"]
    assert "application/problem+json" in error["content"]


def test_the_docs_page_loads_only_the_apps_own_assets(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        response.close()
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"].split("script-src")[1] \
        .split(";")[0]
    assert client.get("/api/v1/docs/assets/swagger-editor-bundle.js").status_code == 404


def test_problem_types_are_listed(client):
    types = client.get("/api/v1/problems/").json
    assert types["precondition-failed"]["status"] == 412
    assert client.get("/api/v1/problems/not-found").json["status"] == 404


def test_a_signed_in_browser_may_read_but_never_write(signed_in, world):
    browser = signed_in("town_T11")
    assert browser.get("/api/v1/items").status_code == 200
    token = csrf_token(browser, "/items/new")
    refused = browser.post("/api/v1/items", json={"unit_id": world.units["V111"].id,
                                                  "description": "x"},
                           headers={"X-CSRFToken": token})
    assert refused.status_code == 401
    assert refused.content_type == "application/problem+json"


def test_a_token_stops_working_when_its_user_changes_password_or_is_disabled(
        client, sanhu, world):
    secret = make_token(sanhu, world["sec_V111"])
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/items", headers=headers).status_code == 200
    with sanhu.uow() as uow:  # what a password change or an admin's reset does
        uow.session.execute(update(User).where(User.id == world["sec_V111"].id)
                            .values(session_version=User.session_version + 1))
        uow.commit()
    assert client.get("/api/v1/items", headers=headers).status_code == 401

    secret = make_token(sanhu, world["sec_V112"])
    headers = {"Authorization": f"Bearer {secret}"}
    with sanhu.uow() as uow:
        uow.session.execute(update(User).where(User.id == world["sec_V112"].id)
                            .values(active=False))
        uow.commit()
    assert client.get("/api/v1/items", headers=headers).status_code == 401


def test_a_token_expires_and_can_be_revoked(client, sanhu, world):
    with sanhu.uow() as uow:
        made = tokens.create(uow, world["town_T11"], name="dashboard", days=1)
    headers = {"Authorization": f"Bearer {made.secret}"}
    assert client.get("/api/v1/items", headers=headers).status_code == 200
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=1, minutes=1)):
        assert client.get("/api/v1/items", headers=headers).status_code == 401

    with sanhu.uow() as uow:
        other = tokens.create(uow, world["town_T11"], name="script")
    headers = {"Authorization": f"Bearer {other.secret}"}
    with sanhu.uow() as uow:
        tokens.revoke(uow, world["admin"], other.id)
    assert client.get("/api/v1/items", headers=headers).status_code == 401


def test_tokens_are_stored_as_hashes_and_record_their_last_use(client, sanhu, world):
    secret = make_token(sanhu, world["town_T11"])
    client.get("/api/v1/items", headers={"Authorization": f"Bearer {secret}"})
    with sanhu.uow() as uow:
        (token,) = tokens.list_for(uow, world["town_T11"].id)
        assert secret not in (token.secret_hash, token.prefix)
        assert secret.startswith(token.prefix) and token.last_used_at is not None


def test_unknown_paths_and_methods_answer_problems_not_pages(api_as):
    town = api_as("town_T11")
    missing = town.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"
    wrong = town.client.delete("/api/v1/items", headers=town.headers())
    assert wrong.status_code == 405 and wrong.json["type"] == "/api/v1/problems/method-not-allowed"
    assert "GET" in wrong.headers["Allow"]


def test_a_body_over_the_limit_is_413_before_it_is_read(api_as, world):
    town = api_as("town_T11")
    response = town.post("/api/v1/items", json={"unit_id": world.units["V111"].id,
                                                "description": "长" * 200_000})
    assert response.status_code == 413
    assert response.json["type"] == "/api/v1/problems/too-large"


def test_an_unexpected_error_is_a_problem_without_a_trace(app, api_as, monkeypatch):
    from web.api import items

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(items, "items_after", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = api_as("town_T11").get("/api/v1/items")
    assert response.status_code == 500
    assert response.content_type == "application/problem+json"
    assert "secret internals" not in response.get_data(as_text=True)
