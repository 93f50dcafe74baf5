"""The rate limit counts per token: the (N+1)th request of a minute is 429 with
``Retry-After`` as problem+json, while another token is still served."""

from __future__ import annotations

import dataclasses

from api_fixtures import ApiClient, make_token

from web import create_app

RATE = 5


def app_with_rate(sanhu, rate: int):
    """The app on the same database, with SANHU_API_RATE_PER_MINUTE=rate."""
    return create_app(sanhu=dataclasses.replace(
        sanhu, settings=sanhu.settings.with_(api_rate_per_minute=rate)))


def test_the_request_over_the_limit_is_429_and_another_token_is_still_served(sanhu, world):
    app = app_with_rate(sanhu, RATE)
    busy = ApiClient(app.test_client(), make_token(sanhu, world["town_T11"]))
    calm = ApiClient(app.test_client(), make_token(sanhu, world["town_T12"]))

    for _ in range(RATE):
        assert busy.get("/api/v1/items").status_code == 200
    refused = busy.get("/api/v1/items")
    assert refused.status_code == 429
    assert refused.content_type == "application/problem+json"
    assert refused.json["type"] == "/api/v1/problems/rate-limited"
    assert refused.json["status"] == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "<html" not in refused.get_data(as_text=True).lower()

    assert calm.get("/api/v1/items").status_code == 200
    # the same user's second token has its own count
    second = ApiClient(app.test_client(), make_token(sanhu, world["town_T11"], name="second"))
    assert second.get("/api/v1/items").status_code == 200

