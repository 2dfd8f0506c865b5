"""HTML errors are pages in the visitor's language; /review names the county in it."""

from __future__ import annotations

import pytest

from floodpost.i18n import load_catalogue
from floodpost.web.errors import EXPLAINED

HTML = {"accept": "text/html"}


@pytest.mark.parametrize(
    ("lang", "title", "sentence", "home"),
    [
        ("zh_CN", "出错了", "您的账号没有权限查看此页面。", "返回指挥图"),
        (
            "en",
            "Something went wrong",
            "Your account may not see this page.",
            "Back to the command map",
        ),
    ],
)
def test_forbidden_page_speaks_the_visitors_language(client, bearer, lang, title, sentence, home):
    r = client.get(f"/review?lang={lang}", headers={**HTML, **bearer("field")})
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert f"403 · {title}" in page and sentence in page and f'href="/">{home}</a>' in page
    assert 'class="fp-user">field-user<' in page  # the usual nav: the page is a page


def test_error_detail_is_escaped(app):
    from starlette.requests import Request

    from floodpost.errors import NotFound
    from floodpost.web.errors import render_error

    scope = {"type": "http", "method": "GET", "path": "/x", "query_string": b"", "app": app,
             "headers": [(b"accept", b"text/html")], "state": {}}  # fmt: skip
    response = render_error(Request(scope), NotFound("no report <script>alert(1)</script>"))
    assert response.status_code == 404
    body = bytes(response.body).decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body


def test_validation_error_page(client, bearer):
    r = client.get("/api/live/feed?limit=0", headers={**bearer("staff"), **HTML})
    # /api/* answers JSON whatever the Accept header: scripts read the field name.
    assert r.status_code == 422 and r.json()["field"] == "limit"
    r = client.post("/login?lang=en", data={"username": "x" * 300}, headers=HTML)
    assert r.status_code == 422
    assert "Something in what was sent is not valid" in r.text
    assert "username" in r.text


def test_every_explained_status_has_a_sentence_in_both_languages():
    for lang in ("zh_CN", "en"):
        catalogue = load_catalogue(lang)
        for status in (*EXPLAINED, "other"):
            assert catalogue.get(f"error.status.{status}"), (lang, status)


def test_review_names_the_county_in_the_page_language(client, bearer):
    headers = bearer("viewer")
    en = client.get("/review?lang=en", headers=headers)
    assert en.status_code == 200
    assert "Suining County" in en.text and "绥宁县" not in en.text
    zh = client.get("/review?lang=zh_CN", headers=headers)
    assert "绥宁县" in zh.text
