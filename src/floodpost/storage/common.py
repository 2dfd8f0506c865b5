"""What the SQLite and PostgreSQL stores share: SQL text, row mapping and the write logic.

SQL here uses `?` placeholders (SQLite's style); the PostgreSQL store translates each statement
once at import with `to_psycopg_sql`. The one group-commit writer lives here too (`GroupWriter`,
`WriteDialect`, `DbTx` for `Store.transact`). Only what is truly dialect-specific stays in the
backends: connections, transaction statements, the create-with-conflict-check statement, COPY.

The audit log stores each create's snapshot once: a 'create' row in `changes` has body NULL while
the report has never changed since, because its snapshot is then exactly `reports.body` (simulate
and replay write a million creates; the copy doubled the file). Reads join it back
(`CHANGE_SELECT`). Before a report is first modified, `MATERIALISE` copies the current body — still
the create snapshot — into that row, in the same transaction, so the create row keeps the original
after the report moves on. Every other change row always has its body.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

from floodpost.errors import NotFound, Unavailable
from floodpost.storage import faults
from floodpost.storage.base import (
    AGG_KEYS,
    REPORT_COLUMNS,
    Modifier,
    User,
    agg_delta,
    dumps,
    report_row,
)
from floodpost.storage.creates import CreateOp
from floodpost.timefmt import iso_utc

T = TypeVar("T")

REPORT_FIELDS = f"{', '.join(REPORT_COLUMNS)}, content_hash, body"
CHANGE_FIELDS = "report_id, at_ts, actor, action, reason, body"


def _marks(n: int) -> str:
    return ", ".join("?" * n)


INSERT_REPORT = f"INSERT INTO reports ({REPORT_FIELDS}) VALUES ({_marks(len(REPORT_COLUMNS) + 2)})"
UPDATE_REPORT = (
    f"UPDATE reports SET {', '.join(f'{c} = ?' for c in REPORT_COLUMNS)}, content_hash = ?, "
    "body = ? WHERE id = ?"
)
INSERT_CHANGE = f"INSERT INTO changes ({CHANGE_FIELDS}) VALUES ({_marks(6)})"
UPSERT_AGG = (
    f"INSERT INTO agg ({', '.join(AGG_KEYS)}, reports, people) VALUES ({_marks(9)}) "
    f"ON CONFLICT ({', '.join(AGG_KEYS)}) DO UPDATE SET "
    "reports = agg.reports + excluded.reports, people = agg.people + excluded.people"
)
# The report's current body is its create snapshot until it first changes: keep it in the
# create row before the change (no-op when already there).
MATERIALISE = "UPDATE changes SET body = ? WHERE report_id = ? AND body IS NULL"
# A change of any entity other than a report (reports are logged by create/modify).
LOG_CHANGE = (
    "INSERT INTO changes (entity, report_id, at_ts, actor, action, reason, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq"
)
INSERT_USER = (
    "INSERT INTO users (name, role, password_hash, created_ts, disabled) VALUES (?, ?, ?, ?, ?)"
)
SET_META = (
    "INSERT INTO meta (key, value) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)

# Statements a write issues, by name, so each backend can keep them in its own dialect.
WRITE_SQL = {
    "insert_report": INSERT_REPORT,
    "update_report": UPDATE_REPORT,
    "insert_change": INSERT_CHANGE,
    "upsert_agg": UPSERT_AGG,
    "materialise": MATERIALISE,
}
Statement = tuple[str, Sequence[Any]]  # (WRITE_SQL key, parameters)


def create_statements(
    report: dict[str, Any],
    content_hash: str,
    actor: str | None,
    now: float,
    body: str | None = None,
) -> list[Statement]:
    """A new report, its audit row (snapshot left in reports.body) and its aggregate. `body`:
    dumps(report), if the caller has it."""
    at = report.get("received_ts") or now
    out: list[Statement] = [
        ("insert_report", report_row(report, content_hash, body)),
        ("insert_change", (report["id"], at, actor, "create", None, None)),
    ]
    out += agg_statements(report, +1)
    return out


def agg_statements(report: dict[str, Any], sign: int) -> list[Statement]:
    delta = agg_delta(report, sign)
    if delta is None:
        return []
    key, n, people = delta
    return [("upsert_agg", (*key, n, people))]


def modification(
    report_id: str,
    stored: tuple[str, str] | None,
    modify: Modifier,
    *,
    actor: str | None,
    action: str,
    reason: str | None,
    now: float,
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], str]], list[Statement]]:
    """modify_report's logic, given the stored (content_hash, body) read inside the write
    transaction and the store clock's `now`: (new report, linked reports to create, statements
    to run in that order)."""
    if stored is None:
        raise NotFound("no report with this id", field="id")
    content_hash, old_body = stored
    old = json.loads(old_body)
    result = modify(dict(old))
    new, extra = result if isinstance(result, tuple) else (result, [])
    new["version"] = int(old.get("version", 1)) + 1
    new["updated_ts"] = now
    new["updated_at"] = iso_utc(now)
    statements: list[Statement] = [("materialise", (old_body, report_id))]
    statements += agg_statements(old, -1)
    statements += agg_statements(new, +1)
    statements.append(("update_report", (*report_row(new, content_hash), report_id)))
    statements.append(("insert_change", (report_id, now, actor, action, reason, dumps(new))))
    return new, extra, statements


def user_params(user: User) -> tuple[Any, ...]:
    return (user.name, user.role, user.password_hash, user.created_ts, int(user.disabled))


# -- the one group-commit writer -------------------------------------------------------------
# One thread owns the only write connection. Callers hand it an operation and wait (or hold a
# Future) until the transaction holding it has committed durably: operations arriving together
# share one commit, so throughput grows with concurrency while nothing is acknowledged before it
# is on disk. Each operation runs under its own savepoint, so a failing one rolls back alone.
# Store faults (issue 13, storage/faults.py) are different: a full disk, a lock held past the
# bounded wait or a lost connection fails the whole batch, which rolls back whole, and every
# caller gets Unavailable (503 with Retry-After); the queue is bounded the same way. The writer
# keeps the FaultState /healthz reads: set by a fault, cleared by the next durable commit.

MAX_BATCH = 512
Op = Callable[[Any], Any]  # op(connection) -> value, run on the writer thread
Outcome = tuple[Any, BaseException | None]  # an op's value, or the error it raised


class Pipelined(Protocol):
    """An op whose statements can be sent without waiting for their answers (PostgreSQL's
    pipeline mode). `send(conn)` queues the statements and returns `finish`, which reads the
    answers and returns the op's value or raises. `finish` may raise only when the op changed
    nothing (a create that found another report under its id): it may run after the commit.
    Called as a plain op, `op(conn)` does the same thing in the ordinary way."""

    def __call__(self, conn: Any) -> Any: ...

    def send(self, conn: Any) -> Callable[[], Any]: ...


class WriteDialect(Protocol):
    """What a backend supplies to the writer: its connection and transaction statements."""

    name: str

    def begin(self) -> Any:
        """Open a write transaction with savepoint `op` set; return the connection. May replace
        a connection that died while idle (nothing of the batch has been sent yet)."""
        ...

    def next_op(self, conn: Any) -> None:
        """The op succeeded: release savepoint `op` and set a fresh one for the next."""
        ...

    def undo_op(self, conn: Any) -> None:
        """The op failed: roll back to savepoint `op` (which stays set)."""
        ...

    def commit(self, conn: Any) -> None: ...

    # Optional (the writer looks it up with getattr): write a batch made only of report creates
    # (storage/creates.py) whole — begin, every op, commit — and return their outcomes in
    # order; or None, having rolled back, when a statement failed: then the writer runs the
    # batch the ordinary way, op by op, so the error stays with its op.
    #   def run_batch(self, ops: Sequence[CreateOp]) -> list[Outcome] | None

    def abort(self, conn: Any) -> None:
        """The batch failed: roll back what can be, drop the connection if it is broken."""
        ...

    def batch_fatal(self, exc: BaseException) -> bool:
        """Whether an op's error means the connection is gone (the whole batch fails)."""
        ...

    def close(self) -> None: ...


