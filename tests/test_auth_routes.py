"""Every route either is on the public allow-list or answers 401 (API) / a sign-in redirect (page)
without credentials, and 403 for a role its dependencies do not admit. Walks the live app's routes,
so a new route that forgets its security dependency fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from tests.reports_support import ROLES, quick_user

# Reachable without signing in, on purpose. Add here only with a reason.
PUBLIC = {
    ("GET", "/healthz"): "load balancers and the CLI's readiness check",
    ("GET", "/login"): "the sign-in page",
    ("POST", "/login"): "signing in",
    ("POST", "/logout"): "signing out (CSRF-checked when a session exists)",
    ("POST", "/api/auth/token"): "OAuth2 password flow",
    ("GET", "/api/places"): "township/village lists (geodata) the offline form caches",
    ("GET", "/openapi.json"): "the API description (no data)",
}
# Served without a session so the offline report form can start from the service worker cache.
PUBLIC_PREFIXES = ("/report/sw.js", "/report/places", "/report/manifest")
DUMMY = {"report_id": "0f6c8c8e-1d2b-4a8f-9c1e-3a5b7d9e1f20", "layer_id": "county"}


def _routes(app: Any) -> Iterator[tuple[str, str, Any]]:
    for ctx in iter_route_contexts(app.routes):
        dependant = getattr(ctx, "dependant", None)
        if dependant is None:
            continue
        for method in sorted(ctx.methods or ()):
            if method != "HEAD":
                yield method, ctx.path_format, dependant


def _roles(dependant: Any) -> tuple[str, ...] | None:
    """The roles a role dependency admits, found anywhere in the dependency tree."""
    roles = getattr(dependant.call, "roles", None)
    if roles is not None:
        return tuple(roles)
    for sub in dependant.dependencies:
        found = _roles(sub)
        if found is not None:
            return found
    return None


def _url(path: str) -> str:
    return re.sub(r"{(\w+)(:\w+)?}", lambda m: DUMMY.get(m.group(1), "x"), path)


def _is_public(method: str, path: str) -> bool:
    return (method, path) in PUBLIC or path.startswith(PUBLIC_PREFIXES)


def test_allow_list_names_real_routes(app):
    routes = {(m, p) for m, p, _ in _routes(app)}
    framework = ("/docs", "/redoc", "/openapi")  # FastAPI's own routes carry no dependencies
    missing = [k for k in PUBLIC if k not in routes and not k[1].startswith(framework)]
    assert missing == [], "remove stale allow-list entries"


def test_every_route_needs_credentials(client, app):
    checked = 0
    for method, path, _dep in _routes(app):
        if _is_public(method, path):
            continue
        kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
        r = client.request(method, _url(path), follow_redirects=False, **kwargs)
        if path.startswith("/api/"):
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers.get("www-authenticate") == "Bearer", (method, path)
        else:
            assert r.status_code in (401, 303), (method, path, r.status_code)
            if r.status_code == 303:
                assert r.headers["location"].startswith("/login?next="), (method, path)
        checked += 1
    assert checked >= 5


def test_bad_token_is_no_credential(client, app):
    headers = {"Authorization": "Bearer forged.token"}
    for method, path, _dep in _routes(app):
        if _is_public(method, path) or not path.startswith("/api/"):
            continue
        r = client.request(
            method, _url(path), headers=headers, **({"json": {}} if method != "GET" else {})
        )
        assert r.status_code == 401, (method, path)


@pytest.fixture
def tokens(app):
    ctx = app.state.ctx
    return {role: quick_user(ctx, f"user-{role}", role) for role in ROLES}


def test_wrong_role_is_403(client, app, tokens):
    checked = 0
    for method, path, dependant in _routes(app):
        roles = _roles(dependant)
        if roles is None or _is_public(method, path):
            continue
        for role in ROLES:
            if role in roles:
                continue
            kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            r = client.request(
                method, _url(path), headers=tokens[role], follow_redirects=False, **kwargs
            )
            assert r.status_code == 403, (method, path, role, r.status_code)
            checked += 1
    assert checked >= 4


def test_report_routes_declare_roles(app):
    """The report routes' role sets, as issue 3 states them."""
    found = {(m, p): _roles(d) for m, p, d in _routes(app) if p.startswith("/api/reports")}
    assert set(found[("POST", "/api/reports")]) == {"field", "staff", "commander"}
    assert set(found[("PATCH", "/api/reports/{report_id}")]) == {"staff", "commander"}
    assert set(found[("POST", "/api/reports/{report_id}/retract")]) == {"staff", "commander"}
    assert set(found[("GET", "/api/reports/{report_id}/audit")]) == {"staff", "commander"}
    assert found[("GET", "/api/reports")] is None  # any signed-in user; field sees own only
