"""Wake-ups after a commit in another process, so the event stream need not poll every 200 ms.

A commit in this process wakes its listeners directly (`GroupWriter.add_commit_listener`). A
commit by another worker process or program on the same store is noticed here:

- SQLite: `PRAGMA data_version` on a connection of the watcher's own changes whenever another
  connection commits to the file. Reading it is a few microseconds (it looks at the WAL index in
  shared memory); it is read every `SQLITE_CHECK_S` (10 ms: more often, the thread's wake-ups
  cost the event loop GIL hand-overs) and at once when a floodpost writer in another process
  nudges the watcher's socket after its commit (storage/peer_wake.py). The check sees every
  writer; the nudge saves waiting for it.
- PostgreSQL: every write transaction sends `NOTIFY floodpost_changes` (delivered at commit, and
  not at all if it rolls back); a dedicated connection here `LISTEN`s on that channel.

Spurious wake-ups are harmless (the woken reader finds nothing new); a missed one only delays
an event until the reader's fallback poll.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

from floodpost.storage import peer_wake

CHANNEL = "floodpost_changes"
SQLITE_CHECK_S = 0.01
RECONNECT_S = 1.0


class _Watcher(threading.Thread):
    def __init__(self, wake: Callable[[], None], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.wake = wake
        self.halt = threading.Event()

    def stop(self) -> None:
        self.halt.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(5)


class SQLiteWatcher(_Watcher):
    def __init__(self, path: str, wake: Callable[[], None]) -> None:
        super().__init__(wake, "floodpost-sqlite-watch")
        self.path = path
        self.listener = peer_wake.Listener.open(path)

    def run(self) -> None:
        try:
            self._watch(self.listener)
        finally:
            if self.listener is not None:
                self.listener.close()

    def stop(self) -> None:
        self.halt.set()
        if self.listener is not None:
            self.listener.interrupt()
        super().stop()
        if self.listener is not None and not self.is_alive():
            self.listener.close()  # also when it never ran

    def _watch(self, listener: peer_wake.Listener | None) -> None:
        conn: sqlite3.Connection | None = None
        seen: int | None = None
        delay = 0.0
        while not self.halt.is_set():
            if delay:
                # A writer's nudge (storage/peer_wake.py) ends the wait at once.
                if listener is not None:
                    listener.wait(delay)
                elif self.halt.wait(delay):
                    break
                if self.halt.is_set():
                    break
            delay = SQLITE_CHECK_S
            try:
                if conn is None:
                    conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                (version,) = conn.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error:
                if conn is not None:
                    conn.close()
                conn, seen, delay = None, None, RECONNECT_S
                self.wake()  # something may have been missed while the file was unreadable
                continue
            if version != seen:  # also once at the start: a commit just before is not lost
                self.wake()
            seen = version
        if conn is not None:
            conn.close()


class PostgresListener(_Watcher):
    def __init__(self, url: str, wake: Callable[[], None]) -> None:
        super().__init__(wake, "floodpost-postgres-listen")
        self.url = url

    def run(self) -> None:
        import psycopg

        while not self.halt.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.wake()  # notifications sent before LISTEN (or while reconnecting)
                    while not self.halt.is_set():
                        # Returns after the timeout with none, so `halt` is checked regularly.
                        for _note in conn.notifies(timeout=0.5):
                            self.wake()
            except psycopg.Error:
                self.halt.wait(RECONNECT_S)


def watch(
    watcher: _Watcher, add_local: Callable[[Callable[[], None]], Callable[[], None]]
) -> Callable[[], None]:
    """Start `watcher` and a local commit listener; returns the function that stops both."""
    remove = add_local(watcher.wake)
    watcher.start()

    def stop() -> None:
        remove()
        watcher.stop()

    return stop
