"""PostgreSQL/PostGIS store: the SQLite store's behaviour, for city or province deployments.

Writes go through one writer thread per process with group commit, as in the SQLite store: callers
block until the transaction holding their operation has committed with synchronous_commit=on (in
the WAL on disk), and each operation runs in its own savepoint so a conflict rolls back alone.
Every write transaction first takes one transaction-level advisory lock. That serialises writers
across processes (several uvicorn workers on one database), which keeps `changes.seq` in commit
order: an identity value is drawn when a row is inserted, not when it commits, so without the lock
a reader following the event stream could see seq 11 commit before seq 10 and skip 10 forever.
The row-level guards (`ON CONFLICT DO NOTHING` on create, `FOR UPDATE` on modify) stay in place so
the SQL is correct on its own, lock or not. Readers use a small pool of autocommit, read-only
connections.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from floodpost.errors import Conflict, NotFound
from floodpost.storage.base import (
    AGG_KEYS,
    REPORT_COLUMNS,
    Change,
    Modifier,
    User,
    agg_delta,
    dumps,
    report_row,
)
from floodpost.storage.postgres_schema import MIGRATIONS

_MAX_BATCH = 512
_BULK_CHUNK = 20000
_READERS = 8
# Arbitrary, fixed 64-bit keys for pg_advisory_xact_lock ("floodpst" / "floodmig" in ASCII).
_WRITE_LOCK = 0x666C6F6F64707374
_MIGRATE_LOCK = 0x666C6F6F646D6967
_Op = Callable[[psycopg.Connection], Any]
_BEGIN = f"BEGIN; SELECT pg_advisory_xact_lock({_WRITE_LOCK}); SAVEPOINT op"

_REPORT_FIELDS = f"{', '.join(REPORT_COLUMNS)}, content_hash, body"
_INSERT_REPORT = (
    f"INSERT INTO reports ({_REPORT_FIELDS}) "
    f"VALUES ({', '.join(['%s'] * (len(REPORT_COLUMNS) + 2))}) "
    "ON CONFLICT (id) DO NOTHING"
)
# Insert a report with its audit row and aggregate in one round trip. Data-modifying CTEs always
# run to completion; the final SELECT sees the snapshot from before the statement, so it shows
# the row that was already there (an identical resend or a conflict) and nothing for a new one.
_CREATE_REPORT = f"""
WITH new AS ({_INSERT_REPORT} RETURNING id, body),
change AS (
    INSERT INTO changes (report_id, at_ts, actor, action, reason, body)
    SELECT id, %s, %s, %s, NULL, body FROM new
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
_UPDATE_REPORT = (
    f"UPDATE reports SET {', '.join(f'{c} = %s' for c in REPORT_COLUMNS)}, content_hash = %s, "
    "body = %s WHERE id = %s"
)
_CHANGE_FIELDS = "report_id, at_ts, actor, action, reason, body"
_INSERT_CHANGE = f"INSERT INTO changes ({_CHANGE_FIELDS}) VALUES (%s, %s, %s, %s, %s, %s)"
_UPSERT_AGG = (
    f"INSERT INTO agg ({', '.join(AGG_KEYS)}, reports, people) VALUES ({', '.join(['%s'] * 9)}) "
    f"ON CONFLICT ({', '.join(AGG_KEYS)}) DO UPDATE SET "
    "reports = agg.reports + EXCLUDED.reports, people = agg.people + EXCLUDED.people"
)
_CHANGE_SELECT = "SELECT seq, report_id, at_ts, actor, action, reason, body FROM changes"

# String literals, quoted identifiers and comments are copied whole (a `?` inside them is not a
# placeholder); every `%` anywhere is doubled because psycopg reads `%` in the whole query text.
_SQL_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|\?|%""", re.S)


def to_psycopg_sql(sql: str) -> str:
    """Translate portable SQL with `?` placeholders into psycopg's `%s` style."""

    def sub(match: re.Match[str]) -> str:
        piece = match.group(0)
        return "%s" if piece == "?" else piece.replace("%", "%%")

    return _SQL_TOKENS.sub(sub, sql)


def _plain(value: Any) -> Any:
    """numeric results (SUM of bigint, AVG) as int or float, the way SQLite returns them."""
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    return value


def _connect(url: str, *, readonly: bool) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True)
    # Durable before acknowledged, whatever the server default says.
    conn.execute("SET synchronous_commit = on")
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


