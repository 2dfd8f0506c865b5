"""What the SQLite and PostgreSQL stores share: SQL text, row mapping and the write logic.

SQL here uses `?` placeholders (SQLite's style); the PostgreSQL store translates each statement
once at import with `to_psycopg_sql`. Only what is truly dialect-specific stays in the backends:
connections, transactions and group commit, the create-with-conflict-check statement, COPY.

The audit log stores each create's snapshot once: a 'create' row in `changes` has body NULL while
the report has never changed since, because its snapshot is then exactly `reports.body` (simulate
and replay write a million creates; the copy doubled the file). Reads join it back
(`CHANGE_SELECT`). Before a report is first modified, `MATERIALISE` copies the current body — still
the create snapshot — into that row, in the same transaction, so the create row keeps the original
after the report moves on. Every other change row always has its body.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any

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
CHANGE_SELECT = (
    "SELECT c.seq, c.report_id, c.at_ts, c.actor, c.action, c.reason, COALESCE(c.body, r.body) "
    "FROM changes AS c LEFT JOIN reports AS r ON c.body IS NULL AND r.id = c.report_id"
)
CHANGES_AFTER = f"{CHANGE_SELECT} WHERE c.seq > ? ORDER BY c.seq LIMIT ?"
AUDIT_LOG = f"{CHANGE_SELECT} WHERE c.report_id = ? ORDER BY c.seq"
LAST_CHANGE_SEQ = "SELECT MAX(seq) FROM changes"
GET_BODY = "SELECT body FROM reports WHERE id = ?"
SELECT_USER = (
    "SELECT name, role, password_hash, created_ts, disabled, sessions_after_ts "
    "FROM users WHERE name = ?"
)
INSERT_USER = (
    "INSERT INTO users (name, role, password_hash, created_ts, disabled) VALUES (?, ?, ?, ?, ?)"
)
GET_META = "SELECT value FROM meta WHERE key = ?"
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
    report: dict[str, Any], content_hash: str, actor: str | None
) -> list[Statement]:
    """A new report, its audit row (snapshot left in reports.body) and its aggregate."""
    at = report.get("received_ts") or time.time()
    out: list[Statement] = [
        ("insert_report", report_row(report, content_hash)),
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
) -> tuple[dict[str, Any], list[tuple[dict[str, Any], str]], list[Statement]]:
    """modify_report's logic, given the stored (content_hash, body) read inside the write
    transaction: (new report, linked reports to create, statements to run in that order)."""
    from floodpost.errors import NotFound
    from floodpost.reports.model import iso_utc

    if stored is None:
        raise NotFound("no report with this id", field="id")
    content_hash, old_body = stored
    old = json.loads(old_body)
    result = modify(dict(old))
    new, extra = result if isinstance(result, tuple) else (result, [])
    now = time.time()
    new["version"] = int(old.get("version", 1)) + 1
    new["updated_ts"] = now
    new["updated_at"] = iso_utc(now)
    statements: list[Statement] = [("materialise", (old_body, report_id))]
    statements += agg_statements(old, -1)
    statements += agg_statements(new, +1)
    statements.append(("update_report", (*report_row(new, content_hash), report_id)))
    statements.append(("insert_change", (report_id, now, actor, action, reason, dumps(new))))
    return new, extra, statements


def bulk_rows(chunk: Sequence[tuple[dict[str, Any], str]], actor: str | None) -> BulkRows:
    """(reports rows, changes rows, agg upsert rows) for many new reports at once; the audit rows
    leave their snapshot in reports.body, and the aggregates are summed per key first."""
    columns = REPORT_COLUMNS
    rows = []
    changes = []
    sums: dict[tuple[str, ...], list[int]] = {}
    for report, chash in chunk:
        get = report.get
        rows.append((*map(get, columns), chash, dumps(report)))
        changes.append((report["id"], get("received_ts"), actor, "create", None, None))
        delta = agg_delta(report, +1)
        if delta is not None:
            acc = sums.get(delta[0])
            if acc is None:
                sums[delta[0]] = [delta[1], delta[2]]
            else:
                acc[0] += delta[1]
                acc[1] += delta[2]
    return rows, changes, [(*k, v[0], v[1]) for k, v in sums.items()]


BulkRows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def pipelined_bulk_load(
    reports: Iterable[tuple[dict[str, Any], str]],
    actor: str | None,
    size: int,
    submit: Callable[[BulkRows], Future[int]],
) -> int:
    """Prepare chunk k+1 (JSON bodies, rows, summed aggregates) in the calling thread while the
    writer inserts chunk k: the Python work and the database work overlap instead of taking
    turns. Each chunk is one transaction; returns once every chunk is durable, and after a
    failure, once the chunk already handed to the writer has finished."""
    total = 0
    pending: Future[int] | None = None
    try:
        for chunk in batches(reports, size):
            prepared = bulk_rows(chunk, actor)
            if pending is not None:
                total += pending.result()
            pending = submit(prepared)
    except BaseException:
        if pending is not None:
            pending.exception()  # wait; the first error is the one to report
        raise
    if pending is not None:
        total += pending.result()
    return total


def list_reports_query(
    *,
    kind: str | None,
    township: str | None,
    since_ts: float | None,
    reporter: str | None,
    after_seq: int,
    limit: int,
) -> tuple[str, list[Any]]:
    """SELECT seq, body of one page (one row more than `limit`, to know whether more follow)."""
    where = ["seq > ?"]
    params: list[Any] = [after_seq]
    for column, value in (("kind", kind), ("township_code", township), ("reporter", reporter)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if since_ts is not None:
        where.append("updated_ts >= ?")
        params.append(since_ts)
    params.append(limit + 1)
    return f"SELECT seq, body FROM reports WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?", params


def reports_page(
    rows: Sequence[Sequence[Any]], limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    more = len(rows) > limit
    rows = rows[:limit]
    return [json.loads(r[1]) for r in rows], (rows[-1][0] if more and rows else None)


class SharedReads:
    """The read methods of the Store interface, the same on both backends; a backend provides
    `_rows(sql, params)` running `?`-style SQL on a reader connection."""

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    def get_report(self, report_id: str) -> dict[str, Any] | None:
        rows = self._rows(GET_BODY, (report_id,))
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
        sql, params = list_reports_query(
            kind=kind,
            township=township,
            since_ts=since_ts,
            reporter=reporter,
            after_seq=after_seq,
            limit=limit,
        )
        return reports_page(self._rows(sql, params), limit)

    def changes_after(self, seq: int, limit: int = 1000) -> list[Change]:
        return [change_of(r) for r in self._rows(CHANGES_AFTER, (seq, limit))]

    def last_change_seq(self) -> int:
        rows = self._rows(LAST_CHANGE_SEQ)
        return int(rows[0][0] or 0)

    def audit_log(self, report_id: str) -> list[Change]:
        return [change_of(r) for r in self._rows(AUDIT_LOG, (report_id,))]

    def get_user(self, name: str) -> User | None:
        rows = self._rows(SELECT_USER, (name,))
        return user_of(rows[0] if rows else None)

    def get_meta(self, key: str) -> str | None:
        rows = self._rows(GET_META, (key,))
        return rows[0][0] if rows else None


def user_params(user: User) -> tuple[Any, ...]:
    return (user.name, user.role, user.password_hash, user.created_ts, int(user.disabled))


def user_of(row: Sequence[Any] | None) -> User | None:
    return User(row[0], row[1], row[2], row[3], bool(row[4]), float(row[5])) if row else None


def change_of(row: Sequence[Any]) -> Change:
    return Change(
        seq=row[0],
        report_id=row[1],
        at_ts=row[2],
        actor=row[3],
        action=row[4],
        reason=row[5],
        report=json.loads(row[6]),
    )
