"""Silent responsibility zones: no report from the zone for `silent_zone_hours`.

Silence is the signal: a zone that stops reporting in a flood may have lost power, telecoms or
road access, so the command post should call its owner. One indexed MAX per zone
(reports_zone_occurred), never a scan of the log.
"""

from __future__ import annotations

from typing import Any

from floodpost.storage.base import Store


def last_report_by_zone(store: Store, zone_ids: list[str]) -> dict[str, float | None]:
    """Latest occurred time of any report per zone (None: never reported). A retracted report
    still proves someone there could reach us; and leaving status out lets the index answer MAX
    directly."""
    out: dict[str, float | None] = {}
    for zid in zone_ids:
        rows = store.read(
            "SELECT MAX(occurred_ts) AS ts FROM reports WHERE zone_id = ?",
            (zid,),
        )
        ts = rows[0]["ts"] if rows else None
        out[zid] = float(ts) if ts is not None else None
    return out


def zone_silence(
    zones: dict[str, dict[str, Any]],
    last: dict[str, float | None],
    now: float,
    silent_hours: float,
) -> list[dict[str, Any]]:
    """Every zone with its last report time, hours since, and whether it is silent.

    A zone with no report at all counts as silent: nobody has confirmed it is safe. Reports
    "from the future" (a phone with a wrong clock) count as just now.
    """
    out = []
    for zid, zone in zones.items():
        ts = last.get(zid)
        hours = None if ts is None else max(0.0, (now - ts) / 3600)
        out.append(
            {
                "id": zid,
                "owner": zone.get("owner"),
                "township_code": zone.get("township_code"),
                "last_report_ts": ts,
                "hours_since": None if hours is None else round(hours, 2),
                "silent": hours is None or hours >= silent_hours,
            }
        )
    return out


def silent_zones(
    store: Store, zones: dict[str, dict[str, Any]], now: float, silent_hours: float
) -> list[dict[str, Any]]:
    return zone_silence(zones, last_report_by_zone(store, list(zones)), now, silent_hours)
