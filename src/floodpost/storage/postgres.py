"""PostgreSQL/PostGIS store: the SQLite store's behaviour, for city or province deployments.

Writes go through the shared group-commit writer (storage.common.GroupWriter), as in the SQLite
store: callers wait until the transaction holding their operation has committed with
synchronous_commit=on (in the WAL on disk), and each operation runs in its own savepoint so a
conflict rolls back alone; this module supplies PostgreSQL's dialect. A batch of report creates
(the intake) goes in one pipelined round trip instead (`_Dialect.run_batch`), and falls back to
the savepoint path if a statement fails.
Every write transaction first takes one transaction-level advisory lock. That serialises writers
across processes (several uvicorn workers on one database), which keeps `changes.seq` in commit
order: an identity value is drawn when a row is inserted, not when it commits, so without the lock
a reader following the event stream could see seq 11 commit before seq 10 and skip 10 forever.
The row-level guards (`ON CONFLICT DO NOTHING` on create, `FOR UPDATE` on modify) stay in place so
the SQL is correct on its own, lock or not. Readers use a small pool of autocommit, read-only
connections.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from floodpost.clock import Clock, system_clock
from floodpost.errors import Conflict
from floodpost.storage import bulk, common, creates, faults, signals
from floodpost.storage.auth_store import AuthTables
from floodpost.storage.base import (
    AGG_KEYS,
    REPORT_COLUMNS,
    Modifier,
    User,
    WriteTx,
    agg_delta,
    report_row,
)
from floodpost.storage.common import CHANGE_FIELDS, REPORT_FIELDS
from floodpost.storage.field_rows import report_field_rows
from floodpost.storage.postgres_schema import MIGRATIONS
from floodpost.storage.reads import SharedReads

T = TypeVar("T")
_BULK_CHUNK = 20000
_READERS = 8
# Arbitrary, fixed 64-bit keys for pg_advisory_xact_lock ("floodpst" / "floodmig" in ASCII).
_WRITE_LOCK = 0x666C6F6F64707374
_MIGRATE_LOCK = 0x666C6F6F646D6967
_Op = Callable[[psycopg.Connection], Any]
_LOCK = f"SELECT pg_advisory_xact_lock({_WRITE_LOCK})"
_BEGIN = f"BEGIN; {_LOCK}; SAVEPOINT op"
# Delivered to every listener at commit, never if the batch rolls back (storage/signals.py).
_NOTIFY = f"NOTIFY {signals.CHANNEL}"
_COMMIT = f"{_NOTIFY}; COMMIT"

# Insert a report with its audit row and aggregate in one round trip. Data-modifying CTEs always
# run to completion; the final SELECT sees the snapshot from before the statement, so it shows
# the row that was already there (an identical resend or a conflict) and nothing for a new one.
# The audit row's body is NULL: its snapshot is reports.body until the report changes (common).
_CREATE_REPORT = f"""
WITH new AS (
    INSERT INTO reports ({REPORT_FIELDS})
    VALUES ({", ".join(["%s"] * (len(REPORT_COLUMNS) + 2))})
    ON CONFLICT (id) DO NOTHING RETURNING id
),
change AS (
    INSERT INTO changes ({CHANGE_FIELDS})
    SELECT id, %s, %s, %s, NULL, NULL FROM new
),
counted AS (
    INSERT INTO agg ({", ".join(AGG_KEYS)}, reports, people)
    SELECT {", ".join(["%s"] * 9)} FROM new WHERE %s
    ON CONFLICT ({", ".join(AGG_KEYS)}) DO UPDATE SET
        reports = agg.reports + EXCLUDED.reports, people = agg.people + EXCLUDED.people
)
SELECT (SELECT COUNT(*) FROM new) AS created, old.content_hash, old.body
FROM (SELECT 1) AS one LEFT JOIN reports AS old ON old.id = %s
"""

# String literals, quoted identifiers and comments are copied whole (a `?` inside them is not a
# placeholder); every `%` anywhere is doubled because psycopg reads `%` in the whole query text.
_SQL_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|\?|%""", re.S)


def to_psycopg_sql(sql: str) -> str:
    """Translate portable SQL with `?` placeholders into psycopg's `%s` style."""

    def sub(match: re.Match[str]) -> str:
        piece = match.group(0)
        return "%s" if piece == "?" else piece.replace("%", "%%")

    return _SQL_TOKENS.sub(sub, sql)


