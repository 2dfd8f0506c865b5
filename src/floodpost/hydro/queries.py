"""Reading the early-warning state: readings, warnings, gauge status; lifting a warning.

Everything here reads the store (portable SQL) except `lift_warning`, which writes through
`Store.transact` and logs the lift, with its reason, in the audit trail.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from floodpost.errors import Conflict, InvalidInput, NotFound
from floodpost.hydro.network import GaugeNetwork
from floodpost.hydro.rolling import HOUR
from floodpost.hydro.rules import to_mm
from floodpost.hydro.thresholds import MAX_WINDOW_H, WINDOW_KEYS, WINDOWS_H
from floodpost.storage.base import Store, WriteTx
from floodpost.timefmt import iso_utc

MAX_READINGS = 20_000
NEARBY_KM = 15.0  # "gauges near it": within this distance of the village's own gauge


def parse_when(value: str | None, field: str) -> float | None:
    """An ISO-8601 query parameter (with offset) → epoch seconds."""
    if value in (None, ""):
        return None
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{field} must be an ISO-8601 time, got {value!r}", field=field
        ) from None
    if dt.tzinfo is None:
        raise InvalidInput(f"{field} needs a UTC offset (e.g. +08:00)", field=field)
    return dt.timestamp()


def list_readings(
    store: Store, station: str, since: float | None, until: float | None, limit: int = MAX_READINGS
) -> list[dict[str, Any]]:
    """A station's readings in time order, each {"station", "time", "kind", values…}."""
    rows = store.read(
        "SELECT station, kind, ts, body FROM readings WHERE station = ? AND ts >= ? AND ts <= ?"
        " ORDER BY ts, kind LIMIT ?",
        (
            station,
            since if since is not None else -1e12,
            until if until is not None else 1e12,
            limit,
        ),
    )
    return [
        {
            "station": r["station"],
            "time": iso_utc(float(r["ts"])),
            "kind": r["kind"],
            **json.loads(r["body"]),
        }
        for r in rows
    ]


def list_warnings(store: Store, *, active_only: bool = False) -> list[dict[str, Any]]:
    """Warning records, most severe first, then the oldest first (the panel's order)."""
    where = " WHERE active = 1" if active_only else ""
    rows = store.read(
        f"SELECT body FROM warnings{where} ORDER BY active DESC, severity DESC, since_ts, id"
    )
    return [json.loads(r["body"]) for r in rows]


def get_warning(store: Store, warning_id: str) -> dict[str, Any]:
    rows = store.read("SELECT body FROM warnings WHERE id = ?", (warning_id,))
    if not rows:
        raise NotFound(f"no warning {warning_id!r}", field="id")
    return json.loads(rows[0]["body"])


