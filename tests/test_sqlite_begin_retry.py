"""Two SQLite writers on one file (`serve --workers 2`): the writer waits for the write lock
itself (storage/sqlite.py, BEGIN_RETRY_S) instead of SQLite's busy handler. Both make progress,
every write lands exactly once, and a lock held past the bounded wait is still a 503 (that case:
tests/test_faults.py)."""

from __future__ import annotations

import sqlite3
import threading
import time

from floodpost.storage.base import WriteTx
from floodpost.storage.sqlite import SQLiteStore

N = 120


def _note(name: str, i: int):
    def work(tx: WriteTx) -> int:
        return tx.log("note", f"{name}{i}", "create", {"i": i}, actor=name)

    return work


def test_two_writers_on_one_file_both_progress_and_nothing_is_lost(tmp_path):
    url = f"sqlite:///{tmp_path / 'two.db'}"
    stores = {"a": SQLiteStore(url), "b": SQLiteStore(url)}
    errors: list[BaseException] = []

    def hammer(name: str) -> None:
        store = stores[name]
        try:
            # Futures, a few at a time: the writers' batches interleave and collide on the lock.
            for start in range(0, N, 4):
                futures = [store.transact_future(_note(name, i)) for i in range(start, start + 4)]
                for f in futures:
                    f.result()
        except BaseException as exc:  # noqa: BLE001 - reported on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(name,)) for name in stores]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors
        changes = stores["a"].changes_after(0, 10 * N)
        keys = [(c.actor, c.report["i"]) for c in changes]
        assert sorted(keys) == sorted((name, i) for name in stores for i in range(N))
        assert len(set(c.seq for c in changes)) == 2 * N
        assert stores["a"].commit_count > 0 and stores["b"].commit_count > 0
    finally:
        for s in stores.values():
            s.close()


def test_a_write_waits_for_a_short_lock_then_lands(tmp_path):
    db = tmp_path / "short.db"
    store = SQLiteStore(f"sqlite:///{db}", busy_timeout_s=5.0)
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process's writer mid-commit
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    try:
        release.start()
        started = time.monotonic()
        seq = store.transact(_note("w", 1))
        waited = time.monotonic() - started
        assert waited >= 0.25  # it did wait for the lock, and then wrote
        [change] = store.changes_after(seq - 1, 10)
        assert (change.actor, change.report) == ("w", {"i": 1})
    finally:
        release.join()
        other.close()
        store.close()
