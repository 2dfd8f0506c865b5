"""Which fields an exported report row has, and how a text cell is made safe for spreadsheets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from floodpost.errors import InvalidReport
from floodpost.reports.intake import parse_since
from floodpost.reports.model import KINDS
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
_FORMULA_SET = frozenset(_FORMULA_START)
# Columns whose stored value is not text; everything else is a str (or None) in a stored report.
_TYPED = tuple((i, kind) for i, (_, kind) in enumerate(REPORT_FIELDS) if kind != "str")
_CAST = {"int": int, "float": float, "bool": bool}


@dataclass(frozen=True)
class ExportFilter:
    """The report list's filters (GET /api/reports): changed since, kind, township code."""

    since_ts: float | None = None
    kind: str | None = None
    township: str | None = None

    @classmethod
    def parse(
        cls, since: str | None = None, kind: str | None = None, township: str | None = None
    ) -> ExportFilter:
        """From query parameters; InvalidReport names the field, as the report list does."""
        if kind is not None and kind not in KINDS:
            raise InvalidReport(f"kind must be one of {', '.join(KINDS)}", field="kind")
        return cls(since_ts=parse_since(since), kind=kind or None, township=township or None)


ALL = ExportFilter()


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


def typed(values: list[Any]) -> list[Any]:
    """The exported fields' values (in FIELD_NAMES order) with the column types: a type check
    per non-text column instead of a conversion per column, a third of the time on a long log.
    Text columns are str in stored reports; each writer turns anything else into text itself."""
    for i, kind in _TYPED:
        v = values[i]
        if v is not None and type(v).__name__ != kind:
            values[i] = _CAST[kind](v)
    return values


def text_row(values: list[Any]) -> list[Any]:
    """A CSV row: formula-like text neutralised, the rest as stored (the csv module writes None
    as an empty cell and a number as its repr, which is what report_values would give for a
    report the intake model stored)."""
    return ["'" + v if v.__class__ is str and v[:1] in _FORMULA_SET else v for v in values]


def iter_rows(
    store: Store, where: ExportFilter = ALL, page: int | None = None
) -> Iterator[list[list[Any]]]:
    """Every stored report matching the filter as its exported values (FIELD_NAMES order), a
    page at a time, in the order received — picked out by the database, which is cheaper than
    decoding whole reports (Store.report_field_rows)."""
    cursor = 0
    while True:
        rows, nxt = store.report_field_rows(
            FIELD_NAMES,
            kind=where.kind,
            township=where.township,
            since_ts=where.since_ts,
            after_seq=cursor,
            limit=page or PAGE,
        )
        if rows:
            yield rows
        if nxt is None:
            return
        cursor = nxt
