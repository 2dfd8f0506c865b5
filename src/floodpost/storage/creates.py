"""Report creates as writer ops, and a group commit's creates planned as a whole.

`create_report` hands the group-commit writer (storage.common.GroupWriter) a `CreateOp`. When a
batch holds nothing else, the backend's dialect writes it whole (`run_batch`): PostgreSQL in one
pipelined round trip, SQLite in one INSERT (storage/sqlite_batch.py) of the rows planned here. Otherwise, or when a
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
from floodpost.storage.base import report_row

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
    """Each op's answer (value, error) in batch order, and the new reports to write: each op
    with its reports row (report_row)."""

    outcomes: list[tuple[Any, BaseException | None]] = field(default_factory=list)
    fresh: list[tuple[CreateOp, tuple[Any, ...]]] = field(default_factory=list)


def plan(ops: Sequence[CreateOp], stored: dict[str, tuple[str, str]]) -> Plan:
    """Plan `ops` given `stored`: id -> (content_hash, body) of the batch's ids already in the
    store. A new report's row is the one it would write alone (common.create_statements)."""
    seen = dict(stored)
    out = Plan()
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
        out.fresh.append((op, row))
        out.outcomes.append(((report, True), None))
    return out
