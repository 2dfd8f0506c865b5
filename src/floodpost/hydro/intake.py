"""Readings into the store, and the warnings they raise, in one transaction of the one writer.

    result = store_readings(store, network, readings, actor="gw-1", source="api")
    # {"accepted": 98, "duplicates": 2, "warnings": [<warning records raised or risen>]}

One batch is one transaction: its readings, one audit change (entity "readings"), each
station's latest time and every warning raised ("raise") or risen ("rise") are kept together or
not at all. A reading already stored with the same values is a duplicate; with other values the
whole batch is refused (Conflict naming it).

Window totals are read from the readings table itself, as a range of its primary key
(station, kind, ts) summed by the database: the cost of a reading depends on the readings in the
24 hours around it, never on the station's history, and every process sees the same totals.
Readings of a station are serialised across processes: the transaction first upserts the
station's `station_latest` row (and the writer holds the store's write lock on both backends).
"""

from __future__ import annotations

import bisect
import json
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from floodpost.errors import Conflict
from floodpost.hydro.network import GaugeNetwork
from floodpost.hydro.readings import Reading
from floodpost.hydro.rolling import HOUR, RainSeries
from floodpost.hydro.rules import (
    SEVERITY,
    UNITS_PER_MM,
    Verdict,
    flood_limit_on,
    reservoir_verdict,
    rises,
    to_mm,
    to_units,
    village_verdict,
)
from floodpost.hydro.thresholds import LEVEL_FIELDS, MAX_WINDOW_H, WINDOW_KEYS, WINDOWS_H
from floodpost.storage.base import Store, WriteTx
from floodpost.timefmt import LOCAL_TZ, iso_utc

