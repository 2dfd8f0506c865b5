"""Readings batches: checked whole before anything is stored (POST /api/readings, CSV import).

A reading is rain (`rain_mm` over `interval_h` hours ending at `time`) or a water level
(`level_m`, optional `inflow_m3s`, `outflow_m3s`, `storage_1e6_m3`, `flow_m3s`). Every problem
names the reading's index and field; the first one is the error's message and up to
`MAX_PROBLEMS` are listed, so a gateway can fix a whole batch at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from floodpost.errors import Conflict, InvalidInput

MAX_PROBLEMS = 20
MAX_BATCH = 10_000
# Plausibility bounds (outside them a value is a unit or typing error, not weather):
MAX_RAIN_MM_PER_H = 400.0  # world 1-hour record ~305 mm
MAX_RAIN_MM = 2000.0  # world 24-hour record ~1,825 mm
MAX_INTERVAL_H = 24.0  # SL 323 INTV is hours; 60 means someone sent minutes
LEVEL_RANGE_M = (-100.0, 9000.0)  # elevations above the station's datum
MAX_FLOW_M3S = 1_000_000.0
EARLIEST_TS = datetime(1950, 1, 1).timestamp()
FUTURE_SLACK_S = 600.0  # a gateway clock a few minutes fast is tolerated

RAIN_FIELDS = ("rain_mm", "interval_h")
LEVEL_FIELDS = ("level_m", "inflow_m3s", "outflow_m3s", "storage_1e6_m3", "flow_m3s")
KNOWN_FIELDS = frozenset(("station", "time", *RAIN_FIELDS, *LEVEL_FIELDS))


@dataclass(frozen=True)
class Reading:
    """One checked reading. kind: "rain" or "level"; values: the numbers it carries."""

    station: str
    ts: float
    kind: str
    values: dict[str, float]

    @property
    def key(self) -> tuple[str, float, str]:
        return self.station, self.ts, self.kind


class Problem(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class StationInfo:
    kind: str  # PP, RR, ZZ
    capacity_1e6_m3: float | None = None  # the reservoir's total capacity, for the W unit trap


def parse_time(value: Any, now: float) -> float:
    if not isinstance(value, str):
        raise Problem("time", f"must be ISO-8601 text with an offset, got {value!r}")
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Problem("time", f"is not an ISO-8601 time: {value!r}") from None
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise Problem("time", f"has no UTC offset (e.g. +08:00): {value!r}")
    ts = dt.timestamp()
    if ts < EARLIEST_TS or ts > now + FUTURE_SLACK_S:
        raise Problem(
            "time", f"is not a plausible reading time (past 1950, not in the future): {value!r}"
        )
    return ts


def _number(
    item: Mapping[str, Any], name: str, lo: float, hi: float, why: str = ""
) -> float | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Problem(name, f"must be a number, got {value!r}")
    if not math.isfinite(value):
        raise Problem(name, f"must be a finite number, got {value!r}")
    if value < lo:
        raise Problem(name, f"must be at least {lo:g}, got {value!r}")
    if value > hi:
        raise Problem(name, f"must be at most {hi:g}{why}, got {value!r}")
    return float(value)


def check_reading(item: Any, stations: Mapping[str, StationInfo], now: float) -> Reading:
    """One reading checked against the station list; raises Problem naming the field."""
    if not isinstance(item, Mapping):
        raise Problem("reading", f"must be an object, got {item!r}")
    unknown = sorted(set(item) - KNOWN_FIELDS)
    if unknown:
        raise Problem(
            unknown[0], f"is not a reading field (known: {', '.join(sorted(KNOWN_FIELDS))})"
        )
    station = item.get("station")
    if not isinstance(station, str) or station not in stations:
        raise Problem("station", f"is not a known station: {station!r}")
    info = stations[station]
    ts = parse_time(item.get("time"), now)
    is_rain = "rain_mm" in item or "interval_h" in item
    is_level = any(f in item for f in LEVEL_FIELDS)
    if is_rain and is_level:
        raise Problem(
            "level_m", "a reading is either rain (rain_mm) or a level (level_m), not both"
        )
    if is_rain:
        interval = _number(
            item, "interval_h", 0.0, MAX_INTERVAL_H, " hours (SL 323 INTV is in hours, not minutes)"
        )
        if interval is None or interval <= 0:
            raise Problem("interval_h", "is required for rain and must be above 0 hours")
        cap = min(MAX_RAIN_MM_PER_H * max(interval, 1.0), MAX_RAIN_MM)
        rain = _number(item, "rain_mm", 0.0, cap, f" mm for {interval:g} h")
        if rain is None:
            raise Problem("rain_mm", "is required (mm of rain over interval_h hours)")
        return Reading(station, ts, "rain", {"rain_mm": rain, "interval_h": interval})
    if info.kind == "PP":
        raise Problem("level_m", f"station {station} is a rain gauge (PP): send rain_mm")
    level = _number(item, "level_m", *LEVEL_RANGE_M)
    if level is None:
        raise Problem("level_m", "is required (or rain_mm with interval_h)")
    values = {"level_m": level}
    for name in ("inflow_m3s", "outflow_m3s", "flow_m3s"):
        v = _number(item, name, 0.0, MAX_FLOW_M3S)
        if v is not None:
            values[name] = v
    cap_w = info.capacity_1e6_m3
    why = f" (10⁶ m³; the reservoir holds {cap_w:g}: was it sent in 10⁴ m³?)" if cap_w else ""
    storage = _number(item, "storage_1e6_m3", 0.0, 2 * cap_w if cap_w else 1e6, why)
    if storage is not None:
        values["storage_1e6_m3"] = storage
    return Reading(station, ts, "level", values)


def check_batch(
    items: Any,
    stations: Mapping[str, StationInfo],
    now: float,
    *,
    label: Callable[[int], str] = lambda i: f"readings[{i}]",
) -> list[Reading]:
    """Every reading checked; the whole batch is refused (InvalidInput) if any one is bad,
    and Conflict if it holds two different values for one station, time and kind."""
    if not isinstance(items, list) or not items:
        raise InvalidInput("readings must be a non-empty list", field="readings")
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} readings per batch", field="readings")
    out: list[Reading] = []
    problems: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        try:
            out.append(check_reading(item, stations, now))
        except Problem as exc:
            problems.append({"index": i, "field": f"{label(i)}.{exc.field}", "detail": str(exc)})
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        first = problems[0]
        raise InvalidInput(
            f"{first['field']} {first['detail']}", field=first["field"], problems=problems
        )
    seen: dict[tuple[str, float, str], tuple[int, Reading]] = {}
    for i, r in enumerate(out):
        if r.key in seen and seen[r.key][1].values != r.values:
            j = seen[r.key][0]
            raise Conflict(
                f"{label(i)} and {label(j)}: two different values for station {r.station} at the same time",
                field=f"{label(i)}.time",
            )
        seen.setdefault(r.key, (i, r))
    return out


def stations_of(catalogue: Any) -> dict[str, StationInfo]:
    """The station list a batch is checked against, from the catalogue's stations layer."""
    out = {}
    for sid, s in catalogue.records("stations").items():
        cap = None
        rid = s.get("reservoir_id")
        res = catalogue.reservoir(rid) if rid else None
        if res and res.get("capacity_10k_m3"):
            cap = float(res["capacity_10k_m3"]) / 100.0  # 10⁴ m³ → 10⁶ m³
        out[sid] = StationInfo(s["kind"], cap)
    return out