class _Writer(threading.Thread):
    def __init__(self, url: str) -> None:
        super().__init__(name="floodpost-postgres-writer", daemon=True)
        self.url = url
        self.conn: psycopg.Connection | None = _connect(url, readonly=False)
        self.jobs: queue.Queue[tuple[_Op, Future[Any]] | None] = queue.Queue()
        self.commits = 0

    def submit(self, op: _Op) -> Any:
        fut: Future[Any] = Future()
        self.jobs.put((op, fut))
        return fut.result()

    def run(self) -> None:
        while True:
            first = self.jobs.get()
            if first is None:
                break
            batch = [first]
            stop = False
            while len(batch) < _MAX_BATCH:
                try:
                    job = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            self._run_batch(batch)
            if stop:
                break
        if self.conn is not None:
            self.conn.close()

    def _begin(self) -> psycopg.Connection:
        """Open the batch transaction. A connection that died while idle (server restart,
        failover) is replaced once: nothing of the batch was sent yet, so retrying is safe."""
        for attempt in range(2):
            if self.conn is None or self.conn.closed or self.conn.broken:
                if self.conn is not None:
                    self.conn.close()
                self.conn = _connect(self.url, readonly=False)
            try:
                self.conn.execute(_BEGIN)
                return self.conn
            except psycopg.OperationalError:
                self.conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _run_batch(self, batch: list[tuple[_Op, Future[Any]]]) -> None:
        # Every op runs under savepoint "op" (a failing op rolls back alone). Statements without
        # parameters are sent together: round trips, not fsyncs, dominate a batch of small ops.
        results: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            conn = self._begin()
            try:
                for i, (op, fut) in enumerate(batch):
                    last = i == len(batch) - 1
                    try:
                        value = op(conn)
                    except psycopg.OperationalError:
                        raise  # the connection is gone: the whole batch failed
                    except Exception as exc:  # noqa: BLE001 - handed back to the caller
                        # The savepoint survives ROLLBACK TO, ready for the next op.
                        conn.execute("ROLLBACK TO SAVEPOINT op")
                        results.append((fut, None, exc))
                    else:
                        if not last:
                            conn.execute("RELEASE SAVEPOINT op; SAVEPOINT op")
                        results.append((fut, value, None))
                conn.execute("COMMIT")
            except BaseException:
                if not conn.closed and not conn.broken:
                    conn.execute("ROLLBACK")
                raise
            self.commits += 1
        except BaseException as exc:  # the commit failed: nothing in this batch is durable
            if self.conn is not None and self.conn.broken:
                self.conn.close()
            for _op, fut in batch:
                fut.set_exception(exc)
            return
        for fut, value, error in results:
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(value)

    def stop(self) -> None:
        self.jobs.put(None)
        self.join(timeout=30)


