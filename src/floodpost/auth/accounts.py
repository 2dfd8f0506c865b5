"""Accounts: creation (`floodpost user add`), password sign-in, and a short-lived user cache.

Roles
- commander, staff: see and act on everything (corrections, help-request lifecycle).
- field: submit reports, see their own.
- viewer: read only.
"""

from __future__ import annotations

import threading
import time
import unicodedata

from floodpost.auth.passwords import hash_password, verify_password
from floodpost.clock import Clock, system_clock
from floodpost.errors import Forbidden, InvalidInput, NotFound
from floodpost.storage.base import Store, User

ROLES = ("commander", "staff", "field", "viewer", "gauge")  # gauge: telemetry, readings only
MAX_NAME_CHARS = 64
MIN_PASSWORD_CHARS = 8
# argon2 hashes whatever it is given; a cap keeps a huge "password" from being a cheap DoS.
MAX_PASSWORD_CHARS = 1024


def validate_name(name: object) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME_CHARS:
        raise InvalidInput(f"name must be 1–{MAX_NAME_CHARS} characters", field="name")
    if name != name.strip() or any(unicodedata.category(c).startswith("C") for c in name):
        raise InvalidInput(
            "name must not contain control characters or surrounding spaces", field="name"
        )
    return name


def validate_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise InvalidInput(
            f"password must be at least {MIN_PASSWORD_CHARS} characters", field="password"
        )
    if len(password) > MAX_PASSWORD_CHARS or "\x00" in password:
        raise InvalidInput("password is too long or contains NUL", field="password")
    return password


def create_account(store: Store, name: str, role: str, password: str) -> User:
    """Create an account; InvalidInput names the bad field, Conflict if the name is taken."""
    validate_name(name)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    validate_password(password)
    user = User(name=name, role=role, password_hash=hash_password(password), created_ts=time.time())
    store.add_user(user)
    return user


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The account if `password` is right and the account is enabled, else None.

    Always runs one argon2 verification (against a dummy hash for unknown names) so the answer
    takes the same time whether or not the account exists.
    """
    user = store.get_user(name) if 1 <= len(name) <= MAX_NAME_CHARS else None
    if len(password) > MAX_PASSWORD_CHARS:
        return None
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or user.disabled:
        return None
    return user


class UserCache:
    """Accounts looked up by name, remembered for `ttl_s` seconds.

    Tokens are stateless, but each request still checks the stored account so that a disabled or
    re-roled account loses its old powers within `ttl_s` instead of at token expiry; the cache keeps
    that check to a dict lookup on the ingest path.
    """

    def __init__(self, store: Store, ttl_s: float = 30.0, clock: Clock = system_clock) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: dict[str, tuple[float, User | None]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> User | None:
        now = self.clock()
        entry = self._entries.get(name)
        if entry is not None and entry[0] > now:
            return entry[1]
        user = self.store.get_user(name)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[name] = (now + self.ttl_s, user)
        return user

    def forget(self, name: str) -> None:
        with self._lock:
            self._entries.pop(name, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# -- changing accounts (issue 13): each ends the account's sessions at once ---------------------
def change_password(
    store: Store,
    name: str,
    new_password: str,
    *,
    actor: str | None,
    old_password: str | None = None,
    authority: bool = False,
) -> None:
    """Set a new password and end every session of the account. Needs the old password, or
    `authority` (a commander, or the command line run by whoever holds the database)."""
    validate_password(new_password)
    user = store.get_user(name)
    if user is None:
        raise NotFound("no account with this name", field="name")
    if not authority:
        if old_password is None or not verify_password(user.password_hash, old_password):
            raise Forbidden("the old password is wrong", field="old_password")
    store.update_user(
        name,
        at_ts=time.time(),
        actor=actor,
        action="passwd",
        password_hash=hash_password(new_password),
    )


def disable_account(store: Store, name: str, *, actor: str | None) -> None:
    """Disable an account and end its sessions at once."""
    if not store.update_user(name, at_ts=time.time(), actor=actor, action="disable", disabled=True):
        raise NotFound("no account with this name", field="name")


def end_sessions(store: Store, name: str, *, actor: str | None) -> None:
    """End every session and token of an account (it can sign in again)."""
    if not store.update_user(name, at_ts=time.time(), actor=actor, action="end_sessions"):
        raise NotFound("no account with this name", field="name")
