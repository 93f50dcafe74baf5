"""Pages with personal data tell browsers and proxies not to keep a copy (``no-store``)."""

from __future__ import annotations

import pytest
from test_publication import published  # noqa: F401  (fixture)


@pytest.mark.parametrize("who, path", [
    ("sec_V111", "/"), ("county_K1", "/ledger/"), ("sup_K1", "/board/"),
    ("town_T11", "/inbox/"), ("admin", "/admin/users"), ("city", "/account"),
    ("town_T11", "/items/999999"),  # error pages too: they carry the user's menu
])
def test_every_response_to_a_signed_in_user_is_no_store(signed_in, who, path):
    response = signed_in(who).get(path)
    assert response.headers["Cache-Control"] == "no-store"


def test_static_assets_keep_their_caching_for_signed_in_users(signed_in):
    client = signed_in("county_K1")
    for path in ("/static/css/sanhu.css", "/bootstrap/static/css/bootstrap.min.css"):
        response = client.get(path)
        response.close()  # a file response: let go of the file
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_the_sign_in_page_may_be_cached(client):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")


def test_the_public_notice_page_is_no_store(client, published):  # noqa: F811
    """The 公示 page shows the public's objections and, when refused, the sender's name again."""
    response = client.get(f"/results/p/{published}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
