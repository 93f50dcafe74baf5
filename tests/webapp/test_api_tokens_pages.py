"""API tokens on the account page and the admin's user page: made and shown once, used,
revoked, and ended by a password change or a disabled account."""

from __future__ import annotations

import re

import pytest
from web_fixtures import PASSWORD, csrf_token, sign_in

from ledger.core.models import Unit
from ledger.org import tokens
from ledger.org.directory import add_user

SECRET = re.compile(r"sanhu_[A-Za-z0-9_-]{43}")


def make_token(client, name: str = "县里的报表脚本", days: int = 30):
    """Create a token on the account page; the response and the secret it shows."""
    response = client.post("/account/tokens", data={
        "name": name, "days": days, "csrf_token": csrf_token(client, "/account")})
    found = SECRET.search(response.get_data(as_text=True))
    return response, found.group(0) if found else None


def api_status(app, secret: str) -> int:
    """What ``GET /api/v1/items`` answers a fresh client sending the token."""
    return app.test_client().get("/api/v1/items", headers={
        "Authorization": f"Bearer {secret}"}).status_code


def token_id(sanhu, user_id: int) -> int:
    with sanhu.uow() as uow:
        return tokens.list_for(uow, user_id)[0].id


def test_a_new_token_is_shown_once_and_works_until_revoked(app, sanhu, world, signed_in):
    client = signed_in("sec_V111")
    page = client.get("/account").get_data(as_text=True)
    assert "API 令牌" in page and "暂无 API 令牌" in page
    response, secret = make_token(client)
    assert response.status_code == 200 and secret, response.get_data(as_text=True)
    assert "仅显示这一次" in response.get_data(as_text=True)
    assert "no-store" in response.headers["Cache-Control"]

    page = client.get("/account").get_data(as_text=True)
    assert secret not in page and secret[:12] + "…" in page
    assert "县里的报表脚本" in page and "有效" in page and "从未使用" in page
    assert api_status(app, secret) == 200
    assert "从未使用" not in client.get("/account").get_data(as_text=True)

    tid = token_id(sanhu, world["sec_V111"].id)
    revoked = client.post(f"/account/tokens/{tid}/revoke",
                          data={"csrf_token": csrf_token(client, "/account")})
    assert revoked.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "API 令牌已吊销" in page and "已吊销" in page
    assert api_status(app, secret) == 401


def test_a_password_change_ends_the_users_tokens(app, signed_in):
    client = signed_in("county_K1")
    _, secret = make_token(client)
    assert api_status(app, secret) == 200
    changed = client.post("/account", data={
        "current": PASSWORD, "new": "a-brand-new-secret", "confirm": "a-brand-new-secret",
        "csrf_token": csrf_token(client, "/account")})
    assert changed.status_code == 302
    assert api_status(app, secret) == 401
    assert "已失效" in client.get("/account").get_data(as_text=True)


def test_an_admin_disabling_the_user_ends_their_tokens(app, world, signed_in):
    _, secret = make_token(signed_in("sec_V111"))
    admin = signed_in("admin")
    user_page = f"/admin/users/{world['sec_V111'].id}"
    response = admin.post(f"{user_page}/disable",
                          data={"csrf_token": csrf_token(admin, user_page)})
    assert response.status_code == 302
    assert api_status(app, secret) == 401


def test_an_admin_sees_and_revokes_another_users_token(app, sanhu, world, signed_in):
    _, secret = make_token(signed_in("town_T11"), name="乡镇同步")
    admin = signed_in("admin")
    user_page = f"/admin/users/{world['town_T11'].id}"
    html = admin.get(user_page).get_data(as_text=True)
    assert "乡镇同步" in html and secret not in html and secret[:12] in html
    tid = token_id(sanhu, world["town_T11"].id)
    response = admin.post(f"{user_page}/tokens/{tid}/revoke",
                          data={"csrf_token": csrf_token(admin, user_page)})
    assert response.status_code == 302
    assert "已吊销" in admin.get(user_page).get_data(as_text=True)
    assert api_status(app, secret) == 401


@pytest.fixture
def admin_k1(sanhu, world, app):
    """A client signed in as an administrator of county K1 only."""
    with sanhu.uow() as uow:
        add_user(uow.session, username="admin_K1", display_name="县1管理员", role="admin",
                 unit=uow.session.get(Unit, world.units["K1"].id), password=PASSWORD)
        uow.commit()
    client = app.test_client()
    assert sign_in(client, "admin_K1").status_code == 302
    return client


def test_a_county_admin_can_neither_see_nor_revoke_tokens_outside_the_county(
        app, sanhu, world, signed_in, admin_k1):
    _, secret = make_token(signed_in("sec_V211"))  # county K2
    theirs = token_id(sanhu, world["sec_V211"].id)
    inside = f"/admin/users/{world['sec_V111'].id}"
    outside = f"/admin/users/{world['sec_V211'].id}"
    token = csrf_token(admin_k1, inside)
    assert admin_k1.get(outside).status_code == 404
    assert admin_k1.post(f"{outside}/tokens/{theirs}/revoke",
                         data={"csrf_token": token}).status_code == 404
    # nor through a user of the county
    assert admin_k1.post(f"{inside}/tokens/{theirs}/revoke",
                         data={"csrf_token": token}).status_code == 404
    assert api_status(app, secret) == 200


def test_a_user_cannot_revoke_someone_elses_token_from_the_account_page(
        app, sanhu, world, signed_in):
    _, secret = make_token(signed_in("sec_V112"))
    theirs = token_id(sanhu, world["sec_V112"].id)
    client = signed_in("sec_V111")
    response = client.post(f"/account/tokens/{theirs}/revoke",
                           data={"csrf_token": csrf_token(client, "/account")})
    assert response.status_code == 404
    assert api_status(app, secret) == 200


def test_forms_without_the_csrf_token_are_refused(app, sanhu, world, signed_in):
    client = signed_in("sec_V111")
    assert client.post("/account/tokens", data={"name": "x", "days": 30}).status_code == 400
    _, secret = make_token(client)
    tid = token_id(sanhu, world["sec_V111"].id)
    assert client.post(f"/account/tokens/{tid}/revoke").status_code == 400
    admin = signed_in("admin")
    assert admin.post(f"/admin/users/{world['sec_V111'].id}/tokens/{tid}/revoke"
                      ).status_code == 400
    assert api_status(app, secret) == 200


def test_a_token_needs_a_name_and_an_offered_lifetime(sanhu, world, signed_in):
    client = signed_in("sec_V111")
    response, secret = make_token(client, name="   ")
    assert response.status_code == 302 and secret is None
    response, secret = make_token(client, days=1000)
    assert response.status_code == 302 and secret is None
    with sanhu.uow() as uow:
        assert tokens.list_for(uow, world["sec_V111"].id) == []
