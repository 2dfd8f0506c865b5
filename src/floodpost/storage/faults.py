"""Faults of the store turned into "try again shortly" (503 with Retry-After), and the health
state they leave behind (`/healthz` says "degraded" with the reason while it lasts).

A full disk, a database locked by another program for longer than the bounded wait, a lost
PostgreSQL connection or a writer queue past its bound are conditions of the machine, not bugs:
the client (the field form's outbox) keeps its report and sends it again. Each write runs in a
transaction that these errors roll back whole, so nothing is half-written. Anything not
recognised here stays an unexpected error (a logged JSON 500).
"""

from __future__ import annotations

import errno
import queue
import sqlite3
import threading
import time
from typing import Any

from floodpost.errors import Unavailable

# Defaults of the settings db_busy_timeout_s and write_queue_max.
BUSY_TIMEOUT_S = 5.0
MAX_QUEUE = 20_000
# How long a client should wait before trying again, by cause (seconds).
RETRY_AFTER_S = {"disk_full": 30, "busy": 5, "connection": 5, "queue_full": 2, "closed": 5}
# /healthz stays "degraded" this long after the last fault unless a write succeeds first.
DEGRADED_FOR_S = 60.0

_SQLITE_UNAVAILABLE = {
    sqlite3.SQLITE_FULL: "disk_full",
    sqlite3.SQLITE_BUSY: "busy",
    sqlite3.SQLITE_LOCKED: "busy",
    sqlite3.SQLITE_IOERR: "disk_full",  # SQLITE_IOERR_WRITE & co.: ENOSPC mid-write
}
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
_MESSAGES = {
    "disk_full": "the database disk is full",
    "busy": "the database is locked by another program",
    "connection": "the database connection was lost",
    "queue_full": "too many writes are waiting",
    "closed": "the store is closed",
}


def unavailable(cause: str, detail: str | None = None) -> Unavailable:
    """The 503 error for a cause (one of RETRY_AFTER_S's keys)."""
    message = _MESSAGES[cause] + "; try again shortly" + (f" ({detail})" if detail else "")
    return Unavailable(message, reason=cause, retry_after_s=RETRY_AFTER_S[cause])


def cause_of(exc: BaseException) -> str | None:
    """Which store fault `exc` is, or None if it is not one (then it is a bug)."""
    if isinstance(exc, Unavailable):
        return str(exc.extra.get("reason") or "closed")
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return _SQLITE_UNAVAILABLE.get(code & 0xFF)
        text = str(exc).lower()
        if "disk is full" in text or "disk i/o" in text:
            return "disk_full"
        return "busy" if "locked" in text or "busy" in text else None
    if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
        return "disk_full"
    return _psycopg_cause(exc)


def _psycopg_cause(exc: BaseException) -> str | None:
    try:
        import psycopg
        from psycopg import errors as pg_errors
    except ImportError:  # pragma: no cover - psycopg is a dependency, but only PostgreSQL needs it
        return None
    if isinstance(exc, pg_errors.DiskFull):
        return "disk_full"
    if isinstance(exc, pg_errors.LockNotAvailable | pg_errors.QueryCanceled):
        return "busy"  # lock_timeout / statement_timeout: the bounded wait ran out
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return "connection"
    return None


def _fault_types() -> tuple[type[Exception], ...]:
    types: list[type[Exception]] = [sqlite3.Error, OSError]
    try:
        import psycopg

        types.append(psycopg.Error)
    except ImportError:  # pragma: no cover
        pass
    return tuple(types)


# Exception classes that may be store faults (the web layer routes them through classify).
FAULT_TYPES = _fault_types()


def classify(exc: BaseException) -> Unavailable | None:
    """The Unavailable error a store fault stands for, or None for anything else."""
    if isinstance(exc, Unavailable):
        return exc
    cause = cause_of(exc)
    return None if cause is None else unavailable(cause, type(exc).__name__)


def check_queue(jobs: queue.Queue[Any], bound: int) -> None:
    """Raise Unavailable("queue_full") when a writer's queue already holds `bound` jobs: past
    that, waiting callers would time out anyway, and memory grows without limit."""
    if bound > 0 and jobs.qsize() >= bound:
        raise unavailable("queue_full")


class FaultState:
    """The latest store fault, for /healthz: degraded from the fault until a write succeeds
    or DEGRADED_FOR_S pass without another fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[float, str] | None = None

    def record(self, cause: str) -> None:
        with self._lock:
            self._last = (time.monotonic(), cause)

    def clear(self) -> None:
        self._last = None

    def reason(self) -> str | None:
        last = self._last
        if last is None or time.monotonic() - last[0] > DEGRADED_FOR_S:
            return None
        return last[1]
