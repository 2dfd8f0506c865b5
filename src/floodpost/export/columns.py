"""Which fields an exported report row has, and how a text cell is made safe for spreadsheets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from floodpost.storage.base import Store

# (field, type): the type fixes the column type of XLSX and GeoPackage whatever the first page.
REPORT_FIELDS: tuple[tuple[str, str], ...] = (
    ("id", "str"),
    ("kind", "str"),
    ("subtype", "str"),
    ("status", "str"),
    ("occurred_at", "str"),
    ("received_at", "str"),
    ("updated_at", "str"),
    ("lon", "float"),
    ("lat", "float"),
    ("accuracy_m", "float"),
    ("township_code", "str"),
    ("village_code", "str"),
    ("zone_id", "str"),
    ("responsible", "str"),
    ("outside_county", "bool"),
    ("people", "int"),
    ("shelter_id", "str"),
    ("team", "str"),
    ("reservoir_id", "str"),
    ("reservoir_status", "str"),
    ("urgency", "str"),
    ("state", "str"),
    ("assignee", "str"),
    ("resolution", "str"),
    ("rescued", "int"),
    ("resolved_at", "str"),
    ("help_request_id", "str"),
    ("reporter", "str"),
    ("version", "int"),
    ("note", "str"),
)
FIELD_NAMES = tuple(name for name, _ in REPORT_FIELDS)

# Characters a spreadsheet reads as the start of a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 cannot hold these control characters; openpyxl refuses them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

PAGE = 5000


def neutralise(value: Any) -> Any:
    """A text cell starting like a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def xlsx_safe(value: Any) -> Any:
    value = neutralise(value)
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("\ufffd", value)
    return value


def report_values(report: dict[str, Any]) -> list[Any]:
    """The report's exported fields, typed (None where the report has no value)."""
    out: list[Any] = []
    for name, kind in REPORT_FIELDS:
        v = report.get(name)
        if v is not None:
            if kind == "int":
                v = int(v)
            elif kind == "float":
                v = float(v)
            elif kind == "bool":
                v = bool(v)
            elif not isinstance(v, str):
                v = str(v)
        out.append(v)
    return out


def iter_reports(store: Store, page: int = PAGE) -> Iterator[list[dict[str, Any]]]:
    """Every stored report (active and retracted), a page at a time, in the order received."""
    cursor = 0
    while True:
        reports, nxt = store.list_reports(after_seq=cursor, limit=page)
        if reports:
            yield reports
        if nxt is None:
            return
        cursor = nxt
