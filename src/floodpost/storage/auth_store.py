"""Accounts' sessions, sign-in failures and the account audit log, the same on both backends
(issue 13; tables of migration 4, storage/schema_parts.py AUTH_TABLES).

A backend mixes this in and provides `_rows(sql, params)` (a read) and `_write_sql(statements)`
(`?`-style statements run in order in one durable write transaction, returning rowcounts).
Every revocation also bumps meta 'auth_generation' in the same transaction: servers read that
one value (cached for a moment) to learn that some session ended, instead of looking every
token up on every request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from floodpost.storage.base import User
from floodpost.storage.reads import user_of

_BUMP = (
    "INSERT INTO meta (key, value) VALUES ('auth_generation', '1') "
    "ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)"
)
_AUDIT = (
    "INSERT INTO auth_audit (at_ts, account, address, actor, action, detail) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_USERS = (
    "SELECT name, role, password_hash, created_ts, disabled, sessions_after_ts "
    "FROM users ORDER BY name"
)
# Failures older than this are never looked at again (the longest throttle window is far less).
_KEEP_FAILURES_S = 7 * 86400.0

SqlStatement = tuple[str, Sequence[Any]]


class AuthTables:
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    def _write_sql(self, statements: Sequence[SqlStatement]) -> list[int]:
        raise NotImplementedError

    # accounts ----------------------------------------------------------------------------------
    def list_users(self) -> list[User]:
        return [u for u in map(user_of, self._rows(_USERS)) if u is not None]

    def update_user(
        self,
        name: str,
        *,
        at_ts: float,
        actor: str | None,
        action: str,
        password_hash: str | None = None,
        disabled: bool | None = None,
    ) -> bool:
        sets: list[str] = ["sessions_after_ts = ?"]
        params: list[Any] = [at_ts]
        if password_hash is not None:
            sets.append("password_hash = ?")
            params.append(password_hash)
        if disabled is not None:
            sets.append("disabled = ?")
            params.append(int(disabled))
        counts = self._write_sql(
            [
                (f"UPDATE users SET {', '.join(sets)} WHERE name = ?", (*params, name)),
                (_BUMP, ()),
                (_AUDIT, (at_ts, name, None, actor, action, None)),
            ]
        )
        return counts[0] > 0

    # sessions ----------------------------------------------------------------------------------
    def revoke_token(self, nonce: str, expires_ts: float, *, account: str, at_ts: float) -> None:
        self._write_sql(
            [
                ("DELETE FROM revoked_tokens WHERE expires_ts < ?", (at_ts,)),
                (
                    "INSERT INTO revoked_tokens (nonce, expires_ts) VALUES (?, ?) "
                    "ON CONFLICT (nonce) DO NOTHING",
                    (nonce, expires_ts),
                ),
                (_BUMP, ()),
                (_AUDIT, (at_ts, account, None, account, "logout", None)),
            ]
        )

    def auth_generation(self) -> int:
        rows = self._rows("SELECT value FROM meta WHERE key = 'auth_generation'")
        return int(rows[0][0]) if rows else 0

    def revoked_nonces(self, now_ts: float) -> set[str]:
        rows = self._rows("SELECT nonce FROM revoked_tokens WHERE expires_ts >= ?", (now_ts,))
        return {str(r[0]) for r in rows}

    # sign-in failures --------------------------------------------------------------------------
    def record_login_failure(
        self, scopes: Sequence[str], at_ts: float, *, audit: dict[str, Any] | None = None
    ) -> None:
        statements: list[SqlStatement] = [
            ("DELETE FROM login_failures WHERE at_ts < ?", (at_ts - _KEEP_FAILURES_S,))
        ]
        statements += [
            ("INSERT INTO login_failures (scope, at_ts) VALUES (?, ?)", (scope, at_ts))
            for scope in scopes
        ]
        if audit is not None:
            statements.append((_AUDIT, _audit_params(at_ts, **audit)))
        self._write_sql(statements)

    def login_failures(self, scope: str, since_ts: float) -> list[float]:
        rows = self._rows(
            "SELECT at_ts FROM login_failures WHERE scope = ? AND at_ts > ? ORDER BY at_ts",
            (scope, since_ts),
        )
        return [float(r[0]) for r in rows]

    def clear_login_failures(self, scope: str) -> None:
        self._write_sql([("DELETE FROM login_failures WHERE scope = ?", (scope,))])

    # the account audit log ---------------------------------------------------------------------
    def add_auth_audit(
        self,
        *,
        at_ts: float,
        account: str | None,
        address: str | None,
        actor: str | None,
        action: str,
        detail: str | None = None,
    ) -> None:
        self._write_sql([(_AUDIT, (at_ts, account, address, actor, action, detail))])

    def auth_audit(self, account: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        where, params = ("WHERE account = ? ", [account]) if account is not None else ("", [])
        rows = self._rows(
            "SELECT seq, at_ts, account, address, actor, action, detail FROM auth_audit "
            f"{where}ORDER BY seq DESC LIMIT ?",
            (*params, limit),
        )
        keys = ("seq", "at_ts", "account", "address", "actor", "action", "detail")
        return [dict(zip(keys, r, strict=True)) for r in rows]


def _audit_params(
    at_ts: float,
    *,
    account: str | None,
    address: str | None,
    actor: str | None,
    action: str,
    detail: str | None = None,
) -> tuple[Any, ...]:
    return (at_ts, account, address, actor, action, detail)
