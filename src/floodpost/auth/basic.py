"""HTTP Basic for GIS clients (/ogc): a verified password is remembered for a short while, so a
client paging through a million features pays for one argon2 check, not one per page."""

from __future__ import annotations

import threading

BASIC_TTL_S = 60.0
MAX_REMEMBERED = 10_000


class RecentPasswords:
    """Keys (an HMAC of name and password, never the password) verified in the last BASIC_TTL_S."""

    def __init__(self, ttl_s: float = BASIC_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._seen: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def check(self, key: bytes, now: float) -> bool:
        expires = self._seen.get(key)
        return expires is not None and expires > now

    def remember(self, key: bytes, now: float) -> None:
        with self._lock:
            if len(self._seen) > MAX_REMEMBERED:
                self._seen.clear()
            self._seen[key] = now + self.ttl_s
