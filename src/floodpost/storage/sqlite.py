"""SQLite store: WAL, synchronous=FULL, and group commit.

Writes go through the shared group-commit writer (storage.common.GroupWriter); this module gives
it SQLite's dialect (BEGIN IMMEDIATE, savepoints, COMMIT fsync'd with synchronous=FULL). Readers
use their own per-thread connections, which WAL lets run beside the writer.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from floodpost.clock import Clock, system_clock
from floodpost.errors import Conflict, Unavailable
from floodpost.storage import bulk, common, creates, faults, peer_wake, signals, sqlite_batch
from floodpost.storage.auth_store import AuthTables
from floodpost.storage.base import Modifier, User, WriteTx
from floodpost.storage.common import Statement
from floodpost.storage.field_rows import report_field_rows
from floodpost.storage.reads import SharedReads
from floodpost.storage.sqlite_schema import MIGRATIONS

T = TypeVar("T")
# Reports per bulk transaction. Random keys (report ids, in reports' unique index and the
# audit log's index) dirty most index pages in every transaction, and each commit writes every
# dirty page to the WAL: fewer, bigger transactions write those indexes out far fewer times
# (1M events: 87 s with 20,000, 61 s with 100,000 — bench/bench_bulk.py).
_BULK_CHUNK = 100_000
_Op = Callable[[sqlite3.Connection], Any]
# The writer retries a busy BEGIN IMMEDIATE itself every millisecond. SQLite's own busy handler
# tries again after 1, 3, 8, 18, 33… ms, so with `--workers 2` a writer that found the other
# process's commit (a few ms with its fsync) in progress could start 5–10 ms after the lock was
# free: that is in the POST's own tail and so in the push latency (bench_push).
BEGIN_RETRY_S = 0.001


def _connect(
    path: str, *, readonly: bool = False, busy_timeout_s: float = faults.BUSY_TIMEOUT_S
) -> sqlite3.Connection:
    # issue 13: a lock held by another program is waited for a bounded time, then SQLITE_BUSY
    # answers 503 (storage/faults.py) instead of a request hanging for half a minute.
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s
    )
    # Only takes effect on a new, empty database (before WAL fixes it): 8 KiB pages make a
    # million-event bulk load ~20 % faster and the file ~7 % smaller than 4 KiB (fewer pages
    # and B-tree levels per index); 16 KiB gained nothing more and doubles a small commit's WAL.
    conn.execute("PRAGMA page_size=8192")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
    if readonly:
        conn.execute("PRAGMA query_only=1")
    return conn


class _Dialect:
    """SQLite's part of the group-commit writer (storage.common.GroupWriter)."""

    name = "sqlite"
    # An op's own error rolls back alone; store faults (disk full, busy) fail the whole batch
    # anyway (GroupWriter asks storage/faults.py), so nothing else is fatal here.
    batch_fatal = staticmethod(lambda exc: False)

    def __init__(self, path: str, busy_timeout_s: float = faults.BUSY_TIMEOUT_S) -> None:
        self.conn = _connect(path, busy_timeout_s=busy_timeout_s)
        self.busy_timeout_s = busy_timeout_s
        # A larger page cache for the one writer: bulk loads (replay, simulate) touch many index
        # pages per batch; 256 MiB halves their time and costs nothing when idle.
        self.conn.execute("PRAGMA cache_size=-262144")
        # `begin` and `run_batch` wait for the write lock themselves (BEGIN_RETRY_S). Once it
        # is held, nothing else in a WAL transaction waits for another connection (commit's
        # automatic checkpoint is PASSIVE: it never waits), so no busy handler is needed.
        self.conn.execute("PRAGMA busy_timeout=0")
        sqlite_batch.install(self.conn)

    def begin(self) -> sqlite3.Connection:
        conn = self._begin_immediate()
        conn.execute("SAVEPOINT op")
        return conn

    def _begin_immediate(self) -> sqlite3.Connection:
        self._when_free(lambda: self.conn.execute("BEGIN IMMEDIATE"))
        return self.conn

    def _when_free(self, write: Callable[[], object]) -> None:
        """Run `write`, which takes the write lock first, retrying while another connection
        holds it (every BEGIN_RETRY_S, for at most the busy timeout)."""
        deadline = None
        while True:
            try:
                write()
                return
            except sqlite3.OperationalError as exc:
                if faults.cause_of(exc) != "busy":
                    raise
                now = time.monotonic()
                deadline = deadline or now + self.busy_timeout_s
                if now >= deadline:
                    raise  # the bounded wait ran out: 503 busy (issue 13)
                time.sleep(BEGIN_RETRY_S)

    def run_batch(self, ops: Sequence[creates.CreateOp]) -> list[common.Outcome] | None:
        """A group commit of report creates as one statement (storage/sqlite_batch.py): the
        batch's stored ids looked up, then one multi-row INSERT that is its own transaction —
        lock, writes, commit and fsync in one call without the GIL. None when it failed (a
        constraint: SQLite undid the whole statement): the writer then runs the ops one by one,
        so the error stays with its op. An id that another process stores between the lookup
        and the INSERT fails it the same way, and the op by op run finds it."""
        conn = self.conn
        ids = list(dict.fromkeys(op.report["id"] for op in ops))
        sql, params = sqlite_batch.lookup(ids)
        plan = creates.plan(ops, {rid: (h, b) for rid, h, b in conn.execute(sql, params)})
        if plan.fresh:
            sql, params = sqlite_batch.insert(plan.fresh)
            try:
                self._when_free(lambda: conn.execute(sql, params))
            except sqlite3.Error as exc:
                if common.fails_batch(self, exc):
                    raise  # disk full, busy for too long, I/O: the whole batch fails
                return None
        return plan.outcomes

    def next_op(self, conn: sqlite3.Connection) -> None:
        conn.execute("RELEASE op")
        conn.execute("SAVEPOINT op")

    def undo_op(self, conn: sqlite3.Connection) -> None:
        conn.execute("ROLLBACK TO op")

    def commit(self, conn: sqlite3.Connection) -> None:
        conn.execute("COMMIT")

    def abort(self, conn: sqlite3.Connection | None) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()