WINDOW_SQL = (
    "SELECT "
    + ", ".join(
        f"SUM(CASE WHEN ts > ? AND interval_h <= {w} THEN units ELSE 0 END) AS w{w}"
        for w in WINDOWS_H
    )
    + " FROM readings WHERE station = ? AND kind = 'rain' AND ts > ? AND ts <= ?"
)
INSERT_READING = (
    "INSERT INTO readings (station, kind, ts, value, interval_h, units, body, received_ts, actor)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
TOUCH_STATION = (
    "INSERT INTO station_latest (station, last_ts, received_ts) VALUES (?, ?, ?)"
    " ON CONFLICT (station) DO UPDATE SET"
    " last_ts = CASE WHEN excluded.last_ts > station_latest.last_ts"
    " THEN excluded.last_ts ELSE station_latest.last_ts END,"
    " received_ts = excluded.received_ts"
)


def _series(tx: WriteTx, station: str, ends: list[float]) -> RainSeries:
    """The station's readings from 24 h before the first end to the last end, read once, for
    the totals at many ends (a batch of many hours; a back-filled reading)."""
    rows = tx.query(
        "SELECT ts, interval_h, units FROM readings WHERE station = ? AND kind = 'rain'"
        " AND ts > ? AND ts <= ? ORDER BY ts",
        (station, min(ends) - MAX_WINDOW_H * HOUR, max(ends)),
    )
    series = RainSeries(retain_h=float("inf"))
    for row in rows:
        units, interval = int(row["units"]) / UNITS_PER_MM, float(row["interval_h"])
        series.add(float(row["ts"]), units, interval, peaks=False)
    return series


def window_totals(tx: WriteTx, station: str, end_ts: float) -> dict[int, float]:
    """Rain totals (mm) of every window ending at `end_ts`, summed by the database."""
    params = [end_ts - w * HOUR for w in WINDOWS_H]
    row = tx.query(WINDOW_SQL, [*params, station, end_ts - MAX_WINDOW_H * HOUR, end_ts])[0]
    return {w: to_mm(int(row[f"w{w}"] or 0)) for w in WINDOWS_H}


def store_readings(
    store: Store,
    network: GaugeNetwork,
    readings: list[Reading],
    *,
    actor: str | None,
    source: str = "api",
) -> dict[str, Any]:
    """Keep a checked batch (see readings.check_batch) and raise the warnings it calls for."""
    return store.transact(lambda tx: _intake(tx, network, readings, actor, source))


def _intake(
    tx: WriteTx, net: GaugeNetwork, readings: list[Reading], actor: str | None, source: str
) -> dict[str, Any]:
    now = tx.now()
    latest: dict[str, float] = {}
    for r in readings:
        latest[r.station] = max(latest.get(r.station, r.ts), r.ts)
    stations = sorted(latest)  # one order everywhere: no deadlock between processes
    marks = ", ".join("?" * len(stations))
    before = {
        row["station"]: float(row["last_ts"])
        for row in tx.query(
            f"SELECT station, last_ts FROM station_latest WHERE station IN ({marks})", stations
        )
    }
    tx.executemany(TOUCH_STATION, [(s, latest[s], now) for s in stations])
    stored = _stored_bodies(tx, readings, stations, marks)
    new: list[Reading] = []
    duplicates = 0
    seen: set[tuple[str, float, str]] = set()
    for i, r in enumerate(readings):
        if r.key in seen:  # check_batch refused the same key with other values
            duplicates += 1
            continue
        seen.add(r.key)
        body = stored.get(r.key) if stored is not None else _stored_body(tx, r)
        if body is None:
            new.append(r)
        elif json.loads(body) == r.values:
            duplicates += 1
        else:
            raise Conflict(
                f"readings[{i}]: station {r.station} already has another {r.kind} value at "
                f"{iso_utc(r.ts)}: {body}",
                field=f"readings[{i}]",
            )
    tx.executemany(INSERT_READING, [_row(r, now, actor) for r in new])
    changes: list[tuple[str, dict[str, Any]]] = []
    by_station: dict[tuple[str, str], list[Reading]] = defaultdict(list)
    for r in new:
        by_station[(r.station, r.kind)].append(r)
    for (station, kind), rs in sorted(by_station.items()):
        if kind == "rain":
            new_ts = sorted(r.ts for r in rs)
            # Readings newer than any stored one (the usual case) change only their own windows.
            newest = station not in before or new_ts[0] > before[station]
            changes += _rain_warnings(tx, net, station, new_ts, now, newest=newest)
        else:
            changes += _level_warnings(tx, net, station, rs, now)
    if new:
        tx.log(
            "readings",
            uuid.uuid4().hex,
            "add",
            {
                "source": source,
                "accepted": len(new),
                "duplicates": duplicates,
                "stations": sorted({r.station for r in new}),
                "from": iso_utc(min(r.ts for r in new)),
                "to": iso_utc(max(r.ts for r in new)),
            },
            actor=actor,
        )
    for action, record in changes:
        tx.log("warning", record["id"], action, record, actor=actor)
    return {
        "accepted": len(new),
        "duplicates": duplicates,
        "warnings": [record for _, record in changes],
    }


def _stored_bodies(
    tx: WriteTx, readings: list[Reading], stations: list[str], marks: str
) -> dict[tuple[str, float, str], str] | None:
    """Stored values at the batch's keys, read in one query when the batch spans two days at
    most (a gateway's batch); None otherwise (then one lookup per reading)."""
    lo, hi = min(r.ts for r in readings), max(r.ts for r in readings)
    if hi - lo > 2 * MAX_WINDOW_H * HOUR:
        return None
    rows = tx.query(
        "SELECT station, kind, ts, body FROM readings WHERE station IN"
        f" ({marks}) AND kind IN ('level', 'rain') AND ts >= ? AND ts <= ?",
        [*stations, lo, hi],
    )
    return {(row["station"], float(row["ts"]), row["kind"]): row["body"] for row in rows}


def _stored_body(tx: WriteTx, r: Reading) -> str | None:
    rows = tx.query(
        "SELECT body FROM readings WHERE station = ? AND kind = ? AND ts = ?",
        (r.station, r.kind, r.ts),
    )
    return rows[0]["body"] if rows else None


def _row(r: Reading, now: float, actor: str | None) -> tuple[Any, ...]:
    value = r.values["rain_mm"] if r.kind == "rain" else r.values["level_m"]
    interval = r.values.get("interval_h")
    units = to_units(value) if r.kind == "rain" else None
    body = json.dumps(r.values, sort_keys=True)
    return (r.station, r.kind, r.ts, value, interval, units, body, now, actor)


def _rain_warnings(
    tx: WriteTx,
    net: GaugeNetwork,
    station: str,
    new_ts: list[float],
    now: float,
    *,
    newest: bool = False,
) -> list[tuple[str, dict[str, Any]]]:
    villages = net.villages_of(station)
    if not villages:
        return []
    # The windows that contain a new reading end at it or at a reading less than 24 h after it.
    ends = new_ts
    if not newest:
        later = tx.query(
            "SELECT ts FROM readings WHERE station = ? AND kind = 'rain' AND ts >= ? AND ts < ?"
            " ORDER BY ts",
            (station, new_ts[0], new_ts[-1] + MAX_WINDOW_H * HOUR),
        )
        ends = [
            e
            for e in (float(row["ts"]) for row in later)
            if (k := bisect.bisect_right(new_ts, e)) and e < new_ts[k - 1] + MAX_WINDOW_H * HOUR
        ]
    # In time order, so a batch holding a whole storm raises at the first window over a
    # threshold and rises where a higher level is first reached (since/history stay true).
    out: list[tuple[str, dict[str, Any]]] = []
    known: dict[str, str] = {}  # village → a level its active warning has at least
    many = _series(tx, station, ends) if len(ends) > 2 else None
    for end in sorted(ends):
        totals = many.totals(end) if many is not None else window_totals(tx, station, end)
        if not net.may_warn(station, totals):
            continue
        for code in villages:
            warn = net.catalogue.village(code)["warn_mm"]
            verdict = village_verdict(totals, warn)
            if verdict is None or (code in known and not rises(known[code], verdict.level)):
                continue
            windows = [
                {
                    "window_h": WINDOW_KEYS[key],
                    "observed": totals[WINDOW_KEYS[key]],
                    "prepare": pair[0],
                    "evacuate": pair[1],
                }
                for key, pair in warn.items()
            ]
            change = _raise_or_rise(
                tx, net, net.village_record(code), verdict, station, end, {"windows": windows}, now
            )
            known[code] = verdict.level if change or code not in known else known[code]
            if change:
                out.append(change)
    return out


def _level_warnings(
    tx: WriteTx, net: GaugeNetwork, station: str, rs: list[Reading], now: float
) -> list[tuple[str, dict[str, Any]]]:
    reservoir = net.reservoir_of(station)
    if reservoir is None:
        return []
    out: list[tuple[str, dict[str, Any]]] = []
    known: str | None = None
    for r in sorted(rs, key=lambda r: r.ts):
        day = datetime.fromtimestamp(r.ts, LOCAL_TZ).date()
        verdict = reservoir_verdict(r.values["level_m"], reservoir, day)
        if verdict is None or (known is not None and not rises(known, verdict.level)):
            continue
        levels = {f: reservoir.get(f) for f in LEVEL_FIELDS}
        # The flood limit in force on the reading's date (seasonal), not the yearly default.
        levels["flood_limit_m"] = flood_limit_on(reservoir, day)
        change = _raise_or_rise(
            tx,
            net,
            net.reservoir_record(reservoir),
            verdict,
            station,
            r.ts,
            {"levels": levels},
            now,
        )
        known = verdict.level if change or known is None else known
        if change:
            out.append(change)
    return out


def _raise_or_rise(
    tx: WriteTx,
    net: GaugeNetwork,
    base: dict[str, Any],
    verdict: Verdict,
    station: str,
    observed_ts: float,
    details: dict[str, Any],
    now: float,
) -> tuple[str, dict[str, Any]] | None:
    rows = tx.query(
        "SELECT body FROM warnings WHERE target = ? AND code = ? AND active = 1",
        (base["target"], base["code"]),
    )
    step = {
        "level": verdict.level,
        "window_h": verdict.window_h,
        "observed": verdict.observed,
        "threshold": verdict.threshold,
        "observed_at": iso_utc(observed_ts),
        "at": iso_utc(now),
    }
    if rows:
        record = json.loads(rows[0]["body"])
        if not rises(record["level"], verdict.level):
            return None
        record.update(_verdict_fields(verdict, station, net, observed_ts, now), **details)
        record["history"].append(step)
        tx.execute(
            "UPDATE warnings SET level = ?, severity = ?, updated_ts = ?, body = ? WHERE id = ?",
            (verdict.level, verdict.severity, now, json.dumps(record), record["id"]),
        )
        return "rise", record
    n = tx.query(
        "SELECT COUNT(*) AS n FROM warnings WHERE target = ? AND code = ?",
        (base["target"], base["code"]),
    )[0]["n"]
    record = {
        "id": f"{base['target']}-{base['code']}-{int(n) + 1}",
        **base,
        **_verdict_fields(verdict, station, net, observed_ts, now),
        "since": iso_utc(observed_ts),
        "since_ts": observed_ts,
        "raised_at": iso_utc(now),
        "active": True,
        "lifted_at": None,
        "lifted_by": None,
        "lift_reason": None,
        **details,
        "history": [step],
    }
    tx.execute(
        "INSERT INTO warnings (id, target, code, level, severity, active, since_ts, updated_ts,"
        " body) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?)",
        (
            record["id"],
            base["target"],
            base["code"],
            verdict.level,
            verdict.severity,
            observed_ts,
            now,
            json.dumps(record),
        ),
    )
    return "raise", record


def _verdict_fields(
    verdict: Verdict, station: str, net: GaugeNetwork, observed_ts: float, now: float
) -> dict[str, Any]:
    return {
        "level": verdict.level,
        "severity": SEVERITY[verdict.level],
        "window_h": verdict.window_h,
        "observed": verdict.observed,
        "threshold": verdict.threshold,
        "station": station,
        "station_name": (net.stations.get(station) or {}).get("name"),
        "observed_at": iso_utc(observed_ts),
        "updated_at": iso_utc(now),
    }
