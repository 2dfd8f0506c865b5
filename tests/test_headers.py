"""Security headers on every page and the CSRF value bound to the session (issue 13)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.reports_support import PASSWORD, add_user, new_report, quick_user

PAGES = ["/", "/report", "/review", "/account", "/login"]


def _csp(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2] for part in policy.split(";")
    }


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_the_security_headers(client, app, path):
    head = quick_user(app.state.ctx, "chief", "commander")
    r = client.get(path, headers={**head, "accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = _csp(r)
    assert "'unsafe-inline'" not in csp["script-src"] and "unsafe-eval" not in csp["script-src"]
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in r.headers  # plain HTTP: never
    # Every inline script that runs carries this response's nonce.
    nonce = re.search(r"'nonce-([^']+)'", csp["script-src"]).group(1)
    for tag in re.findall(r"<script\b[^>]*>", r.text):
        if "src=" not in tag and "application/json" not in tag:
            assert f'nonce="{nonce}"' in tag, tag


def test_api_answers_and_errors_carry_them_too(client, app):
    head = quick_user(app.state.ctx, "chief", "commander")
    for r in (client.get("/api/layers", headers=head), client.get("/api/nope", headers=head)):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        # No page was rendered, so no inline script may run: no nonce is drawn or allowed.
        assert _csp(r)["script-src"] == "'self'"


def test_nonces_differ_per_response(client, app):
    head = quick_user(app.state.ctx, "chief", "commander")
    first = _csp(client.get("/", headers=head))["script-src"]
    assert first != _csp(client.get("/", headers=head))["script-src"]


def test_hsts_over_https(app):
    with TestClient(app, base_url="https://testserver") as c:
        r = c.get("/login")
    assert r.headers["strict-transport-security"].startswith("max-age=")


def test_basemap_origin_is_allowed_for_images(app):
    from floodpost.web.headers import csp, tile_origin

    assert (
        tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    )
    assert tile_origin("") is None
    policy = csp(
        "n", app.state.ctx.settings.model_copy(update={"tile_url": "https://t.example/{z}"})
    )
    assert "img-src 'self' data: blob: https://t.example" in policy


def _sign_in(client, name: str) -> None:
    client.get("/login")
    r = client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": client.cookies["fp_csrf"]},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_the_csrf_value_is_bound_to_the_session(app):
    add_user(app.state.ctx.store, "li", "field")
    add_user(app.state.ctx.store, "wang", "field")
    with TestClient(app) as first, TestClient(app) as second:
        first.get("/login")
        before = first.cookies["fp_csrf"]
        _sign_in(first, "li")
        _sign_in(second, "wang")
        mine, theirs = first.cookies["fp_csrf"], second.cookies["fp_csrf"]
        assert mine != before
        ok = first.post("/api/reports", json=new_report(), headers={"X-CSRF-Token": mine})
        assert ok.status_code == 201
        for stolen in (theirs, before):  # another session's value, or the signed-out one
            first.cookies.set("fp_csrf", stolen)
            r = first.post("/api/reports", json=new_report(), headers={"X-CSRF-Token": stolen})
            assert r.status_code == 403 and r.json()["code"] == "csrf"


def test_report_intake_and_its_413_carry_them_too(client, app):
    """POST /api/reports is answered by the ingest fast path, inside the headers middleware."""
    head = quick_user(app.state.ctx, "field1", "field")
    created = client.post("/api/reports", json=new_report(), headers=head)
    too_big = client.post(
        "/api/reports",
        content=b"{" + b" " * (app.state.ctx.settings.max_body_bytes + 10) + b"}",
        headers={**head, "content-type": "application/json"},
    )
    assert (created.status_code, too_big.status_code) == (201, 413)
    for r in (created, too_big):
        assert _csp(r)["script-src"] == "'self'" and _csp(r)["frame-ancestors"] == "'none'"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
