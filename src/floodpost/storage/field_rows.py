"""`Store.report_field_rows`: chosen fields of many reports, picked out by the database.

For bulk exports (issue 14 §2): decoding each stored report's whole JSON (about 40 keys) in
Python was the largest single cost of an export; here SQLite's `json_extract` with several paths
(or PostgreSQL's `jsonb ->` in `json_build_array`) returns only the fields asked for, as one
short JSON array per report, and Python decodes that (measured in bench/README.md). Same filters,
order and cursor as `list_reports`. Shared by both backends; each passes its dialect.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from floodpost.storage.reads import list_reports_query

_FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")


def report_field_rows(
    rows_of: Callable[[str, Sequence[Any]], Sequence[Sequence[Any]]],
    dialect: str,
    fields: Sequence[str],
    *,
    kind: str | None = None,
    township: str | None = None,
    since_ts: float | None = None,
    after_seq: int = 0,
    limit: int = 10000,
) -> tuple[list[list[Any]], int | None]:
    if len(fields) < 2 or not all(_FIELD.match(f) for f in fields):
        # json_extract with one path answers the bare value, not an array; names go into SQL.
        raise ValueError("fields: two or more top-level keys, lower-case names")
    page, params = list_reports_query(
        kind=kind,
        township=township,
        since_ts=since_ts,
        reporter=None,
        after_seq=after_seq,
        limit=limit,
    )
    if dialect == "sqlite":
        paths = ", ".join(f"'$.{f}'" for f in fields)
        sql = f"SELECT seq, json_extract(body, {paths}) FROM ({page}) AS page ORDER BY seq"
    else:  # PostgreSQL: body is TEXT, parsed once per row in the inner query
        picks = ", ".join(f"b -> '{f}'" for f in fields)
        sql = (
            f"SELECT seq, json_build_array({picks})::text FROM "
            f"(SELECT seq, body::jsonb AS b FROM ({page}) AS page) AS t ORDER BY seq"
        )
    rows = rows_of(sql, params)
    more = len(rows) > limit
    rows = rows[:limit]
    return [json.loads(r[1]) for r in rows], (int(rows[-1][0]) if more and rows else None)
