"""Sign-in throttling that cannot lock a commander out (issue 13).

Failures are counted per scope, in the store (so a restart does not reset them and every worker
sees the same counts):
- per (account, address) and per address: `max_failures` within `window_s` make that address
  wait (429 with Retry-After) — for that account, and for any account (password spraying);
- per account, globally, a slower back-off: once the account has GLOBAL_FACTOR × max_failures
  failures within GLOBAL_FACTOR × window_s, an address that has itself failed for this account
  waits an exponentially growing delay (capped at `window_s`) after the account's last failure.
  An address with no failures for the account is never held back by other addresses' guesses,
  so one attacker (or many) cannot lock the commander out from the command post.
A success clears its (account, address) count, never the address's or the account's. Lock-outs
are written to the account audit log (store.auth_audit) with the address.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any, Protocol

from floodpost.clock import Clock, system_clock
from floodpost.errors import Throttled

GLOBAL_FACTOR = 4
_MAX_BACKOFF_EXPONENT = 16


class FailureLog(Protocol):
    """Where failures are kept: the store (storage/auth_store.py) or MemoryFailures."""

    def record_login_failure(
        self, scopes: Sequence[str], at_ts: float, *, audit: dict[str, Any] | None = None
    ) -> None: ...
    def login_failures(self, scope: str, since_ts: float) -> list[float]: ...
    def clear_login_failures(self, scope: str) -> None: ...


class MemoryFailures:
    """A FailureLog in memory (tools and tests without a store); forgets on restart."""

    def __init__(self) -> None:
        self._times: dict[str, list[float]] = {}
        self._lock = threading.Lock()
        self.audit: list[dict[str, Any]] = []

    def record_login_failure(
        self, scopes: Sequence[str], at_ts: float, *, audit: dict[str, Any] | None = None
    ) -> None:
        with self._lock:
            if len(self._times) > 100_000:
                self._times.clear()  # bounded memory under a flood of distinct names
            for scope in scopes:
                self._times.setdefault(scope, []).append(at_ts)
            if audit is not None:
                self.audit.append({"at_ts": at_ts, **audit})

    def login_failures(self, scope: str, since_ts: float) -> list[float]:
        with self._lock:
            kept = [t for t in self._times.get(scope, []) if t > since_ts]
            if kept:
                self._times[scope] = kept[-1000:]
            else:
                self._times.pop(scope, None)
            return kept

    def clear_login_failures(self, scope: str) -> None:
        with self._lock:
            self._times.pop(scope, None)


def _pair(account: str, address: str | None) -> str:
    return f"pair:{account.casefold()}|{address or '-'}"


def _account(account: str) -> str:
    return f"account:{account.casefold()}"


def _address(address: str) -> str:
    return f"address:{address}"


class LoginThrottle:
    def __init__(
        self,
        max_failures: int,
        window_s: float,
        clock: Clock = system_clock,
        log: FailureLog | None = None,
    ) -> None:
        self.max_failures = max(1, max_failures)
        self.window_s = window_s
        self.clock = clock
        self.log: FailureLog = log if log is not None else MemoryFailures()
        self.global_max = self.max_failures * GLOBAL_FACTOR
        self.global_window_s = window_s * GLOBAL_FACTOR

    def _wait(self, times: list[float], limit: int, window_s: float, now: float) -> float:
        if len(times) < limit:
            return 0.0
        return times[-limit] + window_s - now

    def check(self, account: str, address: str | None) -> None:
        """Raise Throttled (with retry_after_s) if this address must wait for this account."""
        now = self.clock()
        since = now - self.window_s
        pair = self.log.login_failures(_pair(account, address), since)
        wait = self._wait(pair, self.max_failures, self.window_s, now)
        if address:
            spray = self.log.login_failures(_address(address), since)
            wait = max(wait, self._wait(spray, self.max_failures, self.window_s, now))
        if pair and wait <= 0:
            wait = self._global_backoff(account, now)
        if wait > 0:
            raise Throttled(
                "too many failed sign-ins; try again later",
                retry_after_s=max(1, math.ceil(wait)),
            )

    def _global_backoff(self, account: str, now: float) -> float:
        times = self.log.login_failures(_account(account), now - self.global_window_s)
        over = len(times) - self.global_max
        if over < 0:
            return 0.0
        delay = min(self.window_s, 2.0 ** min(_MAX_BACKOFF_EXPONENT, over + 1))
        return times[-1] + delay - now

    def record_failure(self, account: str, address: str | None) -> None:
        now = self.clock()
        scopes = [_pair(account, address), _account(account)]
        if address:
            scopes.append(_address(address))
        self.log.record_login_failure(scopes, now, audit=self._lockout(account, address, now))

    def _lockout(self, account: str, address: str | None, now: float) -> dict[str, Any] | None:
        """The audit entry when this failure starts a lock-out (it reaches a limit)."""
        since = now - self.window_s
        reasons = []
        if len(self.log.login_failures(_pair(account, address), since)) + 1 == self.max_failures:
            reasons.append(
                f"{self.max_failures} failures from this address within {self.window_s:g} s"
            )
        elif address and (
            len(self.log.login_failures(_address(address), since)) + 1 == self.max_failures
        ):
            reasons.append(f"{self.max_failures} failures from this address (any account)")
        total = len(self.log.login_failures(_account(account), now - self.global_window_s))
        if total + 1 == self.global_max:
            reasons.append(f"{self.global_max} failures for the account: global back-off")
        detail = "; ".join(reasons) or None
        if detail is None:
            return None
        return {
            "account": account[:64],
            "address": address,
            "actor": None,
            "action": "lockout",
            "detail": detail,
        }

    def record_success(self, account: str, address: str | None = None) -> None:
        self.log.clear_login_failures(_pair(account, address))