class SQLiteStore(SharedReads, AuthTables):
    def __init__(
        self,
        url: str,
        *,
        clock: Clock = system_clock,
        busy_timeout_s: float = faults.BUSY_TIMEOUT_S,
        max_queue: int = faults.MAX_QUEUE,
    ) -> None:
        self.url = url
        self.clock = clock
        self.busy_timeout_s = busy_timeout_s
        self.faults = faults.FaultState()  # issue 13: read by /healthz
        path = url.removeprefix("sqlite:///")
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.path = str(Path(path).expanduser())
        self._local = threading.local()
        # Each thread's read connection with a lock held while it is used: close() takes every
        # lock before closing, because closing a connection another thread is reading from
        # crashes the interpreter (seen with a start-up warm-up thread and a test's teardown).
        self._readers: list[tuple[sqlite3.Connection, threading.Lock]] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self.migrate()
        self._writer = common.GroupWriter(
            _Dialect(self.path, busy_timeout_s), max_queue=max_queue, fault_state=self.faults
        )
        # Other processes' watchers hear of each commit at once (storage/peer_wake.py).
        self._peers = peer_wake.Peers(self.path)
        self._writer.add_commit_listener(self._peers.notify)
        self._writer.start()

    # -- plumbing ---------------------------------------------------------------------------
    def _reader(self) -> tuple[sqlite3.Connection, threading.Lock]:
        pair = getattr(self._local, "reader", None)
        if pair is None:
            with self._readers_lock:
                if self._closed:
                    raise Unavailable("the store is closed")
                conn = _connect(self.path, readonly=True, busy_timeout_s=self.busy_timeout_s)
                conn.row_factory = sqlite3.Row
                pair = (conn, threading.Lock())
                self._readers.append(pair)
            self._local.reader = pair
        return pair

    def _write(self, op: Callable[[Any], T]) -> T:
        return self._writer.submit(op)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        conn, lock = self._reader()
        with lock:
            if self._closed:
                raise Unavailable("the store is closed")
            return conn.execute(sql, tuple(params)).fetchall()

    def report_field_rows(
        self, fields: Sequence[str], **filters: Any
    ) -> tuple[list[list[Any]], int | None]:
        """Store.report_field_rows (storage/field_rows.py, shared by both backends)."""
        return report_field_rows(self._rows, "sqlite", fields, **filters)

    def watch_changes(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Store.watch_changes: local commits at once, other processes' via data_version."""
        return signals.watch(
            signals.SQLiteWatcher(self.path, wake), self._writer.add_commit_listener
        )

    @property
    def commit_count(self) -> int:
        return self._writer.commits

    def migrate(self) -> None:
        conn = _connect(self.path)
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            current = row[0] or 0
            for version, sql in enumerate(MIGRATIONS, start=1):
                if version <= current:
                    continue
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in sql.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute("INSERT INTO schema_version VALUES (?)", (version,))
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        finally:
            conn.close()

    def close(self) -> None:
        with self._readers_lock:
            self._closed = True
            readers, self._readers = self._readers, []
        self._writer.stop()
        self._peers.close()
        for conn, lock in readers:
            with lock:  # waits for a read in progress in another thread
                conn.close()

    # -- writes -----------------------------------------------------------------------------
    def create_report(
        self, report: dict[str, Any], content_hash: str, *, actor: str | None
    ) -> tuple[dict[str, Any], bool]:
        return self.create_report_future(report, content_hash, actor=actor).result()

    def create_report_future(
        self,
        report: dict[str, Any],
        content_hash: str,
        *,
        actor: str | None,
        body: str | None = None,
    ) -> Future[tuple[dict[str, Any], bool]]:
        """create_report without blocking: the Future resolves once the report's group commit
        is durable. Lets the async ingest route await the writer directly (asyncio.wrap_future)
        instead of parking a thread-pool thread on it — two thread hand-offs less per report."""

        return self._writer.submit_nowait(_CreateOp(report, content_hash, actor, self.clock, body))

    def modify_report(
        self,
        report_id: str,
        modify: Modifier,
        *,
        actor: str | None,
        action: str,
        reason: str | None,
    ) -> dict[str, Any]:
        def op(conn: sqlite3.Connection) -> dict[str, Any]:
            row = conn.execute(
                "SELECT content_hash, body FROM reports WHERE id = ?", (report_id,)
            ).fetchone()
            now = self.clock()
            new, extra, statements = common.modification(
                report_id, row, modify, actor=actor, action=action, reason=reason, now=now
            )
            _run(conn, statements)
            for created, chash in extra:
                exists = conn.execute(
                    "SELECT 1 FROM reports WHERE id = ?", (created["id"],)
                ).fetchone()
                if exists is None:
                    _run(conn, common.create_statements(created, chash, actor, now))
            return new

        return self._write(op)

    def bulk_load(self, reports: Iterable[tuple[dict[str, Any], str]], *, actor: str | None) -> int:
        chunks = bulk.prepared_chunks(reports, actor, _BULK_CHUNK)
        submit = lambda rows: self._writer.submit_nowait(_bulk_op(rows, actor))  # noqa: E731
        return bulk.load_chunks(chunks, submit, overlap=False)

    def bulk_load_rows(self, chunks: Iterable[bulk.BulkRows], *, actor: str | None) -> int:
        # A transaction per chunk, taking the next chunk while the writer inserts one (simulate's
        # come from its worker process). One transaction for the whole load wrote the randomly
        # keyed index pages to the WAL only once (1M pre-built rows: 30 s vs 36 s of inserts),
        # but its commit and checkpoint of the whole WAL came at the end, after the worker had
        # finished, and simulate took as long or longer (43.1 s vs 39.6 s for 1M events).
        submit = lambda rows: self._writer.submit_nowait(_bulk_op(rows, actor))  # noqa: E731
        return bulk.load_chunks(chunks, submit, overlap=True)

    def transact(self, work: Callable[[WriteTx], T]) -> T:
        return self.transact_future(work).result()

    def transact_future(self, work: Callable[[WriteTx], T]) -> Future[T]:
        return self._writer.submit_nowait(common.transaction_op(work, self.clock))

    # -- reads ------------------------------------------------------------------------------
    def read(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self._rows(sql, params)]

    # -- accounts and meta ------------------------------------------------------------------
    def add_user(self, user: User) -> None:
        def op(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(common.INSERT_USER, common.user_params(user))
            except sqlite3.IntegrityError:
                raise Conflict("an account with this name exists", field="name") from None

        self._write(op)

    def set_meta(self, key: str, value: str) -> None:
        self._write(lambda conn: conn.execute(common.SET_META, (key, value)))

    def _write_sql(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        """`?` statements in one write transaction (storage/auth_store.py; issue 13)."""
        return self._write(
            lambda conn: [conn.execute(sql, tuple(params)).rowcount for sql, params in statements]
        )


def _run(conn: sqlite3.Connection, statements: list[Statement]) -> None:
    for name, params in statements:
        conn.execute(common.WRITE_SQL[name], params)


class _CreateOp(creates.CreateOp):
    """create_report alone, under its savepoint (a batch of only these goes to run_batch)."""

    def __call__(self, conn: sqlite3.Connection) -> creates.Created:
        report = self.report
        row = conn.execute(
            "SELECT content_hash, body FROM reports WHERE id = ?", (report["id"],)
        ).fetchone()
        if row is not None:
            return creates.resent(row[0], row[1], self.content_hash)
        statements = common.create_statements(
            report, self.content_hash, self.actor, self.clock(), self.body
        )
        _run(conn, statements)
        return report, True


# The audit rows of a bulk load come straight from the rows just inserted, in one statement:
# no per-row hand-over between Python and SQLite (which needs the GIL back for every row).
_BULK_CHANGES = (
    "INSERT INTO changes (report_id, at_ts, actor, action, reason, body) "
    "SELECT id, received_ts, ?, 'create', NULL, NULL FROM reports WHERE seq > ? ORDER BY seq"
)


def _bulk_op(prepared: bulk.BulkRows, actor: str | None) -> _Op:
    rows, _changes, sums = prepared

    def op(conn: sqlite3.Connection) -> int:
        (before,) = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM reports").fetchone()
        conn.executemany(common.INSERT_REPORT, rows)
        conn.execute(_BULK_CHANGES, (actor, before))
        conn.executemany(common.UPSERT_AGG, sums)
        return len(rows)

    return op