# The shared statements (common.py), in psycopg's placeholder style.
_SQL = {name: to_psycopg_sql(sql) for name, sql in common.WRITE_SQL.items()}
_psycopg_sql = functools.lru_cache(maxsize=256)(to_psycopg_sql)
_INSERT_USER = to_psycopg_sql(common.INSERT_USER) + " ON CONFLICT (name) DO NOTHING RETURNING name"


def _plain(value: Any) -> Any:
    """numeric results (SUM of bigint, AVG) as int or float, the way SQLite returns them."""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    return value


def _connect(
    url: str, *, readonly: bool, busy_timeout_s: float = faults.BUSY_TIMEOUT_S
) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(busy_timeout_s)))
    # Durable before acknowledged, whatever the server default says.
    conn.execute("SET synchronous_commit = on")
    # issue 13: a lock held elsewhere is waited for a bounded time, then 503 (storage/faults.py).
    conn.execute(f"SET lock_timeout = {int(busy_timeout_s * 1000)}")
    if readonly:
        conn.execute("SET default_transaction_read_only = on")
    return conn


class _ReaderPool:
    """A few autocommit connections shared by threads; broken ones are replaced on checkout."""

    def __init__(self, url: str, size: int) -> None:
        self.url = url
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self._slots:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed or conn.broken:
                conn = _connect(self.url, readonly=True)
            try:
                yield conn
            except psycopg.OperationalError:
                # The server went away or restarted: the idle ones are as dead as this one.
                conn.close()
                with self._lock:
                    stale, self._idle = self._idle, []
                for other in stale:
                    other.close()
                raise
            finally:
                if not conn.closed and not conn.broken:
                    with self._lock:
                        if self._closed:
                            conn.close()
                        else:
                            self._idle.append(conn)

    def run(self, fn: Callable[[psycopg.Connection], Any]) -> Any:
        """fn(conn), retried once on a fresh connection if the pooled one had died while idle
        (reads only, so a retry is harmless)."""
        try:
            with self.connection() as conn:
                return fn(conn)
        except psycopg.OperationalError:
            with self.connection() as conn:
                return fn(conn)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class _Dialect:
    """PostgreSQL's part of the group-commit writer (storage.common.GroupWriter). Statements
    without parameters are sent together: round trips, not fsyncs, dominate a batch of small
    ops."""

    name = "postgres"

    def __init__(self, url: str, busy_timeout_s: float = faults.BUSY_TIMEOUT_S) -> None:
        self.url = url
        self.busy_timeout_s = busy_timeout_s
        self.conn: psycopg.Connection | None = _connect(
            url, readonly=False, busy_timeout_s=busy_timeout_s
        )

    def begin(self) -> psycopg.Connection:
        return self._open(_BEGIN)

    def _open(self, begin: str) -> psycopg.Connection:
        """A connection that died while idle (server restart, failover) is replaced once:
        nothing of the batch was sent yet, so retrying is safe."""
        for attempt in range(2):
            if self.conn is None or self.conn.closed or self.conn.broken:
                if self.conn is not None:
                    self.conn.close()
                self.conn = _connect(self.url, readonly=False, busy_timeout_s=self.busy_timeout_s)
            try:
                self.conn.execute(begin)
                return self.conn
            except psycopg.OperationalError:
                self.conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def next_op(self, conn: psycopg.Connection) -> None:
        conn.execute("RELEASE SAVEPOINT op; SAVEPOINT op")

    def undo_op(self, conn: psycopg.Connection) -> None:
        conn.execute("ROLLBACK TO SAVEPOINT op")  # the savepoint survives, ready for the next op

    def commit(self, conn: psycopg.Connection) -> None:
        conn.execute(_COMMIT)

    def run_batch(self, ops: Sequence[_CreateOp]) -> list[common.Outcome] | None:
        """A batch of report creates in one pipelined round trip after BEGIN: the write lock,
        every insert, NOTIFY and COMMIT. Op by op, each insert waited for its answer and then
        for a savepoint round trip (≈ 1 ms per report in the writer thread), and the lock was
        held across all of that and the writer's own Python — which, with 2 workers, the other
        process's writer spent waiting (bench/README.md). Now the lock is held for the server's
        work only, and the answers are read after the commit (common.Pipelined)."""
        conn = self._open("BEGIN")
        try:
            with conn.pipeline():
                conn.execute(_LOCK)
                finishes = [op.send(conn) for op in ops]
                conn.execute(_NOTIFY)
                conn.execute("COMMIT")
        except psycopg.Error as exc:
            if common.fails_batch(self, exc):
                raise  # connection gone, disk full, busy: the whole batch fails
            # A statement failed, so the server skipped the rest and the COMMIT: nothing is
            # written. The writer runs the batch again op by op, so the error stays with its op.
            conn.execute("ROLLBACK")
            return None
        outcomes: list[common.Outcome] = []
        for finish in finishes:
            try:
                outcomes.append((finish(), None))
            except Exception as exc:  # noqa: BLE001 - the op's own answer (Conflict)
                outcomes.append((None, exc))
        return outcomes

    def abort(self, conn: psycopg.Connection | None) -> None:
        if self.conn is None:
            return
        if not self.conn.closed and not self.conn.broken:
            try:
                self.conn.execute("ROLLBACK")
            except psycopg.OperationalError:
                self.conn.close()
        else:
            self.conn.close()

    @staticmethod
    def batch_fatal(exc: BaseException) -> bool:
        # connection gone, disk full, lock wait over: the whole batch failed
        return isinstance(exc, psycopg.OperationalError)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class PostgresStore(SharedReads, AuthTables):
    def __init__(
        self,
        url: str,
        *,
        readers: int = _READERS,
        clock: Clock = system_clock,
        busy_timeout_s: float = faults.BUSY_TIMEOUT_S,
        max_queue: int = faults.MAX_QUEUE,
    ) -> None:
        self.url = url
        self.clock = clock
        self.faults = faults.FaultState()  # issue 13: read by /healthz
        self.migrate()
        self._pool = _ReaderPool(url, readers)
        self._writer = common.GroupWriter(
            _Dialect(url, busy_timeout_s), max_queue=max_queue, fault_state=self.faults
        )
        self._writer.start()

    # -- plumbing ---------------------------------------------------------------------------
    def _write(self, op: Callable[[Any], T]) -> T:
        return self._writer.submit(op)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        query = _psycopg_sql(sql)  # `?` style, as in common.py
        rows: list[tuple[Any, ...]] = self._pool.run(
            lambda conn: conn.execute(query, tuple(params)).fetchall()
        )
        return rows

    def report_field_rows(
        self, fields: Sequence[str], **filters: Any
    ) -> tuple[list[list[Any]], int | None]:
        """Store.report_field_rows (storage/field_rows.py, shared by both backends)."""
        return report_field_rows(self._rows, "postgres", fields, **filters)

    def watch_changes(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Store.watch_changes: local commits at once, other processes' via LISTEN."""
        return signals.watch(
            signals.PostgresListener(self.url, wake), self._writer.add_commit_listener
        )

    @property
    def commit_count(self) -> int:
        return self._writer.commits

    def migrate(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SET synchronous_commit = on")
            with conn.transaction():
                # Several workers may start at once; one migrates, the others then see it done.
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATE_LOCK,))
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
                current = (row[0] if row else None) or 0
                for version, sql in enumerate(MIGRATIONS, start=1):
                    if version <= current:
                        continue
                    conn.execute(sql)  # no parameters: several statements are allowed
                    conn.execute("INSERT INTO schema_version VALUES (%s)", (version,))

    def close(self) -> None:
        self._writer.stop()
        self._pool.close()

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
        def op(conn: psycopg.Connection) -> dict[str, Any]:
            row = conn.execute(
                "SELECT content_hash, body FROM reports WHERE id = %s FOR UPDATE", (report_id,)
            ).fetchone()
            now = self.clock()
            new, extra, statements = common.modification(
                report_id, row, modify, actor=actor, action=action, reason=reason, now=now
            )
            with conn.pipeline():  # one round trip
                for name, params in statements:
                    conn.execute(_SQL[name], params)
            for created, chash in extra:
                _insert(conn, created, chash, actor, now)  # already there: left as it is
            return new

        return self._write(op)

    def bulk_load(self, reports: Iterable[tuple[dict[str, Any], str]], *, actor: str | None) -> int:
        return self.bulk_load_rows(bulk.prepared_chunks(reports, actor, _BULK_CHUNK), actor=actor)

    def bulk_load_rows(self, chunks: Iterable[bulk.BulkRows], *, actor: str | None) -> int:
        # The server inserts in its own process: preparing the next chunk alongside pays here.
        submit = lambda rows: self._writer.submit_nowait(_bulk_op(rows))  # noqa: E731
        return bulk.load_chunks(chunks, submit, overlap=True)

    def transact(self, work: Callable[[WriteTx], T]) -> T:
        return self.transact_future(work).result()

    def transact_future(self, work: Callable[[WriteTx], T]) -> Future[T]:
        op = common.transaction_op(work, self.clock, _psycopg_sql, _plain)
        return self._writer.submit_nowait(op)

    # -- reads ------------------------------------------------------------------------------
    def read(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        query = to_psycopg_sql(sql)
        rows = self._pool.run(
            lambda conn: conn.cursor(row_factory=dict_row).execute(query, tuple(params)).fetchall()
        )
        return [{k: _plain(v) for k, v in row.items()} for row in rows]

    # -- accounts and meta ------------------------------------------------------------------
    def add_user(self, user: User) -> None:
        def op(conn: psycopg.Connection) -> None:
            row = conn.execute(_INSERT_USER, common.user_params(user)).fetchone()
            if row is None:
                raise Conflict("an account with this name exists", field="name")

        self._write(op)

    def set_meta(self, key: str, value: str) -> None:
        self._write(lambda conn: conn.execute(_psycopg_sql(common.SET_META), (key, value)))

    def _write_sql(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        """`?` statements in one write transaction (storage/auth_store.py; issue 13)."""
        return self._write(
            lambda conn: [
                conn.execute(_psycopg_sql(sql), tuple(params)).rowcount
                for sql, params in statements
            ]
        )


class _CreateOp(creates.CreateOp):
    """create_report's writer op (common.Pipelined): a batch of them is one round trip."""

    def __call__(self, conn: psycopg.Connection) -> creates.Created:
        return self.send(conn)()

    def send(self, conn: psycopg.Connection) -> Callable[[], creates.Created]:
        cur = _send_insert(
            conn, self.report, self.content_hash, self.actor, self.clock(), self.body
        )

        def finish() -> creates.Created:
            existing = _inserted(cur)
            if existing is None:
                return self.report, True
            # Nothing was written (ON CONFLICT DO NOTHING), so a Conflict needs no savepoint.
            return creates.resent(existing[0], existing[1], self.content_hash)

        return finish


def _send_insert(
    conn: psycopg.Connection,
    report: dict[str, Any],
    content_hash: str,
    actor: str | None,
    now: float,
    body: str | None = None,
) -> psycopg.Cursor[Any]:
    """Send the insert of a new report with its audit row and aggregates (_CREATE_REPORT);
    `_inserted` reads its answer (at once, or later in pipeline mode)."""
    delta = agg_delta(report, +1)
    key, n, people = delta if delta is not None else (("",) * len(AGG_KEYS), 0, 0)
    params = (
        *report_row(report, content_hash, body),
        report.get("received_ts") or now,
        actor,
        "create",
        *key,
        n,
        people,
        delta is not None,
        report["id"],
    )
    return conn.execute(_CREATE_REPORT, params, prepare=True)


def _inserted(cur: psycopg.Cursor[Any]) -> tuple[str, str] | None:
    """None if the report was new, else the (content_hash, body) of the report already stored
    under this id, which is left as it is."""
    row = cur.fetchone()
    assert row is not None  # noqa: S101 - the outer join always yields one row
    return None if row[0] else (row[1], row[2])


def _insert(
    conn: psycopg.Connection,
    report: dict[str, Any],
    content_hash: str,
    actor: str | None,
    now: float,
) -> tuple[str, str] | None:
    """Insert a new report with its audit row and aggregates (see `_inserted`)."""
    return _inserted(_send_insert(conn, report, content_hash, actor, now))


def _bulk_op(prepared: bulk.BulkRows) -> _Op:
    rows, changes, sums = prepared

    def op(conn: psycopg.Connection) -> int:
        with conn.cursor() as cur:
            # COPY is several times faster than INSERT for replay and simulate loads.
            with cur.copy(f"COPY reports ({REPORT_FIELDS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            with cur.copy(f"COPY changes ({CHANGE_FIELDS}) FROM STDIN") as copy:
                for change in changes:
                    copy.write_row(change)
            cur.executemany(_SQL["upsert_agg"], sums)
        return len(rows)

    return op
