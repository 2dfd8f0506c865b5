"""Report creates as writer ops, and a group commit's creates planned as a whole.

`create_report` hands the group-commit writer (storage.common.GroupWriter) a `CreateOp`. When a
batch holds nothing else, the backend's dialect writes it whole (`run_batch`): PostgreSQL in one
pipelined round trip, SQLite in a few multi-row statements planned here. Otherwise, or when a
statement of the whole batch fails, each op runs alone under its savepoint (`op(conn)`).

Either way a create answers the same: (report, True) when it was written; (stored report,
False) for a resend — the same id and content hash, whether stored before or earlier in the
same batch; `Conflict` for a different report under an id already taken.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from floodpost.errors import Conflict
from floodpost.storage.base import agg_delta, report_row

Created = tuple[dict[str, Any], bool]


class CreateOp:
    """create_report's writer op. Each backend's subclass is callable on a connection (the op
    alone); the fields let its dialect write a batch of them whole."""

    def __init__(
        self,
        report: dict[str, Any],
        content_hash: str,
        actor: str | None,
        clock: Callable[[], float],
        body: str | None = None,  # dumps(report), if the caller encoded it already
    ) -> None:
        self.report, self.content_hash, self.actor, self.clock = report, content_hash, actor, clock
        self.body = body

    def __call__(self, conn: Any) -> Created:
        raise NotImplementedError


def resent(stored_hash: str, stored_body: str, content_hash: str) -> Created:
    """The answer to a create whose id is already stored: a resend, or a Conflict."""
    if stored_hash == content_hash:
        return json.loads(stored_body), False
    raise Conflict("a different report with this id already exists", field="id", code="id_conflict")


@dataclass
class Plan:
    """What a batch of creates writes, and each op's answer (value, error) in batch order."""

    outcomes: list[tuple[Any, BaseException | None]] = field(default_factory=list)
    reports: list[tuple[Any, ...]] = field(default_factory=list)  # INSERT_REPORT rows
    changes: list[tuple[Any, ...]] = field(default_factory=list)  # INSERT_CHANGE rows
    aggs: list[tuple[Any, ...]] = field(default_factory=list)  # UPSERT_AGG rows, one per key


def plan(ops: Sequence[CreateOp], stored: dict[str, tuple[str, str]]) -> Plan:
    """Plan `ops` given `stored`: id -> (content_hash, body) of the batch's ids already in the
    store. The rows are those the ops would write one by one (common.create_statements), with
    the aggregate deltas of one key summed into one row."""
    seen = dict(stored)
    out = Plan()
    sums: dict[tuple[str, ...], tuple[int, int]] = {}
    for op in ops:
        report = op.report
        prior = seen.get(report["id"])
        if prior is not None:
            try:
                out.outcomes.append((resent(*prior, op.content_hash), None))
            except Conflict as exc:
                out.outcomes.append((None, exc))
            continue
        row = report_row(report, op.content_hash, op.body)
        seen[report["id"]] = (op.content_hash, row[-1])  # a resend later in the batch finds it
        out.reports.append(row)
        at = report.get("received_ts") or op.clock()
        out.changes.append((report["id"], at, op.actor, "create", None, None))
        delta = agg_delta(report, +1)
        if delta is not None:
            key, n, people = delta
            had = sums.get(key, (0, 0))
            sums[key] = (had[0] + n, had[1] + people)
        out.outcomes.append(((report, True), None))
    out.aggs = [(*key, n, people) for key, (n, people) in sums.items()]
    return out