def lift_warning(store: Store, warning_id: str, *, actor: str, reason: str) -> dict[str, Any]:
    """End an active warning (解除); the reason goes into the audit log with the change."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason is required to lift a warning", field="reason")
    if len(reason) > 2000:
        raise InvalidInput("reason is too long (at most 2000 characters)", field="reason")

    def work(tx: WriteTx) -> dict[str, Any]:
        rows = tx.query("SELECT body, active FROM warnings WHERE id = ?", (warning_id,))
        if not rows:
            raise NotFound(f"no warning {warning_id!r}", field="id")
        record = json.loads(rows[0]["body"])
        if not int(rows[0]["active"]):
            raise Conflict(f"warning {warning_id} was already lifted", field="id")
        now = tx.now()
        record.update(
            active=False,
            lifted_at=iso_utc(now),
            lifted_by=actor,
            lift_reason=reason,
            updated_at=iso_utc(now),
        )
        tx.execute(
            "UPDATE warnings SET active = 0, updated_ts = ?, body = ? WHERE id = ?",
            (now, json.dumps(record), warning_id),
        )
        tx.log("warning", warning_id, "lift", record, actor=actor, reason=reason)
        return record

    return store.transact(work)


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat = math.radians((a[1] + b[1]) / 2)
    dx = (a[0] - b[0]) * 111.32 * math.cos(lat)
    dy = (a[1] - b[1]) * 110.57
    return math.hypot(dx, dy)


def station_status(
    store: Store, net: GaugeNetwork, now: float, silent_min: float
) -> dict[str, Any]:
    """Every station: last reading, silent or not, rain totals ending now (None when silent:
    a silent gauge is never 0 mm), latest level; and the villages flagged because their gauge is
    silent while a gauge near it has rain at or above the village's prepare threshold."""
    latest = {
        r["station"]: float(r["last_ts"])
        for r in store.read("SELECT station, last_ts FROM station_latest")
    }
    out: dict[str, dict[str, Any]] = {}
    for sid, st in net.stations.items():
        last = latest.get(sid)
        silent = last is None or now - last > silent_min * 60
        item: dict[str, Any] = {
            "id": sid,
            "name": st["name"],
            "kind": st["kind"],
            "last_reading_at": iso_utc(last) if last is not None else None,
            "silent": silent,
            "rain_mm": None,
            "level_m": None,
            "thresholds": net.thresholds_of(sid),
        }
        if not silent and st["kind"] == "PP":
            item["rain_mm"] = {f"{w}h": t for w, t in _totals_now(store, sid, now).items()}
        if not silent and st["kind"] != "PP":
            rows = store.read(
                "SELECT value FROM readings WHERE station = ? AND kind = 'level' AND ts <= ?"
                " ORDER BY ts DESC LIMIT 1",
                (sid, now),
            )
            item["level_m"] = float(rows[0]["value"]) if rows else None
        out[sid] = item
    return {"stations": list(out.values()), "blind_villages": _blind(net, out)}


def _totals_now(store: Store, station: str, now: float) -> dict[int, float]:
    cases = ", ".join(
        f"SUM(CASE WHEN ts > ? AND interval_h <= {w} THEN units ELSE 0 END) AS w{w}"
        for w in WINDOWS_H
    )
    params = [now - w * HOUR for w in WINDOWS_H]
    row = store.read(
        f"SELECT {cases} FROM readings WHERE station = ? AND kind = 'rain' AND ts > ? AND ts <= ?",
        (*params, station, now - MAX_WINDOW_H * HOUR, now),
    )[0]
    return {w: to_mm(int(row[f"w{w}"] or 0)) for w in WINDOWS_H}


def _blind(net: GaugeNetwork, status: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Villages whose own gauge is silent while a reporting gauge near it reaches the village's
    prepare threshold in some window: the command post must ask the village directly."""
    geo = net.catalogue.gdf("stations")
    where = {
        str(sid): (float(g.x), float(g.y))
        for sid, g in zip(geo["id"], geo.geometry.values, strict=True)
    }
    flagged: list[dict[str, Any]] = []
    for sid, codes in sorted(net.villages_by_station.items()):
        if not status.get(sid, {}).get("silent"):
            continue
        for other, st in status.items():
            if other == sid or st["silent"] or not st["rain_mm"]:
                continue
            dist = _distance_km(where[sid], where[other])
            if dist > NEARBY_KM:
                continue
            for code in codes:
                warn = net.catalogue.village(code)["warn_mm"]
                hit = next(
                    (
                        (key, st["rain_mm"][key], pair[0])
                        for key, pair in warn.items()
                        if key in st["rain_mm"] and st["rain_mm"][key] >= pair[0]
                    ),
                    None,
                )
                if hit and not any(f["code"] == code for f in flagged):
                    flagged.append(
                        {
                            "code": code,
                            "name": net.catalogue.village(code)["name"],
                            "station": sid,
                            "nearby_station": other,
                            "distance_km": round(dist, 1),
                            "window_h": WINDOW_KEYS[hit[0]],
                            "observed": hit[1],
                            "threshold": hit[2],
                        }
                    )
    return flagged
