"""Security headers on every response (issue 13), as one ASGI middleware.

- Content-Security-Policy: scripts only from this origin, or inline with this response's nonce
  (folium's two inline scripts on the map page carry it; `csp_nonce` in every template), never
  'unsafe-inline' or eval for scripts; styles may be inline (Leaflet and folium write style
  attributes); images from here, data:/blob: and the configured basemap's origin; no plugins;
  frame-ancestors 'none' (plus X-Frame-Options for old browsers); forms post only here.
- X-Content-Type-Options: nosniff; Referrer-Policy: same-origin (report ids in URLs stay here).
- Strict-Transport-Security when the request came over HTTPS (never over plain HTTP: a phone on
  the command post's LAN must still reach http://… when no certificate is set up).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from floodpost.settings import Settings

NONCE_STATE = "csp_nonce"
HSTS = b"max-age=31536000"


def tile_origin(tile_url: str) -> str | None:
    """The origin basemap tiles come from (`{s}` subdomains become a wildcard), or None."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url.replace("{s}", "tiles-sub"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.netloc.replace("tiles-sub", "*")
    return f"{parts.scheme}://{host}"


def csp(nonce: str | None, settings: Settings) -> str:
    """The policy; without a nonce (a response that rendered no page) no inline script runs."""
    images = "'self' data: blob:"
    origin = tile_origin(settings.tile_url)
    if origin:
        images += f" {origin}"
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'" if nonce else "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {images}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class Nonce:
    """This response's CSP nonce, drawn when a page first renders it (`str(nonce)`). A JSON
    answer has no inline script and gets a policy without one: drawing 16 bytes from
    os.urandom for every report posted cost ≈ 20 µs of the event loop, plus a GIL hand-over
    to the writer thread and back (bench/README.md, ingest)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: str | None = None

    def __str__(self) -> str:
        if self.value is None:
            self.value = secrets.token_urlsafe(16)
        return self.value


class SecurityHeaders:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        # The same for every response without a page (built once, not per answer).
        self._fixed = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
        ]
        self._no_script_csp = csp(None, settings).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = Nonce()
        scope.setdefault("state", {})[NONCE_STATE] = nonce
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {k.lower() for k, _ in headers}
                policy = csp(nonce.value, self.settings).encode() if nonce.value else None
                extra = [(b"content-security-policy", policy or self._no_script_csp)]
                extra += self._fixed
                if https:
                    extra.append((b"strict-transport-security", HSTS))
                headers.extend((k, v) for k, v in extra if k not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)
