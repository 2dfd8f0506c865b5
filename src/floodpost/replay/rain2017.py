"""Hourly rain and reservoir levels for the 2017 replay, made to fit the report log.

Deterministic from the geodata and the report timeline (flood2017.build_timeline):

- every demo rain gauge gets hourly rain from 23 June 09:00 to 2 July 00:00 (local): the day's
  total follows the log's build-up (`flood2017.DAY_WEIGHTS`) with the night-heavy hours
  (`HOUR_WEIGHTS`), varied per gauge;
- the storm of 24–25 June: the gauges standing for 寨市乡上翁, 河口乡岩坡村 and 竹舟江 get exactly the
  recorded 287.8, 270.7 and 210.2 mm over 24 June 08:00 – 25 June 08:00 (邵阳新闻网, 26 June 2017),
  and gauges near them a share falling off with distance;
- where a village's people are evacuated before its gauge would have warned, a burst of rain in
  the hours before brings the gauge to the village's prepare level, so in the log the warning
  always comes first (outside the recorded 24 hours of the three named gauges);
- each reservoir's level rises with the week; the five reservoirs reported in danger cross their
  flood-limit level hours before the report and peak below the check flood level (two above the
  design flood level), then recede by the time they are reported under control; none reaches its
  crest, the others stay below their flood limit.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from floodpost.hydro.readings import Reading
from floodpost.hydro.rolling import RainSeries
from floodpost.hydro.rules import village_verdict
from floodpost.replay import flood2017
from floodpost.timefmt import LOCAL_TZ

RAIN_START = datetime(2017, 6, 23, 8, tzinfo=LOCAL_TZ)  # the first hourly reading ends at 09:00
HOURS = flood2017.DAYS * 24 + 16  # 23 June 09:00 … 2 July 00:00 local
HOUR = 3600.0
STORM_FROM = datetime(2017, 6, 24, 8, tzinfo=LOCAL_TZ).timestamp()
STORM_TO = STORM_FROM + 24 * HOUR
# The press report's totals over 24 June 08:00 – 25 June 08:00, by the demo gauge's name.
RECORDED_MM = {"寨市乡上翁(示例站)": 287.8, "河口乡岩坡村(示例站)": 270.7, "竹舟江(示例站)": 210.2}
STORM_REACH_KM = 14.0
MM_PER_DAY_WEIGHT = 3.2  # base daily rain per unit of DAY_WEIGHTS (34 → ~109 mm on 1 July)


@dataclass
class ReadingBatch:
    """All gauges' readings for one hour, sent together (as a telemetry gateway would)."""

    ts: float
    readings: list[Reading] = field(default_factory=list)
    action: str = "readings"


def _hour_ts(k: int) -> float:
    return (RAIN_START + timedelta(hours=k)).timestamp()


def _split_tenths(total: float, weights: list[float]) -> list[int]:
    """Integer tenths of a mm proportional to `weights`, adding up to exactly `total`."""
    return flood2017._split(int(round(total * 10)), weights)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[1] + b[1]) / 2)
    return math.hypot((a[0] - b[0]) * 111.32 * math.cos(lat), (a[1] - b[1]) * 110.57)


def _positions(catalogue: Any) -> dict[str, tuple[float, float]]:
    gdf = catalogue.gdf("stations")
    return {
        str(i): (float(g.x), float(g.y))
        for i, g in zip(gdf["id"], gdf.geometry.values, strict=True)
    }


def _first_evacuations(steps: list[flood2017.Step]) -> dict[str, float]:
    first: dict[str, float] = {}
    for s in steps:
        if s.action == "create" and s.stored and s.stored["kind"] == "evacuation":
            code, t = s.stored["village_code"], float(s.stored["occurred_ts"])
            first[code] = min(first.get(code, t), t)
    return first


def _base_rain(rng: random.Random) -> list[int]:
    """Hourly tenths of mm for one gauge: the week's build-up, heavier at night."""
    factor = rng.uniform(0.7, 1.3)
    hours: list[int] = []
    for day in range(-1, flood2017.DAYS):
        weight = 1 if day < 0 else flood2017.DAY_WEIGHTS[day]
        w = [hw * rng.lognormvariate(0, 0.6) for hw in flood2017.HOUR_WEIGHTS]
        # Hours 09:00..08:00 of the next day: the readings end on the hour.
        w = w[9:] + w[:9]
        hours += _split_tenths(MM_PER_DAY_WEIGHT * weight * factor, w)
    return hours[:HOURS]


def _storm_weights() -> list[float]:
    # Building through the afternoon of 24 June, worst around 22:00–02:00.
    return [0.25 + math.exp(-(((h - 13.5) / 4.0) ** 2)) for h in range(24)]


def build_rain(
    catalogue: Any, steps: list[flood2017.Step], seed: int = 2017
) -> dict[str, list[int]]:
    """{gauge: hourly rain in tenths of mm, hour k ending at RAIN_START + k + 1 h}."""
    rng = random.Random(seed * 7 + 1)
    stations = catalogue.records("stations")
    gauges = sorted(sid for sid, s in stations.items() if s["kind"] == "PP")
    rain = {sid: _base_rain(rng) for sid in gauges}
    at = _positions(catalogue)
    named = {
        sid: RECORDED_MM[stations[sid]["name"]]
        for sid in gauges
        if stations[sid]["name"] in RECORDED_MM
    }
    first = int((STORM_FROM - RAIN_START.timestamp()) / HOUR)  # index of the hour ending 09:00
    storm = range(first, first + 24)
    for sid in gauges:
        if sid in named:
            rain[sid][first : first + 24] = _split_tenths(named[sid], _storm_weights())
            continue
        near = min(((_km(at[sid], at[n]), total) for n, total in named.items()), default=None)
        if near and near[0] < 3 * STORM_REACH_KM:
            extra = _split_tenths(
                0.8 * near[1] * math.exp(-near[0] / STORM_REACH_KM), _storm_weights()
            )
            for k, add in zip(storm, extra, strict=True):
                rain[sid][k] += add
    _warn_before_evacuation(catalogue, steps, rain, set(named), storm)
    return rain


