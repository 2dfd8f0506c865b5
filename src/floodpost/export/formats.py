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
from floodpost.export.columns import FIELD_NAMES, iter_reports, neutralise, report_values, xlsx_safe
from floodpost.stats.breakdowns import METRICS
from floodpost.stats.service import ReviewStats

CHUNK_BYTES = 256 * 1024
XLSX_MAX_DATA_ROWS = 1_000_000


@dataclass(frozen=True)
class Format:
    extension: str
    media_type: str
    write: Callable[[ReviewStats], Iterator[bytes]]


def csv_stream(stats: ReviewStats) -> Iterator[bytes]:
    """UTF-8 with a BOM (so Excel reads Chinese right), RFC 4180 quoting, CRLF line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow(FIELD_NAMES)
    for page in iter_reports(stats.store):
        for report in page:
            writer.writerow(["" if v is None else neutralise(v) for v in report_values(report)])
        yield buf.getvalue().encode("utf-8")
        buf.seek(0)
        buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def geojson_stream(stats: ReviewStats) -> Iterator[bytes]:
    """A FeatureCollection of every report (EPSG:4326; null geometry without coordinates)."""
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for page in iter_reports(stats.store):
        parts = []
        for report in page:
            props = dict(zip(FIELD_NAMES, report_values(report), strict=True))
            lon, lat = props["lon"], props["lat"]
            geometry = {"type": "Point", "coordinates": [lon, lat]} if lon is not None else None
            feature = {
                "type": "Feature",
                "id": props["id"],
                "geometry": geometry,
                "properties": props,
            }
            parts.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
        chunk = ",".join(parts)
        yield (chunk if first else "," + chunk).encode("utf-8")
        first = False
    yield b"]}"


def xlsx_stream(stats: ReviewStats) -> Iterator[bytes]:
    """Sheets summary, by township, by zone, by day and reports (openpyxl write-only mode keeps
    rows on disk, not in memory)."""
    from openpyxl import Workbook

    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="floodpost-export-")
    os.close(fd)
    try:
        wb = Workbook(write_only=True)
        summary = wb.create_sheet("summary")
        for key, value in _flat(stats.summary()):
            summary.append([key, xlsx_safe(value)])
        for title, level, key in (
            ("by township", "township", "township_code"),
            ("by zone", "zone", "zone_id"),
        ):
            sheet = wb.create_sheet(title)
            cols = [key, "name", "population_at_risk", *METRICS, "evacuated_pct"]
            sheet.append(cols)
            for row in stats.by_area(level)["rows"]:
                sheet.append([xlsx_safe(row.get(c)) for c in cols])
        day = wb.create_sheet("by day")
        day.append(["date", *METRICS])
        for row in stats.by_day()["rows"]:
            day.append([row["date"], *(row[m] for m in METRICS)])
        reports = wb.create_sheet("reports")
        reports.append(list(FIELD_NAMES))
        rows, part = 0, 1
        for page in iter_reports(stats.store):
            for report in page:
                if rows == XLSX_MAX_DATA_ROWS:  # a sheet holds 1,048,576 rows: continue on another
                    part += 1
                    reports = wb.create_sheet(f"reports ({part})")
                    reports.append(list(FIELD_NAMES))
                    rows = 0
                reports.append([xlsx_safe(v) for v in report_values(report)])
                rows += 1
        wb.save(path)
        yield from stream_file(path)
    finally:
        _remove(path)


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


def gpkg_stream(stats: ReviewStats) -> Iterator[bytes]:
    from floodpost.export.gpkg import write_gpkg

    tmpdir = tempfile.mkdtemp(prefix="floodpost-export-")
    path = os.path.join(tmpdir, "floodpost.gpkg")
    try:
        write_gpkg(stats, path)
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


def export_stream(stats: ReviewStats, fmt: str) -> tuple[Format, Iterator[bytes]]:
    """The format's description and its byte stream; InvalidInput for an unknown format."""
    spec = FORMATS.get(fmt)
    if spec is None:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", field="format")
    return spec, spec.write(stats)
