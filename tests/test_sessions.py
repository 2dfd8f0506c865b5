"""Sessions end (issue 13): POST /logout, `floodpost user passwd|disable` and a commander's
account page end sessions and tokens at once, on both backends; password changes need the old
password or a commander's authority."""

from __future__ import annotations

import io
import sys
import time

import pytest
from fastapi.testclient import TestClient

from floodpost.cli import main as cli_main
from tests.reports_support import PASSWORD, add_user, bearer

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def app_on(store_url, settings, catalogue):
    """The app on each backend (SQLite file, throw-away PostgreSQL database)."""
    from floodpost.web.app import create_app

    return create_app(settings.model_copy(update={"db_url": store_url}), catalogue=catalogue)


@pytest.fixture
def client_on(app_on):
    with TestClient(app_on) as c:
        yield c


def _login(client, name: str, password: str = PASSWORD):
    client.get("/login")
    return client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": client.cookies["fp_csrf"]},
        follow_redirects=False,
    )


def _me(client, headers=None, cookie: str | None = None) -> int:
    other = TestClient(client.app)  # a fresh client (no lifespan): only what we give it
    if cookie:
        other.cookies.set("fp_session", cookie)
    return other.get("/api/auth/me", headers=headers).status_code


def _eventually_401(check) -> float:
    """Seconds until `check()` answers 401 (revocations reach other processes within ~1 s)."""
    started = time.monotonic()
    while check() != 401:
        assert time.monotonic() - started < 5, "the session did not end"
        time.sleep(0.1)
    return time.monotonic() - started


def test_logout_ends_the_cookie_session_at_once(client_on):
    add_user(client_on.app.state.ctx.store, "zhang", "staff")
    assert _login(client_on, "zhang").status_code == 303
    cookie = client_on.cookies["fp_session"]
    assert _me(client_on, cookie=cookie) == 200
    r = client_on.post(
        "/logout", data={"csrf_token": client_on.cookies["fp_csrf"]}, follow_redirects=False
    )
    assert r.status_code == 303
    assert _me(client_on, cookie=cookie) == 401  # a copy of the cookie is worth nothing now
    assert _login(client_on, "zhang").status_code == 303  # signing in again works


def test_logout_ends_a_bearer_token_at_once_and_only_that_one(client_on):
    add_user(client_on.app.state.ctx.store, "li", "field")
    first, second = bearer(client_on, "li"), bearer(client_on, "li")
    assert client_on.post("/logout", headers=first, follow_redirects=False).status_code == 303
    assert _me(client_on, headers=first) == 401
    assert _me(client_on, headers=second) == 200
    audit = client_on.app.state.ctx.store.auth_audit("li")
    assert audit[0]["action"] == "logout"


def test_cli_passwd_ends_every_session_of_the_account(client_on, store_url, monkeypatch):
    add_user(client_on.app.state.ctx.store, "wang", "field")
    add_user(client_on.app.state.ctx.store, "zhao", "staff")
    token, other = bearer(client_on, "wang"), bearer(client_on, "zhao")
    monkeypatch.setattr(sys, "stdin", io.StringIO(NEW_PASSWORD + "\n"))
    argv = ["user", "passwd", "wang", "--password-stdin", "--db", store_url]
    assert cli_main(argv) == 0  # another process's change: seen within the guard's poll
    _eventually_401(lambda: _me(client_on, headers=token))
    assert _me(client_on, headers=other) == 200
    r = client_on.post("/api/auth/token", data={"username": "wang", "password": PASSWORD})
    assert r.status_code == 401
    assert bearer(client_on, "wang", NEW_PASSWORD)
    assert cli_main(["user", "passwd", "nobody", "--password", NEW_PASSWORD, "--db", store_url])


def test_cli_disable_ends_every_session(client_on, store_url):
    add_user(client_on.app.state.ctx.store, "sun", "staff")
    token = bearer(client_on, "sun")
    assert cli_main(["user", "disable", "sun", "--db", store_url]) == 0
    _eventually_401(lambda: _me(client_on, headers=token))
    r = client_on.post("/api/auth/token", data={"username": "sun", "password": PASSWORD})
    assert r.status_code == 401


def test_a_commander_ends_sessions_from_the_account_page(client_on):
    store = client_on.app.state.ctx.store
    add_user(store, "chief", "commander")
    add_user(store, "li", "field")
    add_user(store, "wu", "field")
    li, wu = bearer(client_on, "li"), bearer(client_on, "wu")
    assert _login(client_on, "chief").status_code == 303
    page = client_on.get("/account")
    assert page.status_code == 200 and 'data-account="li"' in page.text
    csrf = {"csrf_token": client_on.cookies["fp_csrf"]}
    r = client_on.post(
        "/account/users/li/password",
        data={**csrf, "new_password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/account?done=passwd"
    assert _me(client_on, headers=li) == 401  # at once: this process revoked it
    assert bearer(client_on, "li", NEW_PASSWORD)
    r = client_on.post("/account/users/wu/disable", data=csrf, follow_redirects=False)
    assert r.status_code == 303 and _me(client_on, headers=wu) == 401
    # Without the CSRF value a cross-site form cannot do it.
    r = client_on.post("/account/users/li/disable", data={}, follow_redirects=False)
    assert r.status_code == 403


def test_only_a_commander_changes_other_accounts(client_on):
    store = client_on.app.state.ctx.store
    add_user(store, "zhang", "staff")
    add_user(store, "li", "field")
    li = bearer(client_on, "li")
    assert _login(client_on, "zhang").status_code == 303
    assert 'data-account="li"' not in client_on.get("/account").text
    csrf = {"csrf_token": client_on.cookies["fp_csrf"]}
    r = client_on.post("/account/users/li/password", data={**csrf, "new_password": NEW_PASSWORD})
    assert r.status_code == 403 and _me(client_on, headers=li) == 200


def test_own_password_change_needs_the_old_password(client_on):
    store = client_on.app.state.ctx.store
    add_user(store, "li", "field")
    token = bearer(client_on, "li")
    assert _login(client_on, "li").status_code == 303
    csrf = {"csrf_token": client_on.cookies["fp_csrf"]}
    wrong = {**csrf, "old_password": "not the password", "new_password": NEW_PASSWORD}
    r = client_on.post("/account/password", data=wrong, follow_redirects=False)
    assert r.headers["location"] == "/account?done=error"
    assert _me(client_on, headers=token) == 200
    right = {**csrf, "old_password": PASSWORD, "new_password": NEW_PASSWORD}
    r = client_on.post("/account/password", data=right, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert _me(client_on, headers=token) == 401
    assert bearer(client_on, "li", NEW_PASSWORD)
    actions = [e["action"] for e in store.auth_audit("li")]
    assert "passwd" in actions
