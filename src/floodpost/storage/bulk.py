"""Bulk loads (replay, simulate): many new reports turned into rows chunk by chunk (in the
calling thread, or in simulate's worker process) and handed to the store's writer, one
transaction per chunk. Shared by both backends; the insert itself (executemany on SQLite, COPY on
PostgreSQL) is the backend's."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any

from floodpost.storage.base import AGG_KEYS, REPORT_COLUMNS, BulkRows, hour_of, report_row

__all__ = [
    "BulkRows",
    "batches",
    "bulk_rows",
    "from_report_rows",
    "load_chunks",
    "prepared_chunks",
]


def bulk_rows(chunk: Sequence[tuple[dict[str, Any], str]], actor: str | None) -> BulkRows:
    """(reports rows, changes rows, agg upsert rows) for many new reports at once; the audit rows
    leave their snapshot in reports.body, and the aggregates are summed per key first."""
    return from_report_rows([report_row(report, chash) for report, chash in chunk], actor)


# Where a reports row (storage.base.report_row) holds what the audit row and aggregates need:
# agg_key's fields, spelled out (a generator over them took a tenth of simulate's build time).
_C = {name: i for i, name in enumerate(REPORT_COLUMNS)}
_ID, _RECEIVED, _OCCURRED, _STATUS, _PEOPLE = (
    _C[k] for k in ("id", "received_ts", "occurred_ts", "status", "people")
)
_KIND, _SUBTYPE, _TOWNSHIP, _ZONE, _VILLAGE, _SHELTER = (_C[k] for k in AGG_KEYS[1:])


def from_report_rows(rows: list[tuple[Any, ...]], actor: str | None) -> BulkRows:
    """bulk_rows of reports already in their row form (report_row's: columns, content hash,
    JSON body), as replay/simulate.py writes them directly. The aggregates are agg_delta's of
    the same reports (tests/test_bulk_load.py compares them with create_report's)."""
    changes = [(row[_ID], row[_RECEIVED], actor, "create", None, None) for row in rows]
    sums: dict[tuple[str, ...], list[int]] = {}
    for row in rows:
        if row[_STATUS] != "active":
            continue
        key = (hour_of(row[_OCCURRED]), row[_KIND], row[_SUBTYPE] or "", row[_TOWNSHIP] or "",
               row[_ZONE] or "", row[_VILLAGE] or "", row[_SHELTER] or "")  # fmt: skip
        acc = sums.get(key)
        people = int(row[_PEOPLE] or 0)
        if acc is None:
            sums[key] = [1, people]
        else:
            acc[0] += 1
            acc[1] += people
    return rows, changes, [(*k, v[0], v[1]) for k, v in sums.items()]


def batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def prepared_chunks(
    reports: Iterable[tuple[dict[str, Any], str]], actor: str | None, size: int
) -> Iterator[BulkRows]:
    """The reports as bulk_rows chunks of `size` (one transaction each), prepared lazily."""
    for chunk in batches(reports, size):
        yield bulk_rows(chunk, actor)


def load_chunks(
    chunks: Iterable[BulkRows], submit: Callable[[BulkRows], Future[int]], *, overlap: bool
) -> int:
    """Hand each prepared chunk to the writer (one transaction each); returns once every chunk
    is durable, and after a failure, once the chunk already handed to the writer has finished.

    overlap=True takes the next chunk from `chunks` while the writer inserts the previous one.
    That pays on PostgreSQL, whose server does the work in its own process. SQLite's inserts
    run in this process and take the GIL back for every row: a preparing thread beside them
    makes each row wait for the interpreter's switch interval, and the load got slower than
    taking turns (200,000 events: 12.9 s overlapped, 9.2 s in turns — bench/bench_simulate.py).
    A source that prepares its chunks in another process (replay/simulate.py) overlaps anyway."""
    total = 0
    pending: Future[int] | None = None
    try:
        for prepared in chunks:
            if pending is not None:
                total += pending.result()
            pending = submit(prepared)
            if not overlap:
                total += pending.result()
                pending = None
    except BaseException:
        if pending is not None:
            pending.exception()  # wait; the first error is the one to report
        raise
    if pending is not None:
        total += pending.result()
    return total
