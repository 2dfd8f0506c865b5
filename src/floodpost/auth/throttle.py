"""Sign-in throttling: too many failures for one account, or from one address, answer 429.

Counts live in memory and so are per process: with `--workers N` an attacker gets up to N times
the budget, which still bounds online guessing; a restart forgets them. A success clears the
account's count but not the address's, so one valid account cannot be used to reset the budget
of an address that is guessing other accounts' passwords.
"""

from __future__ import annotations

import math
import threading
from collections import deque

from floodpost.clock import Clock, system_clock
from floodpost.errors import Throttled

# Bounds memory under a flood of distinct usernames/addresses; old entries are pruned first.
_MAX_KEYS = 100_000


class LoginThrottle:
    def __init__(self, max_failures: int, window_s: float, clock: Clock = system_clock) -> None:
        self.max_failures = max(1, max_failures)
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(account: str, address: str | None) -> list[str]:
        keys = [f"account:{account.casefold()}"]
        if address:
            keys.append(f"address:{address}")
        return keys

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def check(self, account: str, address: str | None) -> None:
        """Raise Throttled (with retry_after_s) if the account or the address is over budget."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in self._keys(account, address):
                times = self._recent(key, now)
                if times is not None and len(times) >= self.max_failures:
                    wait = max(wait, times[-self.max_failures] + self.window_s - now)
        if wait > 0:
            raise Throttled(
                "too many failed sign-ins; try again later",
                retry_after_s=max(1, math.ceil(wait)),
            )

    def record_failure(self, account: str, address: str | None) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) >= _MAX_KEYS:
                self._prune(now)
            for key in self._keys(account, address):
                times = self._failures.setdefault(key, deque(maxlen=self.max_failures * 4))
                times.append(now)

    def record_success(self, account: str) -> None:
        with self._lock:
            self._failures.pop(f"account:{account.casefold()}", None)

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        if len(self._failures) >= _MAX_KEYS:
            # Still full of fresh entries: drop the oldest half rather than grow without bound.
            oldest = sorted(self._failures, key=lambda k: self._failures[k][-1])
            for key in oldest[: len(oldest) // 2]:
                del self._failures[key]
