"""Who is asking: bearer tokens, session cookies, roles and CSRF protection.

Credentials
- ``Authorization: Bearer <token>`` (from ``POST /api/auth/token``) or the session cookie
  ``fp_session`` (set by ``POST /login``; HttpOnly, SameSite=Lax, Secure when the request came over
  https). Both carry the same signed token (floodpost.auth.tokens); the account is re-checked
  through a short cache, so a disabled or re-roled account loses access within seconds.

Dependencies (FastAPI)
- ``require_user`` → Principal(name, role) of any signed-in user, else 401 (WWW-Authenticate).
- ``require_role("staff", "commander")`` → the Principal, 401 without credentials, 403 for
  another role.
- ``require_page_user`` / ``require_page_role(...)`` — the same for HTML pages, except that a
  visitor without a session is redirected (303) to ``/login?next=<this page>``.

CSRF (double submit)
- A readable cookie ``fp_csrf`` holds a server-signed random value. It is set on every HTML page
  that is rendered without one (CSRFCookieMiddleware) and renewed at sign-in; templates can get
  the value with ``csrf_token(request)``.
- Every unsafe request (POST, PUT, PATCH, DELETE) authenticated by the *cookie* must repeat that
  value in the header ``X-CSRF-Token`` (JavaScript reads the cookie and sends it) or in the form
  field ``csrf_token``; otherwise 403 ``{"code": "csrf"}``. A cross-site page can make the browser
  send the cookie but cannot read it. Bearer-token requests are exempt: a browser never attaches
  an Authorization header by itself.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from floodpost.auth.tokens import csrf_is_genuine, issue_csrf, verify_token
from floodpost.errors import Forbidden, Unauthorized
from floodpost.web.deps import Context, ctx_of

SESSION_COOKIE = "fp_session"
CSRF_COOKIE = "fp_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# Who reads the county-wide review (statistics, the /review page, the export): leadership and
# staff, not field members, who report.
REVIEW_ROLES = ("staff", "commander", "viewer")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
USER_CACHE_TTL_S = 30.0
_STATE_NEW_CSRF = "fp_csrf_new"
MACHINE_ROLES = frozenset({"gauge"})  # accounts of machines, admitted only where a route names them


@dataclass(frozen=True)
class Principal:
    name: str
    role: str


def own_only(principal: Principal) -> str | None:
    """The reporter filter for this user: field members see their own reports only."""
    return principal.name if principal.role == "field" else None


def identify(request: Request) -> tuple[Principal | None, str | None]:
    """(principal, "bearer" | "cookie") for valid credentials, else (None, None). Memoised."""
    # The scope's state dict itself: `getattr(request.state, …)` on a first call raised and
    # caught AttributeError inside Starlette's State (≈ 3 % of the event loop per report).
    cached: tuple[Principal | None, str | None] | None = request.scope.get("state", {}).get(
        "fp_principal"
    )
    if cached is not None:
        return cached
    ctx = ctx_of(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, credentials = header.partition(" ")
        via = "bearer" if scheme.lower() == "bearer" else None
        token = credentials.strip() if via else None
    else:
        token, via = request.cookies.get(SESSION_COOKIE), "cookie"
    result: tuple[Principal | None, str | None] = (None, None)
    claims = verify_token(ctx.secret_key, token, now=ctx.clock()) if token else None
    if claims is not None:
        user = ctx.sessions.admit(claims)  # None once the session was ended
        if user is not None:
            # The stored role wins: a demoted commander stops acting as one within the cache TTL.
            result = (Principal(user.name, user.role), via)
            request.state.fp_claims = claims
    request.state.fp_principal = result
    return result


def csrf_session(ctx: Context, session_cookie: str | None) -> str:
    """What CSRF values are bound to: the nonce of a genuine, unexpired session cookie, or ""
    (signed out). One HMAC; revocation does not matter here (a revoked session admits nothing)."""
    claims = (
        verify_token(ctx.secret_key, session_cookie, now=ctx.clock()) if session_cookie else None
    )
    return claims.nonce if claims is not None else ""


async def check_csrf(request: Request) -> None:
    """Raise Forbidden unless the request repeats the fp_csrf cookie (header or form field),
    and that value belongs to this session."""
    ctx = ctx_of(request)
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if sent is None and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    session = csrf_session(ctx, request.cookies.get(SESSION_COOKIE))
    if not csrf_pair_ok(ctx, cookie, sent, session):
        raise Forbidden("missing or wrong CSRF token; reload the page", code="csrf")


async def _principal(request: Request) -> Principal | None:
    principal, via = identify(request)
    if principal is not None and via == "cookie" and request.method not in SAFE_METHODS:
        await check_csrf(request)
    return principal


async def _signed_in(request: Request) -> Principal:
    principal = await _principal(request)
    if principal is None:
        raise Unauthorized("sign in first (bearer token or session cookie)")
    return principal


async def require_user(request: Request) -> Principal:
    """Any signed-in person (bearer token or session cookie); 401 otherwise. A `gauge` account
    (a telemetry gateway) is not a person: it gets 403 everywhere but where a route names it."""
    principal = await _signed_in(request)
    if principal.role in MACHINE_ROLES:
        raise Forbidden("a gauge account may only post readings")
    return principal


def require_role(*roles: str) -> Any:
    """A dependency admitting only the given roles: 401 without credentials, 403 otherwise."""

    async def dependency(principal: Principal = Depends(_signed_in)) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(roles)}")
        return principal

    dependency.roles = roles  # type: ignore[attr-defined]  # read by the route-audit test
    return dependency


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(target, safe="")


async def require_page_user(request: Request) -> Principal:
    """Any signed-in user for an HTML page; others are sent to the sign-in page."""
    principal = await _principal(request)
    if principal is None:
        raise HTTPException(status_code=303, headers={"Location": login_url(request)})
    if principal.role in MACHINE_ROLES:
        raise Forbidden("a gauge account may only post readings")
    return principal


def require_page_role(*roles: str) -> Any:
    """Page variant of require_role: no session → /login, wrong role → 403 page."""

    async def dependency(principal: Principal = Depends(require_page_user)) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"this page needs the role {' or '.join(roles)}")
        return principal

    dependency.roles = roles  # type: ignore[attr-defined]
    return dependency


# -- cookies ----------------------------------------------------------------------------------
def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, token: str, max_age_s: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age_s,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request)
    )


def _csrf_cookie_header(value: str, secure: bool) -> str:
    # Readable by JavaScript on purpose (no HttpOnly): the page's script copies it into a header.
    return f"{CSRF_COOKIE}={value}; Path=/; SameSite=Lax" + ("; Secure" if secure else "")


def set_csrf_cookie(request: Request, response: Response, value: str) -> None:
    response.headers.append("set-cookie", _csrf_cookie_header(value, is_https(request)))
    request.state.fp_csrf_new = value


def csrf_token(request: Request) -> str:
    """The CSRF value for forms on this page: the visitor's cookie, or a new one the
    CSRFCookieMiddleware will set on the response."""
    new = getattr(request.state, _STATE_NEW_CSRF, None)
    if new:
        return new
    ctx = ctx_of(request)
    session = csrf_session(ctx, request.cookies.get(SESSION_COOKIE))
    cookie = request.cookies.get(CSRF_COOKIE)
    if cookie and csrf_is_genuine(ctx.secret_key, cookie, session):
        return cookie
    value = issue_csrf(ctx.secret_key, session)
    request.state.fp_csrf_new = value
    request.state.fp_csrf_pending = True
    return value


class CSRFCookieMiddleware:
    """Gives every visitor of an HTML page a CSRF cookie, so page scripts can always send it."""

    def __init__(self, app: ASGIApp, ctx: Context) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._maybe_add_cookie(scope, message)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _maybe_add_cookie(self, scope: Scope, message: Message) -> None:
        state = scope.get("state") or {}
        headers = message.setdefault("headers", [])
        secure = scope.get("scheme") == "https"
        pending = state.get(_STATE_NEW_CSRF) if state.get("fp_csrf_pending") else None
        if pending is None and state.get(_STATE_NEW_CSRF):
            return  # the route set a fresh cookie itself (sign-in)
        if pending is None:
            content_type = next((v for k, v in headers if k == b"content-type"), b"")
            if not content_type.startswith(b"text/html") or self._has_genuine_cookie(scope):
                return
            pending = issue_csrf(self.ctx.secret_key, self._session(scope))
        headers.append((b"set-cookie", _csrf_cookie_header(pending, secure).encode("latin-1")))

    @staticmethod
    def _cookie(scope: Scope, wanted: str) -> str | None:
        for key, value in scope.get("headers", ()):
            if key == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    name, _, cookie = part.strip().partition("=")
                    if name == wanted:
                        return cookie
        return None

    def _session(self, scope: Scope) -> str:
        return csrf_session(self.ctx, self._cookie(scope, SESSION_COOKIE))

    def _has_genuine_cookie(self, scope: Scope) -> bool:
        cookie = self._cookie(scope, CSRF_COOKIE)
        return csrf_is_genuine(self.ctx.secret_key, cookie, self._session(scope))


def csrf_pair_ok(ctx: Context, cookie: str | None, sent: str | None, session: str = "") -> bool:
    """True when a form's csrf_token repeats the visitor's genuine fp_csrf cookie, issued for
    `session` (csrf_session)."""
    return bool(
        cookie
        and sent
        and hmac.compare_digest(cookie.encode(), sent.encode())
        and csrf_is_genuine(ctx.secret_key, cookie, session)
    )
