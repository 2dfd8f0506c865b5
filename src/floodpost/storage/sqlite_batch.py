"""SQLite: a group commit of report creates as one statement (the writer's `run_batch`).

A TEMP view `incoming` takes one row per new report — its reports row, its audit row's time and
actor, its aggregate key and delta — and an INSTEAD OF trigger writes the three tables from it.
So a whole batch is one multi-row INSERT, and in autocommit that statement is also the
transaction: SQLite takes the write lock, writes, commits and fsyncs inside one call that runs
without the GIL. Statement by statement, every step gave the GIL to the event loop and waited
to get it back while the write lock was held — with `--workers 2` the other process's writer
waited meanwhile (bench/README.md, ingest).

Batches are padded to a power of two with rows the trigger skips (`r_id IS NULL`), so a handful
of statement texts stay prepared in the connection's cache whatever the batch size.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from floodpost.storage.base import AGG_KEYS, REPORT_COLUMNS, agg_delta
from floodpost.storage.common import CHANGE_FIELDS, REPORT_FIELDS
from floodpost.storage.creates import CreateOp

_REPORT = [f"r_{c}" for c in (*REPORT_COLUMNS, "content_hash", "body")]
_AGG = [f"a_{k}" for k in AGG_KEYS]
COLUMNS = [*_REPORT, "at_ts", "actor", *_AGG, "a_reports", "a_people", "counted"]


def _new(names: Sequence[str]) -> str:
    return ", ".join(f"NEW.{n}" for n in names)


SCHEMA = (
    f"CREATE TEMP VIEW IF NOT EXISTS incoming AS SELECT "
    f"{', '.join(f'NULL AS {c}' for c in COLUMNS)}",
    f"""CREATE TEMP TRIGGER IF NOT EXISTS incoming_write INSTEAD OF INSERT ON incoming
    WHEN NEW.r_id IS NOT NULL BEGIN
        INSERT INTO reports ({REPORT_FIELDS}) VALUES ({_new(_REPORT)});
        INSERT INTO changes ({CHANGE_FIELDS})
            VALUES (NEW.r_id, NEW.at_ts, NEW.actor, 'create', NULL, NULL);
        INSERT INTO agg ({", ".join(AGG_KEYS)}, reports, people)
            SELECT {_new(_AGG)}, NEW.a_reports, NEW.a_people WHERE NEW.counted
            ON CONFLICT ({", ".join(AGG_KEYS)}) DO UPDATE SET
                reports = agg.reports + excluded.reports, people = agg.people + excluded.people;
    END""",
)

# Up to the writer's largest batch (common.MAX_BATCH): 512 rows of 45 values stay below
# SQLite's 32,766 bound parameters.
SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_ROW = f"({', '.join('?' * len(COLUMNS))})"
_BLANK = (None,) * len(COLUMNS)
_NO_KEY = (None,) * len(AGG_KEYS)


def install(conn: sqlite3.Connection) -> None:
    """Create the TEMP view and trigger on the writer's connection (nothing in the file)."""
    for sql in SCHEMA:
        conn.execute(sql)


def padded(n: int) -> int:
    for size in SIZES:
        if size >= n:
            return size
    raise ValueError(f"a batch of {n} is larger than {SIZES[-1]}")


def lookup(ids: Sequence[str]) -> tuple[str, list[Any]]:
    """The stored (id, content_hash, body) of `ids`: SQL and parameters."""
    size = padded(len(ids))
    marks = ", ".join("?" * size)
    sql = f"SELECT id, content_hash, body FROM reports WHERE id IN ({marks})"
    return sql, [*ids, *([None] * (size - len(ids)))]


def insert(fresh: Sequence[tuple[CreateOp, tuple[Any, ...]]]) -> tuple[str, list[Any]]:
    """The one INSERT writing `fresh` (op, reports row): SQL and parameters."""
    size = padded(len(fresh))
    params: list[Any] = []
    for op, row in fresh:
        report = op.report
        delta = agg_delta(report, +1)
        key, n, people = delta if delta is not None else (_NO_KEY, 0, 0)
        at = report.get("received_ts") or op.clock()
        params += (*row, at, op.actor, *key, n, people, delta is not None)
    for _ in range(size - len(fresh)):
        params += _BLANK
    return f"INSERT INTO incoming VALUES {', '.join([_ROW] * size)}", params
