"""Bulk loads (replay, simulate): many new reports prepared in the calling thread while the
store's writer inserts the previous chunk. Shared by both backends; the insert itself (executemany
on SQLite, COPY on PostgreSQL) is the backend's."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any

from floodpost.storage.base import REPORT_COLUMNS, agg_delta, dumps


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
