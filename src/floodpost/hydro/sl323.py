"""CSV exports of the SL 323 real-time tables → readings (`floodpost readings import FILE`).

Recognised by the header (column names, any case, any order, extra columns ignored):

- ST_PPTN_R 降水量表: STCD, TM, DRP (mm), INTV (**hours**: 1.00 = an hour, 0.05 = 5 minutes)
- ST_RSVR_R 水库水情表: STCD, TM, RZ (m) [, INQ, OTQ (m³/s), W (**10⁶ m³**)]
- ST_RIVER_R 河道水情表: STCD, TM, Z (m) [, Q (m³/s)]

TM is the end of the period in local time (Asia/Shanghai) without an offset, as SL 323 stores
it. A row whose measured value is empty is skipped (no measurement is not 0). A bad row stops
the file: the error names the line and the column and nothing of the file is kept.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from floodpost.errors import Conflict, InvalidInput
from floodpost.hydro.readings import Problem, Reading, StationInfo, check_reading

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
TABLES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    # table: (required columns, column → reading field)
    "ST_PPTN_R": (("STCD", "TM", "DRP", "INTV"), {"DRP": "rain_mm", "INTV": "interval_h"}),
    "ST_RSVR_R": (
        ("STCD", "TM", "RZ"),
        {"RZ": "level_m", "INQ": "inflow_m3s", "OTQ": "outflow_m3s", "W": "storage_1e6_m3"},
    ),
    "ST_RIVER_R": (("STCD", "TM", "Z"), {"Z": "level_m", "Q": "flow_m3s"}),
}
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


@dataclass(frozen=True)
class Parsed:
    table: str
    readings: list[Reading]
    skipped: int


def table_of(header: list[str]) -> str | None:
    cols = {h.strip().upper() for h in header}
    for table, (required, _) in TABLES.items():
        if set(required) <= cols:
            return table
    return None


def local_tm(text: str) -> str:
    """SL 323 TM (local, no offset) → ISO-8601 with the +08:00 offset."""
    raw = text.strip()
    if raw.endswith(".0"):  # database tools print DATETIME as "2017-06-24 08:00:00.0"
        raw = raw[:-2]
    for fmt in _TIME_FORMATS:
        try:
            dt = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        return dt.replace(tzinfo=LOCAL_TZ).isoformat()
    raise Problem("TM", f"is not a local time like 2017-06-24 08:00:00: {text!r}")


def decode(data: bytes) -> str:
    # County exports are UTF-8 (often with a BOM) or GBK from older Windows tools.
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("the file is neither UTF-8 nor GBK text", field="file")


def _number(text: str, column: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise Problem(column, f"must be a number, got {text!r}") from None


def parse_csv(
    text: str, stations: Mapping[str, StationInfo], now: float, *, name: str = "file"
) -> Parsed:
    """All readings of one export, or InvalidInput naming line and column (nothing kept)."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header:
        raise InvalidInput(f"{name}: is empty", field="file")
    table = table_of(header)
    if table is None:
        raise InvalidInput(
            f"{name}: line 1: header {header!r} is not an SL 323 export "
            "(ST_PPTN_R STCD,TM,DRP,INTV / ST_RSVR_R STCD,TM,RZ / ST_RIVER_R STCD,TM,Z)",
            field="header",
            line=1,
        )
    required, mapping = TABLES[table]
    index = {h.strip().upper(): i for i, h in enumerate(header)}
    value_col = required[2]
    readings: list[Reading] = []
    skipped = 0
    seen: dict[tuple[str, float, str], tuple[int, Reading]] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {col: (row[i].strip() if i < len(row) else "") for col, i in index.items()}
        if not cells.get(value_col):
            skipped += 1
            continue
        column = "STCD"
        try:
            item: dict[str, Any] = {"station": cells["STCD"]}
            column = "TM"
            item["time"] = local_tm(cells["TM"])
            for col, field in mapping.items():
                if cells.get(col):
                    column = col
                    item[field] = _number(cells[col], col)
            reading = check_reading(item, stations, now)
        except Problem as exc:
            col = _column_of(exc.field, mapping, column)
            raise InvalidInput(
                f"{name}: line {line}, column {col}: {exc}", field=col, line=line
            ) from None
        if reading.key in seen and seen[reading.key][1].values != reading.values:
            raise Conflict(
                f"{name}: line {line}: station {reading.station} at {cells['TM']} differs from "
                f"line {seen[reading.key][0]}",
                field="TM",
                line=line,
            )
        seen.setdefault(reading.key, (line, reading))
        readings.append(reading)
    return Parsed(table, readings, skipped)


def _column_of(field: str, mapping: dict[str, str], current: str) -> str:
    back = {v: k for k, v in mapping.items()}
    if field == "station":
        return "STCD"
    if field == "time":
        return "TM"
    return back.get(field, current)