def _warn_before_evacuation(
    catalogue: Any,
    steps: list[flood2017.Step],
    rain: dict[str, list[int]],
    named: set[str],
    storm: range,
) -> None:
    evacuated = _first_evacuations(steps)
    by_gauge: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for code, t in evacuated.items():
        v = catalogue.village(code)
        if v.get("rain_station") in rain and v.get("warn_mm"):
            by_gauge[v["rain_station"]].append((t, code))
    for sid, items in sorted(by_gauge.items()):
        for t, code in sorted(items):
            warn = catalogue.village(code)["warn_mm"]
            if _first_warning(rain[sid], warn) < t:
                continue
            end = int((t - 600 - RAIN_START.timestamp()) // HOUR) - 1  # last hour ending before t
            if sid in named and end >= storm.start:
                end = storm.start - 1  # keep the recorded 24 hours exact
            if end < 0:
                raise ValueError(f"evacuation of {code} before the rain series starts")
            lo = max(0, end - 11)
            have = sum(rain[sid][lo : end + 1]) + sum(rain[sid][max(0, end - 23) : lo])
            need = int(round(warn["24h"][0] * 10)) + 20 - have
            if need > 0:
                spread = _split_tenths(need / 10, [1 + min(i, 11 - i) for i in range(end - lo + 1)])
                for i, add in enumerate(spread):
                    rain[sid][lo + i] += add
            assert _first_warning(rain[sid], warn) < t, (sid, code)


def _first_warning(hours: list[int], warn: dict[str, list[float]]) -> float:
    """When a village with these thresholds first warns on this hourly series (inf: never)."""
    series = RainSeries(retain_h=30)
    for k, tenths in enumerate(hours):
        if not tenths:
            continue
        ts = _hour_ts(k + 1)
        series.add(ts, tenths / 10, 1.0)
        if village_verdict(series.totals(ts), warn) is not None:
            return ts
    return math.inf


def _reservoir_events(steps: list[flood2017.Step]) -> dict[str, dict[str, float]]:
    events: dict[str, dict[str, float]] = defaultdict(dict)
    for s in steps:
        r = s.stored
        if s.action == "create" and r and r.get("reservoir_status"):
            events[r["reservoir_id"]].setdefault(r["reservoir_status"], float(r["occurred_ts"]))
    return events


def build_levels(
    catalogue: Any, steps: list[flood2017.Step], seed: int = 2017
) -> dict[str, list[float]]:
    """{RR station: hourly level (m)} for every reservoir with a station."""
    rng = random.Random(seed * 7 + 2)
    events = _reservoir_events(steps)
    t0, t_end = RAIN_START.timestamp(), _hour_ts(HOURS)
    out: dict[str, list[float]] = {}
    for rid, r in sorted(catalogue.records("reservoirs").items()):
        if not r.get("station") or r.get("flood_limit_m") is None:
            continue
        limit, design, check = r["flood_limit_m"], r["design_flood_m"], r["check_flood_m"]
        start = limit - rng.uniform(1.5, 3.0)
        ev = events.get(rid, {})
        if "danger" in ev:
            t1, t2 = ev["danger"], ev.get("normal", ev["danger"] + 8 * HOUR)
            high = rng.random() < 0.5
            peak = design + (check - design) * 0.4 if high else limit + (design - limit) * 0.6
            points = [
                (t0, start),
                (t1 - rng.uniform(4, 8) * HOUR, limit + 0.05),
                (t1 + 2 * HOUR, peak),
                (t2, limit - 0.1),
                (t_end, limit - 0.6),
            ]
        else:
            top = limit - rng.uniform(0.2, 0.8)
            points = [(t0, start), (t_end - 18 * HOUR, top), (t_end, top - 0.1)]
        out[r["station"]] = [round(_along(points, _hour_ts(k + 1)), 2) for k in range(HOURS)]
    return out


def _along(points: list[tuple[float, float]], t: float) -> float:
    for (ta, a), (tb, b) in zip(points, points[1:], strict=False):
        if ta <= t <= tb:
            return a + (b - a) * (t - ta) / (tb - ta)
    return points[-1][1] if t > points[-1][0] else points[0][1]


def build_batches(
    catalogue: Any, steps: list[flood2017.Step], seed: int = 2017
) -> list[ReadingBatch]:
    """One batch per hour with every gauge's rain (0 mm included: the gauge reported) and every
    reservoir's level, in time order."""
    rain = build_rain(catalogue, steps, seed)
    levels = build_levels(catalogue, steps, seed)
    batches = []
    for k in range(HOURS):
        ts = _hour_ts(k + 1)
        batch = ReadingBatch(ts)
        for sid, hours in sorted(rain.items()):
            batch.readings.append(
                Reading(sid, ts, "rain", {"rain_mm": hours[k] / 10, "interval_h": 1.0})
            )
        for sid, lv in sorted(levels.items()):
            batch.readings.append(Reading(sid, ts, "level", {"level_m": lv[k]}))
        batches.append(batch)
    return batches
