"""Friendly error pages (400, 403, 404, 409, 413, 500) in the user's language."""

from __future__ import annotations

import logging

import pytest
from flask import abort

from ledger.core.errors import Conflict, NotFound, PermissionDenied
from web import create_app


@pytest.fixture
def app(sanhu):
    """The real app with a small upload limit and a few routes that fail on purpose."""
    app = create_app(sanhu=sanhu, config={"MAX_CONTENT_LENGTH": 4096})

    def boom():
        raise RuntimeError("an unexpected failure")

    def domain(kind: str):
        raise {"forbidden": PermissionDenied("no"), "conflict": Conflict("changed"),
               "missing": NotFound("no such item")}[kind]

    def aborted(code: int):
        abort(code)

    app.add_url_rule("/_test/boom", view_func=boom)
    app.add_url_rule("/_test/domain/<kind>", view_func=domain)
    app.add_url_rule("/_test/abort/<int:code>", view_func=aborted)
    return app


@pytest.fixture
def english(client):
    client.set_cookie("sanhu_lang", "en")
    return client


def page(response, code: int) -> str:
    assert response.status_code == code
    assert "text/html" in response.content_type
    html = response.get_data(as_text=True)
    assert f'<h1 class="h3">{code}</h1>' in html  # the friendly page, not Werkzeug's
    return html


def test_an_unknown_page_answers_404_in_chinese(client):
    assert "未找到" in page(client.get("/no/such/page"), 404)


def test_404_in_english(english):
    assert "Not found." in page(english.get("/no/such/page"), 404)


def test_a_missing_csrf_token_answers_400_with_a_hint_to_reload(client):
    html = page(client.post("/login", data={"username": "city", "password": "x"}), 400)
    assert "安全令牌" in html and "请刷新页面后重新提交" in html


def test_a_wrong_csrf_token_answers_400_in_english_too(english):
    html = page(english.post("/login", data={"username": "city", "csrf_token": "forged"}), 400)
    assert "Reload the page and send the form again." in html


def test_a_request_over_the_size_limit_answers_413(client):
    html = page(client.post("/login", data={"username": "x" * 8000}), 413)
    assert "上传的文件过大" in html


def test_413_in_english(english):
    assert "The upload is too large." in page(english.post("/login", data={"f": "x" * 8000}),
                                              413)


def test_an_unexpected_exception_is_logged_and_answers_a_friendly_500(client, caplog):
    with caplog.at_level(logging.ERROR):
        html = page(client.get("/_test/boom"), 500)
    assert "系统出现错误" in html
    assert any(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in caplog.records)


def test_500_in_english(english, caplog):
    with caplog.at_level(logging.CRITICAL):
        assert "Something went wrong on our side." in page(english.get("/_test/boom"), 500)


def test_if_even_the_500_page_fails_a_plain_page_answers(client, monkeypatch, caplog):
    import web.core.errors

    def broken(*args, **kwargs):
        raise RuntimeError("templates are gone")

    monkeypatch.setattr(web.core.errors, "render_template", broken)
    with caplog.at_level(logging.CRITICAL):
        response = client.get("/_test/boom")
    assert response.status_code == 500
    assert "系统出现错误" in response.get_data(as_text=True)


@pytest.mark.parametrize("kind, code, chinese", [
    ("forbidden", 403, "您无权"),
    ("conflict", 409, "已被他人修改"),
    ("missing", 404, "未找到"),
])
def test_domain_errors_a_view_did_not_catch_become_friendly_pages(client, kind, code, chinese):
    assert chinese in page(client.get(f"/_test/domain/{kind}"), code)


@pytest.mark.parametrize("code, english_text", [
    (400, "The request could not be understood."),
    (403, "You may not do this."),
    (409, "Someone else changed this meanwhile."),
])
def test_aborts_render_the_friendly_page_in_english(english, code, english_text):
    assert english_text in page(english.get(f"/_test/abort/{code}"), code)
