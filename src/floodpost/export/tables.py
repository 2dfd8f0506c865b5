"""The statistics tables (GET /api/stats/by-*) as CSV downloads, with the HXL row on request.

Same conventions as the report export: UTF-8 with a BOM, RFC 4180, CRLF, text neutralised.
The tables are small (one row per township, zone, village or day), so they are made whole.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from floodpost.errors import InvalidInput
from floodpost.export.columns import neutralise
from floodpost.export.hxl import STATS_TAGS, hashtags, wants_hxl
from floodpost.stats.breakdowns import METRICS

TABLE_FORMATS = ("json", "csv")


def table_columns(rows: list[dict[str, Any]]) -> list[str]:
    """Every key of the rows, in the order they first appear (by-day rows carry `date`, or
    `hour` for one day; a table without rows still has its metric columns)."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen) or ["date", *METRICS]


def table_csv(rows: list[dict[str, Any]], hxl: bool = False) -> bytes:
    columns = table_columns(rows)
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    if hxl:
        writer.writerow(hashtags(columns, STATS_TAGS))
    for row in rows:
        writer.writerow(["" if (v := row.get(c)) is None else neutralise(v) for c in columns])
    return buf.getvalue().encode("utf-8")


def table_download(result: dict[str, Any], fmt: str, hxl: str | None) -> bytes | None:
    """None for `format=json` (the answer is the table itself), CSV bytes for `format=csv`;
    InvalidInput names `format` or `hxl` otherwise."""
    fmt = fmt.lower()
    if fmt not in TABLE_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(TABLE_FORMATS)}", field="format")
    tagged = wants_hxl(hxl, fmt)
    if fmt == "json":
        return None
    return table_csv(result["rows"], tagged)
