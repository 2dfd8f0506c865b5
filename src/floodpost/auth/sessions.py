"""Sessions that really end (issue 13): is a signed, unexpired token still admitted?

A token is void when its nonce was revoked (POST /logout) or when it was issued before its
account's sessions_after_ts (password changed, account disabled, sessions ended by a commander).
Checking that against the store on every request would put a query on the ingest path, so the
guard keeps the revoked nonces and the accounts in memory and re-reads them only when the store's
'auth_generation' changes — a value it reads at most every `poll_s` seconds. A revocation made by
this process takes effect at once (it refreshes right away); one made by another process (the CLI,
another worker) within `poll_s`.
"""

from __future__ import annotations

import threading
import time

from floodpost.auth.accounts import UserCache
from floodpost.auth.tokens import Claims
from floodpost.storage.base import Store, User

POLL_S = 1.0


class SessionGuard:
    def __init__(self, store: Store, users: UserCache, poll_s: float = POLL_S) -> None:
        self.store = store
        self.users = users
        self.poll_s = poll_s
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._generation: int | None = None
        self._revoked: frozenset[str] = frozenset()

    def admit(self, claims: Claims) -> User | None:
        """The enabled account behind a genuine token, or None if the session was ended."""
        self._maybe_refresh()
        if claims.nonce in self._revoked:
            return None
        user = self.users.get(claims.name)
        if user is None or user.disabled or claims.issued_ts < user.sessions_after_ts:
            return None
        return user

    def refresh(self) -> None:
        """Re-read the revocations now (after this process revoked something)."""
        with self._lock:
            self._checked = float("-inf")
        self._maybe_refresh()

    def _maybe_refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.poll_s:
            return
        with self._lock:
            if now - self._checked < self.poll_s:
                return
            generation = self.store.auth_generation()
            if generation != self._generation:
                self._revoked = frozenset(self.store.revoked_nonces(time.time()))
                self.users.clear()
                self._generation = generation
            self._checked = now