def fails_batch(dialect: WriteDialect, exc: BaseException) -> bool:
    """Whether an op's error fails its whole batch (connection gone, disk full, busy) rather
    than only the op (a conflict, a bad value: rolled back alone)."""
    return dialect.batch_fatal(exc) or faults.cause_of(exc) is not None


class GroupWriter(threading.Thread):
    def __init__(
        self,
        dialect: WriteDialect,
        *,
        max_batch: int = MAX_BATCH,
        max_queue: int = faults.MAX_QUEUE,
        fault_state: faults.FaultState | None = None,
    ) -> None:
        super().__init__(name=f"floodpost-{dialect.name}-writer", daemon=True)
        self.dialect = dialect
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.faults = fault_state or faults.FaultState()
        self.jobs: queue.Queue[tuple[Op, Future[Any]] | None] = queue.Queue()
        self.commits = 0
        # Once stopping, new work is refused at once: queued behind the stop it would never run
        # and its caller would wait forever.
        self._gate = threading.Lock()
        self._stopping = False
        # Called on this thread after each successful commit (the event stream's wake-up).
        self._on_commit: list[Callable[[], None]] = []

    def add_commit_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` after every commit (keep it quick: it runs on the writer thread);
        returns the function that removes it."""
        self._on_commit = [*self._on_commit, listener]

        def remove() -> None:
            self._on_commit = [f for f in self._on_commit if f is not listener]

        return remove

    def _committed(self) -> None:
        for listener in self._on_commit:
            try:
                listener()
            except Exception:  # noqa: BLE001, S110 - a listener must not fail a commit
                pass

    def submit(self, op: Callable[[Any], T]) -> T:
        return self.submit_nowait(op).result()

    def submit_nowait(self, op: Callable[[Any], T]) -> Future[T]:
        fut: Future[T] = Future()
        if threading.current_thread() is self:
            # An op that waits for another op would wait for itself.
            fut.set_exception(RuntimeError("a store write inside a store write"))
            return fut
        with self._gate:
            if self._stopping:
                fut.set_exception(Unavailable("the store is closed"))
                return fut
            try:
                faults.check_queue(self.jobs, self.max_queue)  # issue 13: bounded queue
            except Unavailable as exc:
                self.faults.record("queue_full")
                fut.set_exception(exc)
            else:
                self.jobs.put((op, fut))
        return fut

    def run(self) -> None:
        try:
            while True:
                first = self.jobs.get()
                if first is None:
                    return
                batch = [first]
                stop = False
                while len(batch) < self.max_batch:
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
                    return
        finally:
            self.dialect.close()

    def _run_batch(self, batch: list[tuple[Op, Future[Any]]]) -> None:
        dialect = self.dialect
        conn = None
        whole = getattr(dialect, "run_batch", None)
        try:
            outcomes = None
            if whole is not None and all(isinstance(op, CreateOp) for op, _ in batch):
                outcomes = whole([op for op, _ in batch])  # report intake, written whole
            if outcomes is None:
                conn = dialect.begin()
                outcomes = [
                    self._run_op(conn, op, last=i == len(batch) - 1)
                    for i, (op, _fut) in enumerate(batch)
                ]
                dialect.commit(conn)
            self.commits += 1
            self.faults.clear()
        except BaseException as exc:  # the commit failed: nothing in this batch is durable
            dialect.abort(conn)
            # issue 13: a store fault becomes Unavailable -> 503 with Retry-After
            fault = faults.classify(exc)
            if fault is not None:
                self.faults.record(str(fault.extra["reason"]))
            for _op, fut in batch:
                fut.set_exception(fault or exc)
            return
        self._committed()
        for (_op, fut), (value, error) in zip(batch, outcomes, strict=True):
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(value)

    def _run_op(self, conn: Any, op: Op, *, last: bool) -> Outcome:
        """One op under savepoint `op`: rolled back alone if it fails."""
        try:
            value = op(conn)
        except Exception as exc:  # noqa: BLE001 - handed back to the caller
            if fails_batch(self.dialect, exc):
                raise  # connection gone, disk full, busy: the whole batch fails
            self.dialect.undo_op(conn)
            return None, exc
        if not last:
            self.dialect.next_op(conn)
        return value, None

    def stop(self) -> None:
        with self._gate:
            if self._stopping:
                return
            self._stopping = True
            self.jobs.put(None)
        if self.is_alive():
            self.join(timeout=30)
        else:
            self.dialect.close()


class DbTx:
    """`WriteTx` over a DB-API connection of the writer (storage.base.WriteTx). `sql` turns
    portable `?` SQL into the backend's; `value` turns a backend's values into plain Python."""

    def __init__(
        self,
        conn: Any,
        clock: Callable[[], float],
        sql: Callable[[str], str],
        value: Callable[[Any], Any],
    ) -> None:
        self._conn = conn
        self._clock = clock
        self._sql = sql
        self._value = value
        self.open = True

    def _cursor(self) -> Any:
        if not self.open:
            raise RuntimeError("this transaction is over (use tx only inside its work)")
        return self._conn.cursor()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self._cursor()
        cur.execute(self._sql(sql), tuple(params))
        return int(cur.rowcount)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._cursor().executemany(self._sql(sql), [tuple(r) for r in rows])

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self._cursor()
        cur.execute(self._sql(sql), tuple(params))
        names = [d[0] for d in cur.description or ()]
        value = self._value
        return [{n: value(v) for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]

    def log(
        self,
        entity: str,
        entity_id: str,
        action: str,
        body: dict[str, Any],
        *,
        actor: str | None,
        reason: str | None = None,
    ) -> int:
        if entity == "report":
            raise ValueError("reports are logged by create_report/modify_report")
        cur = self._cursor()
        params = (entity, entity_id, self._clock(), actor, action, reason, dumps(body))
        cur.execute(self._sql(LOG_CHANGE), params)
        row = cur.fetchone()
        cur.fetchall()  # SQLite finishes a RETURNING statement only once it is read to the end
        return int(row[0])

    def now(self) -> float:
        return self._clock()


def transaction_op(
    work: Callable[[DbTx], T],
    clock: Callable[[], float],
    sql: Callable[[str], str] = str,
    value: Callable[[Any], Any] = lambda v: v,
) -> Op:
    """The writer op that runs `work` in a DbTx (Store.transact on either backend)."""

    def op(conn: Any) -> T:
        tx = DbTx(conn, clock, sql, value)
        try:
            return work(tx)
        finally:
            tx.open = False

    return op
