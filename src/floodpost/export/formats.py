"""The four export formats as generators of bytes (see the package docstring)."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from floodpost.errors import InvalidInput
from floodpost.export import xlsx
from floodpost.export.columns import (
    ALL,
    FIELD_NAMES,
    ExportFilter,
    iter_rows,
    neutralise,
    text_row,
    typed,
    xlsx_safe,
)
from floodpost.export.hxl import hashtags, wants_hxl
from floodpost.export.hxl_places import HXL_FIELDS, HXL_TAGS, hxl_extender
from floodpost.export.xlsx import StreamingWorkbook
from floodpost.stats.breakdowns import METRICS
from floodpost.stats.service import ReviewStats

CHUNK_BYTES = 256 * 1024
XLSX_MAX_DATA_ROWS = 1_000_000


@dataclass(frozen=True)
class Format:
    extension: str
    media_type: str
    write: Callable[[ReviewStats, ExportFilter, bool], Iterator[bytes]]


def csv_stream(stats: ReviewStats, where: ExportFilter = ALL, hxl: bool = False) -> Iterator[bytes]:
    """UTF-8 with a BOM (so Excel reads Chinese right), RFC 4180 quoting, CRLF line ends; with
    `hxl` the HXL hashtag row under the header and the columns partners join on after the
    report's own (hxl_places.HXL_FIELDS). A page of rows per chunk."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")
    if hxl:
        writer.writerow(FIELD_NAMES + HXL_FIELDS)
        writer.writerow(hashtags(FIELD_NAMES) + [HXL_TAGS[c] for c in HXL_FIELDS])
    else:
        writer.writerow(FIELD_NAMES)
    yield buf.getvalue().encode("utf-8")  # the header at once: the download starts now
    extend = hxl_extender(stats.catalogue) if hxl else None
    for page in iter_rows(stats.store, where):
        buf.seek(0)
        buf.truncate()
        # Names come from the county's files: neutralised like every other text cell.
        writer.writerows(map(text_row, map(extend, page) if extend is not None else page))
        yield buf.getvalue().encode("utf-8")


# One encoder, made once: json.dumps with keyword arguments builds a new one per call.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def geojson_stream(
    stats: ReviewStats, where: ExportFilter = ALL, hxl: bool = False
) -> Iterator[bytes]:
    """A FeatureCollection of every report (EPSG:4326; null geometry without coordinates)."""
    yield b'{"type":"FeatureCollection","features":['
    sep = ""
    for page in iter_rows(stats.store, where):
        parts = []
        for values in page:
            props = dict(zip(FIELD_NAMES, typed(values), strict=True))
            lon, lat = props["lon"], props["lat"]
            geometry = (
                f'{{"type":"Point","coordinates":[{_encode(lon)},{_encode(lat)}]}}'
                if lon is not None and lat is not None
                else "null"
            )
            parts.append(
                f'{{"type":"Feature","id":{_encode(props["id"])},"geometry":{geometry},'
                f'"properties":{_encode(props)}}}'
            )
        yield (sep + ",".join(parts)).encode("utf-8")
        sep = ","
    yield b"]}"


def xlsx_stream(
    stats: ReviewStats, where: ExportFilter = ALL, hxl: bool = False
) -> Iterator[bytes]:
    """Sheets summary, by township, by zone, by day and reports, streamed as the zip is written
    (export/xlsx.py); past XLSX_MAX_DATA_ROWS the reports continue on `reports (2)`, …"""
    book = StreamingWorkbook()
    yield book.start_sheet("summary")
    yield book.rows([key, xlsx_safe(value)] for key, value in _flat(stats.summary()))
    for title, level, key in (
        ("by township", "township", "township_code"),
        ("by zone", "zone", "zone_id"),
    ):
        cols = [key, "name", "population_at_risk", *METRICS, "evacuated_pct"]
        yield book.start_sheet(title)
        yield book.rows(
            [cols, *([neutralise(r.get(c)) for c in cols] for r in stats.by_area(level)["rows"])]
        )
    yield book.start_sheet("by day")
    yield book.rows(
        [
            ["date", *METRICS],
            *([r["date"], *(r[m] for m in METRICS)] for r in stats.by_day()["rows"]),
        ]
    )
    header = list(FIELD_NAMES)
    yield book.start_sheet("reports")
    yield book.rows([header])
    part, in_sheet = 1, 0
    for page in iter_rows(stats.store, where):
        rows = [[neutralise(v) for v in typed(values)] for values in page]
        while rows:
            # A sheet holds 1,048,576 rows, and its XML must stay below MAX_SHEET_BYTES (no
            # ZIP64 entries, for Excel): past either, the reports continue on the next sheet.
            if in_sheet == XLSX_MAX_DATA_ROWS or book.sheet_bytes > xlsx.MAX_SHEET_BYTES:
                part, in_sheet = part + 1, 0
                yield book.start_sheet(f"reports ({part})")
                yield book.rows([header])
            take, rows = (
                rows[: XLSX_MAX_DATA_ROWS - in_sheet],
                rows[XLSX_MAX_DATA_ROWS - in_sheet :],
            )
            in_sheet += len(take)
            yield book.rows(take)
    yield book.close()


def _flat(obj: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flat(value, name + ".")
        elif isinstance(value, list | tuple):
            yield name, json.dumps(value, ensure_ascii=False)
        else:
            yield name, value


def stream_file(path: str) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            yield chunk


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def gpkg_stream(
    stats: ReviewStats, where: ExportFilter = ALL, hxl: bool = False
) -> Iterator[bytes]:
    from floodpost.export.gpkg import write_gpkg

    tmpdir = tempfile.mkdtemp(prefix="floodpost-export-")
    path = os.path.join(tmpdir, "floodpost.gpkg")
    try:
        write_gpkg(stats, path, where)
        yield from stream_file(path)
    finally:
        for name in os.listdir(tmpdir):
            _remove(os.path.join(tmpdir, name))
        os.rmdir(tmpdir)


FORMATS: dict[str, Format] = {
    "csv": Format("csv", "text/csv; charset=utf-8", csv_stream),
    "xlsx": Format(
        "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx_stream
    ),
    "geojson": Format("geojson", "application/geo+json", geojson_stream),
    "gpkg": Format("gpkg", "application/geopackage+sqlite3", gpkg_stream),
}


def export_stream(
    stats: ReviewStats,
    fmt: str,
    *,
    since: str | None = None,
    kind: str | None = None,
    township: str | None = None,
    hxl: str | None = None,
) -> tuple[Format, Iterator[bytes]]:
    """The format's description and its byte stream, for the reports the filters of the report
    list select; InvalidInput naming the field for an unknown format or a bad filter. Checked
    here, before the first byte: a streamed answer cannot turn into a 422 later."""
    spec = FORMATS.get(fmt)
    if spec is None:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", field="format")
    where = ExportFilter.parse(since=since, kind=kind, township=township)
    return spec, _headers_first(spec.write(stats, where, wants_hxl(hxl, fmt)))


def _headers_first(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """An empty chunk before any work: the web layer sends the status line and headers with
    the first body message, so the download starts at once even for a GeoPackage, whose bytes
    all come after its build (an empty chunk sends no body bytes); then the non-empty chunks."""
    yield b""
    yield from (chunk for chunk in chunks if chunk)