class PostgresStore:
    def __init__(self, url: str, *, readers: int = _READERS) -> None:
        self.url = url
        self.migrate()
        self._pool = _ReaderPool(url, readers)
        self._writer = _Writer(url)
        self._writer.start()

    # -- plumbing ---------------------------------------------------------------------------
    def _write(self, op: _Op) -> Any:
        return self._writer.submit(op)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._pool.run(lambda conn: conn.execute(sql, tuple(params)).fetchall())

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
        def op(conn: psycopg.Connection) -> tuple[dict[str, Any], bool]:
            existing = _insert(conn, report, content_hash, actor, "create")
            if existing is None:
                return report, True
            if existing[0] == content_hash:
                return json.loads(existing[1]), False
            raise Conflict(
                "a different report with this id already exists", field="id", code="id_conflict"
            )

        return self._write(op)

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
            if row is None:
                raise NotFound("no report with this id", field="id")
            old = json.loads(row[1])
            result = modify(dict(old))
            new, extra = result if isinstance(result, tuple) else (result, [])
            now = time.time()
            new["version"] = int(old.get("version", 1)) + 1
            new["updated_ts"] = now
            from floodpost.reports.model import iso_utc

            new["updated_at"] = iso_utc(now)
            with conn.pipeline():  # four statements, one round trip
                _apply_agg(conn, old, -1)
                _apply_agg(conn, new, +1)
                conn.execute(_UPDATE_REPORT, (*report_row(new, row[0]), report_id))
                conn.execute(_INSERT_CHANGE, (report_id, now, actor, action, reason, dumps(new)))
            for created, chash in extra:
                _insert(conn, created, chash, actor, "create")  # already there: left as it is
            return new

        return self._write(op)

    def bulk_load(self, reports: Iterable[tuple[dict[str, Any], str]], *, actor: str | None) -> int:
        chunk: list[tuple[dict[str, Any], str]] = []
        total = 0
        for item in reports:
            chunk.append(item)
            if len(chunk) >= _BULK_CHUNK:
                total += self._write(_bulk_op(chunk, actor))
                chunk = []
        if chunk:
            total += self._write(_bulk_op(chunk, actor))
        return total

    # -- reads ------------------------------------------------------------------------------
    def get_report(self, report_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT body FROM reports WHERE id = %s", (report_id,))
        return json.loads(rows[0][0]) if rows else None

    def list_reports(
        self,
        *,
        kind: str | None = None,
        township: str | None = None,
        since_ts: float | None = None,
        reporter: str | None = None,
        after_seq: int = 0,
        limit: int = 10000,
    ) -> tuple[list[dict[str, Any]], int | None]:
        where = ["seq > %s"]
        params: list[Any] = [after_seq]
        for column, value in (("kind", kind), ("township_code", township), ("reporter", reporter)):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        if since_ts is not None:
            where.append("updated_ts >= %s")
            params.append(since_ts)
        sql = f"SELECT seq, body FROM reports WHERE {' AND '.join(where)} ORDER BY seq LIMIT %s"
        rows = self._rows(sql, (*params, limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        reports = [json.loads(r[1]) for r in rows]
        return reports, (rows[-1][0] if more and rows else None)

    def changes_after(self, seq: int, limit: int = 1000) -> list[Change]:
        rows = self._rows(f"{_CHANGE_SELECT} WHERE seq > %s ORDER BY seq LIMIT %s", (seq, limit))
        return [_change(r) for r in rows]

    def last_change_seq(self) -> int:
        rows = self._rows("SELECT MAX(seq) FROM changes")
        return int(rows[0][0] or 0)

    def audit_log(self, report_id: str) -> list[Change]:
        rows = self._rows(f"{_CHANGE_SELECT} WHERE report_id = %s ORDER BY seq", (report_id,))
        return [_change(r) for r in rows]

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        query = to_psycopg_sql(sql)
        rows = self._pool.run(
            lambda conn: conn.cursor(row_factory=dict_row).execute(query, tuple(params)).fetchall()
        )
        return [{k: _plain(v) for k, v in row.items()} for row in rows]

    # -- accounts and meta ------------------------------------------------------------------
    def add_user(self, user: User) -> None:
        def op(conn: psycopg.Connection) -> None:
            row = conn.execute(
                "INSERT INTO users (name, role, password_hash, created_ts, disabled) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name) DO NOTHING RETURNING name",
                (user.name, user.role, user.password_hash, user.created_ts, int(user.disabled)),
            ).fetchone()
            if row is None:
                raise Conflict("an account with this name exists", field="name")

        self._write(op)

    def get_user(self, name: str) -> User | None:
        rows = self._rows(
            "SELECT name, role, password_hash, created_ts, disabled FROM users WHERE name = %s",
            (name,),
        )
        if not rows:
            return None
        row = rows[0]
        return User(row[0], row[1], row[2], row[3], bool(row[4]))

    def get_meta(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM meta WHERE key = %s", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._write(
            lambda conn: conn.execute(
                "INSERT INTO meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (key, value),
            )
        )


def _insert(
    conn: psycopg.Connection,
    report: dict[str, Any],
    content_hash: str,
    actor: str | None,
    action: str,
) -> tuple[str, str] | None:
    """Insert a new report with its audit row and aggregates. None if it was new, else the
    (content_hash, body) of the report already stored under this id, which is left as it is."""
    body = dumps(report)
    delta = agg_delta(report, +1)
    key, n, people = delta if delta is not None else (("",) * len(AGG_KEYS), 0, 0)
    row = conn.execute(
        _CREATE_REPORT,
        (
            *[report.get(c) for c in REPORT_COLUMNS],
            content_hash,
            body,
            report.get("received_ts") or time.time(),
            actor,
            action,
            *key,
            n,
            people,
            delta is not None,
            report["id"],
        ),
    ).fetchone()
    assert row is not None  # noqa: S101 - the outer join always yields one row
    return None if row[0] else (row[1], row[2])


def _apply_agg(conn: psycopg.Connection, report: dict[str, Any], sign: int) -> None:
    delta = agg_delta(report, sign)
    if delta is not None:
        key, n, people = delta
        conn.execute(_UPSERT_AGG, (*key, n, people))


def _bulk_op(chunk: list[tuple[dict[str, Any], str]], actor: str | None) -> _Op:
    def op(conn: psycopg.Connection) -> int:
        bodies = [dumps(report) for report, _chash in chunk]
        sums: dict[tuple[str, ...], list[int]] = {}
        for report, _chash in chunk:
            delta = agg_delta(report, +1)
            if delta is not None:
                acc = sums.setdefault(delta[0], [0, 0])
                acc[0] += delta[1]
                acc[1] += delta[2]
        with conn.cursor() as cur:
            # COPY is several times faster than INSERT for replay and simulate loads.
            with cur.copy(f"COPY reports ({_REPORT_FIELDS}) FROM STDIN") as copy:
                for (report, chash), body in zip(chunk, bodies, strict=True):
                    copy.write_row((*[report.get(c) for c in REPORT_COLUMNS], chash, body))
            with cur.copy(f"COPY changes ({_CHANGE_FIELDS}) FROM STDIN") as copy:
                for (report, _chash), body in zip(chunk, bodies, strict=True):
                    copy.write_row(
                        (report["id"], report.get("received_ts"), actor, "create", None, body)
                    )
            cur.executemany(_UPSERT_AGG, [(*k, v[0], v[1]) for k, v in sums.items()])
        return len(chunk)

    return op


def _change(row: Sequence[Any]) -> Change:
    return Change(
        seq=row[0],
        report_id=row[1],
        at_ts=row[2],
        actor=row[3],
        action=row[4],
        reason=row[5],
        report=json.loads(row[6]),
    )
