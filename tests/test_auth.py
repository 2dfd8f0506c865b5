"""Accounts, tokens, sign-in, sessions, CSRF and throttling (issue 3 §1)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest

from floodpost.auth import tokens
from floodpost.auth.accounts import authenticate, create_account
from floodpost.auth.passwords import hash_password, verify_password
from floodpost.cli import main as cli_main
from floodpost.errors import Conflict, InvalidInput
from floodpost.storage import open_store
from floodpost.storage.base import User
from tests.reports_support import PASSWORD, add_user, bearer, new_report


@pytest.fixture
def ctx(app):
    return app.state.ctx


def _csrf(client) -> str:
    r = client.get("/login")
    assert r.status_code == 200
    return client.cookies["fp_csrf"]


def _login(client, name: str, password: str = PASSWORD, next_url: str = "", csrf=None):
    token = csrf if csrf is not None else _csrf(client)
    return client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token, "next": next_url},
        follow_redirects=False,
    )


# -- accounts ---------------------------------------------------------------------------------
def test_passwords_are_argon2_and_verify():
    h = hash_password("s3cret-pass")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "s3cret-pass")
    assert not verify_password(h, "other-pass")
    assert not verify_password(None, "s3cret-pass")
    assert not verify_password("garbage", "s3cret-pass")


@pytest.mark.parametrize(
    ("name", "role", "password", "field"),
    [
        ("", "field", PASSWORD, "name"),
        ("x" * 65, "field", PASSWORD, "name"),
        ("bad\nname", "field", PASSWORD, "name"),
        ("nul\x00", "field", PASSWORD, "name"),
        (" padded", "field", PASSWORD, "name"),
        ("ok", "admin", PASSWORD, "role"),
        ("ok", "field", "short", "password"),
    ],
)
def test_create_account_validates(store, name, role, password, field):
    with pytest.raises(InvalidInput) as exc:
        create_account(store, name, role, password)
    assert exc.value.field == field


def test_create_account_conflict_and_authenticate(store):
    create_account(store, "王村长", "field", PASSWORD)
    with pytest.raises(Conflict):
        create_account(store, "王村长", "staff", PASSWORD)
    user = authenticate(store, "王村长", PASSWORD)
    assert user is not None and user.role == "field"
    assert authenticate(store, "王村长", "wrong-password") is None
    assert authenticate(store, "nobody", PASSWORD) is None


def test_cli_user_add_end_to_end(sqlite_url, monkeypatch, capsys):
    assert (
        cli_main(
            ["user", "add", "zhang", "--role", "staff", "--password", PASSWORD, "--db", sqlite_url]
        )
        == 0
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO("stdin-password-1\n"))
    assert (
        cli_main(["user", "add", "li", "--role", "field", "--password-stdin", "--db", sqlite_url])
        == 0
    )
    # Duplicate and bad input: a clear message and a non-zero exit, not a traceback.
    assert (
        cli_main(
            ["user", "add", "li", "--role", "field", "--password", PASSWORD, "--db", sqlite_url]
        )
        != 0
    )
    assert (
        cli_main(
            ["user", "add", "wu", "--role", "field", "--password", "short", "--db", sqlite_url]
        )
        != 0
    )
    err = capsys.readouterr().err
    assert "password" in err
    store = open_store(sqlite_url)
    try:
        assert authenticate(store, "zhang", PASSWORD).role == "staff"
        assert authenticate(store, "li", "stdin-password-1").role == "field"
        assert store.get_user("wu") is None
    finally:
        store.close()


# -- tokens -----------------------------------------------------------------------------------
def test_tokens_are_signed_and_expire():
    key = "k" * 32
    t = tokens.issue_token(key, "李", "staff", ttl_s=60, now=1000.0)
    claims = tokens.verify_token(key, t, now=1030.0)
    assert claims is not None and (claims.name, claims.role) == ("李", "staff")
    assert tokens.verify_token(key, t, now=1061.0) is None
    assert tokens.verify_token("x" * 32, t, now=1030.0) is None
    payload, sig = t.split(".")
    forged = tokens.issue_token(key, "李", "commander", ttl_s=60, now=1000.0).split(".")[0]
    assert tokens.verify_token(key, f"{forged}.{sig}", now=1030.0) is None
    for junk in ("", ".", "a.b", "a.b.c", "é" * 10, "x" * 5000):
        assert tokens.verify_token(key, junk, now=1030.0) is None
    # A CSRF value is signed for another purpose and is no token.
    assert tokens.verify_token(key, tokens.issue_csrf(key), now=1030.0) is None


def test_token_endpoint(client, ctx):
    add_user(ctx.store, "zhang", "staff")
    r = client.post("/api/auth/token", data={"username": "zhang", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "staff"
    assert body["expires_in"] == ctx.settings.token_ttl_min * 60
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"name": "zhang", "role": "staff"}
    bad = client.post("/api/auth/token", data={"username": "zhang", "password": "nope-nope"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    assert client.post("/api/auth/token", data={"username": "zhang"}).status_code == 422


def test_me_requires_credentials(client):
    r = client.get("/api/auth/me")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/auth/me", headers={"Authorization": "Bearer junk"}).status_code == 401
    assert client.get("/api/auth/me", headers={"Authorization": "Basic eDp5"}).status_code == 401


def test_disabled_or_demoted_user_loses_access(client, ctx):
    add_user(ctx.store, "chen", "commander")
    headers = bearer(client, "chen")
    assert client.get("/api/auth/me", headers=headers).json()["role"] == "commander"
    # Re-role the account directly in the store, then let the short user cache forget it.
    ctx.store._write(lambda c: c.execute("UPDATE users SET role = 'viewer' WHERE name = 'chen'"))
    ctx.users.forget("chen")
    assert client.get("/api/auth/me", headers=headers).json()["role"] == "viewer"
    ctx.store._write(lambda c: c.execute("UPDATE users SET disabled = 1 WHERE name = 'chen'"))
    ctx.users.forget("chen")
    assert client.get("/api/auth/me", headers=headers).status_code == 401
    r = client.post("/api/auth/token", data={"username": "chen", "password": PASSWORD})
    assert r.status_code == 401


def test_expired_token_is_refused(client, ctx):
    add_user(ctx.store, "old", "staff")
    stale = tokens.issue_token(ctx.secret_key, "old", "staff", ttl_s=60, now=ctx.clock() - 120)
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {stale}"}).status_code == 401
    )


# -- page sign-in -----------------------------------------------------------------------------
def test_login_page_form(client):
    r = client.get("/login?next=/review")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    for needle in ('name="username"', 'name="password"', 'type="submit"', 'name="csrf_token"'):
        assert needle in r.text
    assert r.text.count('type="submit"') == 1 or 'action="/logout"' in r.text
    assert 'value="/review"' in r.text
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("fp_csrf=") and "HttpOnly" not in cookie and "SameSite=Lax" in cookie
    assert "登录" in r.text
    assert "Sign in" in client.get("/login?lang=en").text


def test_login_sets_session_and_redirects(client, ctx):
    add_user(ctx.store, "zhang", "staff")
    r = _login(client, "zhang", next_url="/review?tab=2")
    assert r.status_code == 303 and r.headers["location"] == "/review?tab=2"
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("fp_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session.replace("Lax", "lax")
    assert "Secure" not in session  # plain http on the command-post LAN
    assert any(c.startswith("fp_csrf=") for c in cookies)
    assert client.get("/api/auth/me").json() == {"name": "zhang", "role": "staff"}


def test_login_defaults_field_users_to_the_form(client, ctx):
    add_user(ctx.store, "li", "field")
    assert _login(client, "li").headers["location"] == "/report"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil",
        "/\tx",
    ],
)
def test_login_never_redirects_off_site(client, ctx, target):
    add_user(ctx.store, "zhang", "staff")
    r = _login(client, "zhang", next_url=target)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_login_wrong_password_shows_form_again(client, ctx):
    add_user(ctx.store, "zhang", "staff")
    r = _login(client, "zhang", password="wrong-password")
    assert r.status_code == 401 and 'name="password"' in r.text
    assert "fp_session" not in client.cookies


def test_login_requires_csrf(client, ctx):
    add_user(ctx.store, "zhang", "staff")
    _csrf(client)
    r = _login(client, "zhang", csrf="not-the-cookie")
    assert r.status_code == 403
    assert "fp_session" not in client.cookies


def test_cookie_requests_need_csrf_header_bearer_does_not(client, ctx):
    add_user(ctx.store, "li", "field")
    assert _login(client, "li").status_code == 303
    body = new_report()
    r = client.post("/api/reports", json=body)
    assert r.status_code == 403 and r.json()["code"] == "csrf"
    r = client.post("/api/reports", json=body, headers={"X-CSRF-Token": "forged.value"})
    assert r.status_code == 403
    r = client.post("/api/reports", json=body, headers={"X-CSRF-Token": client.cookies["fp_csrf"]})
    assert r.status_code == 201
    # GET needs no CSRF; bearer requests need none either.
    assert client.get(f"/api/reports/{body['id']}").status_code == 200
    client.cookies.clear()
    headers = bearer(client, "li")
    assert client.post("/api/reports", json=new_report(), headers=headers).status_code == 201


def test_pages_redirect_to_login(client):
    from floodpost.web.security import require_page_user

    assert require_page_user  # pages use it; /report is one of them
    r = client.get("/report?x=1", follow_redirects=False)
    if r.status_code == 404:
        pytest.skip("no /report page yet")
    assert r.status_code == 303
    target = urlsplit(r.headers["location"])
    assert target.path == "/login" and parse_qs(target.query)["next"] == ["/report?x=1"]


def test_logout_clears_session(client, ctx):
    add_user(ctx.store, "zhang", "staff")
    _login(client, "zhang")
    assert client.post("/logout", follow_redirects=False).status_code == 403  # no CSRF token
    r = client.post(
        "/logout", data={"csrf_token": client.cookies["fp_csrf"]}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/api/auth/me").status_code == 401


# -- throttling -------------------------------------------------------------------------------
def test_throttle_per_account(client, ctx):
    add_user(ctx.store, "zhang", "staff")
    n = ctx.settings.login_max_failures
    for _ in range(n):
        r = client.post("/api/auth/token", data={"username": "zhang", "password": "wrong-pw-1"})
        assert r.status_code == 401
    r = client.post("/api/auth/token", data={"username": "zhang", "password": PASSWORD})
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= ctx.settings.login_window_s
    page = _login(client, "zhang")
    assert page.status_code == 429 and "retry-after" in page.headers


def test_throttle_per_address_and_window(ctx):
    from floodpost.auth.throttle import LoginThrottle
    from floodpost.clock import ManualClock
    from floodpost.errors import Throttled

    clock = ManualClock(1000.0)
    t = LoginThrottle(3, 60, clock)
    for i in range(3):
        t.check(f"user{i}", "10.0.0.9")
        t.record_failure(f"user{i}", "10.0.0.9")
    with pytest.raises(Throttled) as exc:
        t.check("someone-else", "10.0.0.9")  # a new name from the same address
    assert exc.value.extra["retry_after_s"] == 60
    t.check("someone-else", "10.0.0.10")  # another address is unaffected
    clock.advance(61)
    t.check("someone-else", "10.0.0.9")  # the window has passed


def test_throttle_success_clears_account_only():
    from floodpost.auth.throttle import LoginThrottle
    from floodpost.clock import ManualClock
    from floodpost.errors import Throttled

    t = LoginThrottle(2, 60, ManualClock(0.0))
    t.record_failure("a", "1.1.1.1")
    t.record_success("a")
    t.record_failure("a", "2.2.2.2")
    t.check("a", "3.3.3.3")  # one failure since the success: under budget
    t.record_failure("b", "1.1.1.1")
    with pytest.raises(Throttled):
        t.check("c", "1.1.1.1")


# -- the secret -------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["changeme", "", "secret"])
def test_serve_refuses_placeholder_secret(tmp_path, key):
    env = {**os.environ, "FLOODPOST_SECRET_KEY": key}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "floodpost",
            "serve",
            "--db",
            f"sqlite:///{tmp_path}/f.db",
            "--port",
            "9",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "FLOODPOST_SECRET_KEY" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_users_stored_with_hash_only(sqlite_url):
    store = open_store(sqlite_url)
    try:
        create_account(store, "zhao", "viewer", PASSWORD)
        user = store.get_user("zhao")
        assert isinstance(user, User) and PASSWORD not in user.password_hash
    finally:
        store.close()


def test_cookies_are_secure_over_https(app, ctx):
    from fastapi.testclient import TestClient

    add_user(ctx.store, "zhang", "staff")
    with TestClient(app, base_url="https://testserver") as c:
        assert "Secure" in c.get("/login").headers["set-cookie"]
        r = _login(c, "zhang")
        assert r.status_code == 303
        assert all("Secure" in cookie for cookie in r.headers.get_list("set-cookie"))
