"""Signed, stateless tokens: bearer tokens, session cookies and CSRF cookies.

A token is ``base64url(payload) "." base64url(HMAC-SHA256(key, purpose "." payload))`` where the
payload is compact JSON ``[name, role, expiry_s, nonce, issued_ts]``; the nonce names the session
for revocation (POST /logout) and issued_ts (wall clock) is compared with the account's
sessions_after_ts (password change, disable) — floodpost.auth.sessions. Verifying one is a single HMAC, so the
ingest path never runs argon2 per request. Each purpose ("token", "csrf") signs with its own
derived key, so a CSRF value can never be replayed as a session.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from dataclasses import dataclass

MAX_TOKEN_CHARS = 2048


@dataclass(frozen=True)
class Claims:
    name: str
    role: str
    expires_ts: float
    nonce: str
    issued_ts: float = 0.0  # tokens from before revocation existed carry none: 0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: str, purpose: str, payload: str) -> str:
    return _b64(hmac.digest(key.encode(), f"{purpose}.{payload}".encode(), "sha256"))


def issue_token(
    key: str, name: str, role: str, *, ttl_s: float, now: float, issued_ts: float | None = None
) -> str:
    """A bearer/session token for `name` acting as `role`, valid for `ttl_s` seconds after `now`
    (the service clock). `issued_ts` is the wall clock, whatever clock the service runs on (a
    demo replays 2017), because revocation compares it with the wall-clock sessions_after_ts."""
    issued = round(time.time() if issued_ts is None else issued_ts, 6)
    claims = [name, role, int(now + ttl_s), secrets.token_urlsafe(12), issued]
    payload = _b64(json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode())
    return f"{payload}.{_sign(key, 'token', payload)}"


# Tokens whose signature was checked, with their claims: a phone sends the same token with
# every report, and the HMAC, base64 and JSON of checking it again were ≈ 10 µs of the event
# loop per report. Keyed by (key, token), so a changed secret checks afresh; expiry is still
# compared on every use; cleared whole when full (bounded memory whatever is sent).
_VERIFIED: dict[tuple[str, str], Claims] = {}
_VERIFIED_MAX = 4096


def verify_token(key: str, token: str | None, *, now: float) -> Claims | None:
    """The claims of a genuine, unexpired token; None for anything else (never raises)."""
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        return None
    claims = _VERIFIED.get((key, token))
    if claims is None:
        claims = _verify_signed(key, token)
        if claims is None:
            return None
        if len(_VERIFIED) >= _VERIFIED_MAX:
            _VERIFIED.clear()
        _VERIFIED[(key, token)] = claims
    return claims if claims.expires_ts > now else None


def _verify_signed(key: str, token: str) -> Claims | None:
    payload, sig = token.split(".")
    if not hmac.compare_digest(sig, _sign(key, "token", payload)):
        return None
    try:
        name, role, expiry, nonce, *rest = json.loads(_unb64(payload))
        issued = float(rest[0]) if rest else 0.0
    except (ValueError, TypeError, IndexError, binascii.Error):
        return None
    if not isinstance(expiry, int):
        return None
    return Claims(str(name), str(role), float(expiry), str(nonce), issued)


def issue_csrf(key: str, session: str = "") -> str:
    """A random CSRF value signed by the server (a cookie planted by a sibling site fails) and
    bound to `session` (the session token's nonce; "" before sign-in), so a value read from one
    session is worth nothing in another (issue 13)."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_sign(key, 'csrf', f'{session}|{nonce}')}"


def csrf_is_genuine(key: str, value: str | None, session: str = "") -> bool:
    if not value or len(value) > 200 or value.count(".") != 1:
        return False
    nonce, sig = value.split(".")
    return hmac.compare_digest(sig, _sign(key, "csrf", f"{session}|{nonce}"))
