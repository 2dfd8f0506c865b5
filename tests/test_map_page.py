"""The command-post page `/` in process: language choice, badge, config, caching."""

from __future__ import annotations

import json
import re

import pytest

from floodpost.auth.accounts import create_account
from floodpost.web.routers.pages_map import command_post_page


@pytest.fixture
def client(client, bearer):
    """The in-process client signed in as staff (the page needs a session or a bearer token)."""
    client.headers.update(bearer("staff"))
    return client


def test_signed_out_visitors_are_sent_to_login(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as anonymous:
        r = anonymous.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def _config(html: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="floodpost-config">(.*?)</script>', html, re.S
    )
    assert match
    return json.loads(match.group(1))


def test_page_is_chinese_by_default_with_nav_and_badge(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="zh-CN">' in html
    assert "绥宁县防汛指挥" in html
    for href, text in (
        ("/", "指挥图"),
        ("/report", "上报"),
        ("/review", "复盘"),
    ):
        assert re.search(rf'<a href="{re.escape(href)}"[^>]*>{text}</a>', html), text
    assert 'id="demo-badge"' in html and "示例数据" in html
    assert "floodpost-config" in html and 'class="folium-map"' in html
    assert "/static/js/map.js" in html


def test_page_assets_are_all_local(client):
    html = client.get("/").text
    refs = re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)=[\"']([^\"']+)", html)
    assert refs and all(ref.startswith("/static/") for ref in refs), refs
    for ref in set(refs):
        assert client.get(ref).status_code == 200, ref
    assert not re.search(r"https?://", html)  # the test settings have no basemap


def test_config_names_the_map_and_layers(client):
    cfg = _config(client.get("/").text)
    assert re.fullmatch(r"map_[0-9a-f]+", cfg["map"])
    assert set(cfg["layers"]) == {
        "county",
        "townships",
        "villages",
        "reservoirs",
        "shelters",
        "zones",
    }
    assert cfg["datum"] == "wgs84" and cfg["basemap"] is False
    assert "villages" in cfg["demo_layers"]


def test_english_by_query_then_cookie_then_accept_language(client):
    r = client.get("/?lang=en")
    assert '<html lang="en">' in r.text and "Suining County flood command" in r.text
    assert r.cookies.get("lang") == "en"
    assert '<html lang="en">' in client.get("/").text  # the cookie remembers it
    client.cookies.clear()
    assert '<html lang="zh-CN">' in client.get("/").text
    r = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in r.text
    assert "lang" not in r.cookies  # only an explicit choice is remembered


def test_language_switch_links_keep_the_page(client):
    html = client.get("/?lang=en").text
    assert 'href="/?lang=zh_CN"' in html
    assert 'href="/?lang=en"' in html


def test_map_is_built_once_per_language(client, app):
    first = _config(client.get("/").text)["map"]
    again = _config(client.get("/").text)["map"]
    assert first == again
    ctx = app.state.ctx
    assert command_post_page(ctx, "zh_CN") is command_post_page(ctx, "zh_CN")
    assert command_post_page(ctx, "en") is not command_post_page(ctx, "zh_CN")


def test_gcj02_basemap_reaches_the_page(settings, catalogue):
    from fastapi.testclient import TestClient

    from floodpost.web.app import create_app

    settings = settings.model_copy(
        update={"tile_url": "http://127.0.0.1:9/{z}/{x}/{y}.png", "tile_crs": "gcj02"}
    )
    app = create_app(settings, catalogue=catalogue)
    with TestClient(app) as c:
        create_account(app.state.ctx.store, "staff1", "staff", "a long enough password")
        token = c.post(
            "/api/auth/token", data={"username": "staff1", "password": "a long enough password"}
        ).json()["access_token"]
        html = c.get("/", headers={"Authorization": f"Bearer {token}"}).text
    cfg = _config(html)
    assert cfg["datum"] == "gcj02" and cfg["basemap"] is True
    assert "http://127.0.0.1:9/{z}/{x}/{y}.png" in html


def test_unknown_basemap_datum_is_refused_at_start(settings, catalogue):
    import pytest

    from floodpost.errors import ConfigError
    from floodpost.web.app import create_app

    with pytest.raises(ConfigError, match="tile_crs|TILE_CRS"):
        create_app(settings.model_copy(update={"tile_crs": "mercator"}), catalogue=catalogue)


def test_nav_shows_the_signed_in_user(client):
    html = client.get("/").text
    assert 'class="fp-user">staff-user<' in html
    assert 'action="/logout"' in html and 'href="/login"' not in html


def test_sign_out_from_the_map_page_works_with_its_csrf_value(app):
    """A cookie session signs out with the form the map page renders (CSRF value included)."""
    from fastapi.testclient import TestClient

    from tests.conftest import TEST_PASSWORD

    create_account(app.state.ctx.store, "cookie-staff", "staff", TEST_PASSWORD)
    with TestClient(app) as browser:
        login_page = browser.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
        r = browser.post(
            "/login",
            data={"username": "cookie-staff", "password": TEST_PASSWORD, "csrf_token": csrf},
            follow_redirects=False,
        )
        assert r.status_code == 303
        page = browser.get("/").text
        token = re.search(
            r'action="/logout">\s*<input type="hidden" name="csrf_token" value="([^"]+)"', page
        )
        assert token, "the map page's sign-out form carries no CSRF value"
        out = browser.post("/logout", data={"csrf_token": token.group(1)}, follow_redirects=False)
        assert out.status_code in (303, 302)
        assert browser.get("/", follow_redirects=False).status_code == 303  # signed out
