"""Sign-in: OAuth2 password tokens for API clients, the /login page and session cookie for people.

Failed sign-ins are throttled per (account, address) and per address, with a slower global
back-off per account (floodpost.auth.throttle; counts in the store). See floodpost.web.security
for cookies and CSRF.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from floodpost.auth.accounts import authenticate
from floodpost.auth.tokens import issue_csrf, issue_token, verify_token
from floodpost.errors import Throttled, Unauthorized
from floodpost.web import security
from floodpost.web.deps import Context, CtxDep, ctx_of
from floodpost.web.security import Principal, require_user
from floodpost.web.templating import render

router = APIRouter(tags=["auth"])


def _sign_in(request: Request, ctx: Context, username: str, password: str) -> tuple[str, str]:
    """(token, role) for good credentials; Throttled or Unauthorized otherwise."""
    throttle = ctx.throttle
    address = request.client.host if request.client else None
    throttle.check(username, address)  # before argon2: a throttled guess costs us nothing
    user = authenticate(ctx.store, username, password)
    if user is None:
        throttle.record_failure(username, address)
        raise Unauthorized("wrong user name or password")
    throttle.record_success(username, address)
    token = issue_token(ctx.secret_key, user.name, user.role, ttl_s=ttl_s(ctx), now=ctx.clock())
    return token, user.role


def ttl_s(ctx: Context) -> int:
    return ctx.settings.token_ttl_min * 60


@router.post("/api/auth/token")
def token(
    request: Request,
    ctx: CtxDep,
    username: str = Form(..., max_length=256),
    password: str = Form(..., max_length=4096),
) -> JSONResponse:
    access_token, role = _sign_in(request, ctx, username, password)
    return JSONResponse(
        {
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": ttl_s(ctx),
            "role": role,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/api/auth/me")
async def me(who: Principal = Depends(require_user)) -> JSONResponse:
    return JSONResponse({"name": who.name, "role": who.role})


def safe_next(target: str | None, role: str | None = None) -> str:
    """Where to go after sign-in: a same-site relative path only (never an open redirect)."""
    default = "/report" if role == "field" else "/"
    if not target or len(target) > 2000 or not target.startswith("/"):
        return default
    if target.startswith("//") or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _login_page(
    request: Request,
    *,
    next_url: str,
    error: str | None = None,
    username: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    response = render(
        request,
        "login.html",
        status_code=status_code,
        next_url=next_url,
        error=error,
        username=username,
        csrf_token=security.csrf_token(request),
        user=None,
    )
    response.headers["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:  # noqa: A002
    return _login_page(request, next_url=safe_next(next) if next else "")


@router.post("/login")
def login(
    request: Request,
    ctx: CtxDep,
    username: str = Form("", max_length=256),
    password: str = Form("", max_length=4096),
    csrf_token: str = Form(""),
    next: str = Form(""),  # noqa: A002
) -> Response:
    cookie = request.cookies.get(security.CSRF_COOKIE)
    session = security.csrf_session(ctx, request.cookies.get(security.SESSION_COOKIE))
    if not security.csrf_pair_ok(ctx, cookie, csrf_token, session):
        return _login_page(
            request, next_url=next, error="auth.error.csrf", username=username, status_code=403
        )
    try:
        token_value, role = _sign_in(request, ctx, username, password)
    except Throttled as exc:
        retry = str(exc.extra.get("retry_after_s", 60))
        return _login_page(
            request,
            next_url=next,
            error="auth.error.throttled",
            username=username,
            status_code=429,
            headers={"Retry-After": retry},
        )
    except Unauthorized:
        return _login_page(
            request,
            next_url=next,
            error="auth.error.credentials",
            username=username,
            status_code=401,
        )
    response = RedirectResponse(safe_next(next, role), status_code=303)
    security.set_session_cookie(request, response, token_value, ttl_s(ctx))
    # A fresh CSRF value per session: one read before sign-in is worth nothing after it.
    # Bound to the new session (issue 13): a value from before sign-in or from another session
    # is refused.
    new_session = security.csrf_session(ctx, token_value)
    security.set_csrf_cookie(request, response, issue_csrf(ctx.secret_key, new_session))
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Ends this session at once (issue 13): the token it was called with — the session cookie
    or a bearer token — is revoked in the store, on every worker within a second."""
    principal, via = security.identify(request)
    if principal is not None and via == "cookie":
        await security.check_csrf(request)
    ctx = ctx_of(request)
    ended = [getattr(request.state, "fp_claims", None)] if principal is not None else []
    if principal is not None and via == "bearer":
        # Called with a token and the cookie: the cookie's session ends too.
        ended.append(
            verify_token(
                ctx.secret_key, request.cookies.get(security.SESSION_COOKIE), now=ctx.clock()
            )
        )
    for claims in ended:
        if claims is not None:
            await run_in_threadpool(
                ctx.store.revoke_token,
                claims.nonce,
                claims.expires_ts,
                account=claims.name,
                at_ts=time.time(),
            )
    if ended:
        ctx.sessions.refresh()
    response = RedirectResponse("/login", status_code=303)
    security.clear_session_cookie(request, response)
    return response
