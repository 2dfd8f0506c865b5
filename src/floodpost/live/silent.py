"""Silent responsibility zones: no report from the zone for `silent_zone_hours`.

Silence is the signal: a zone that stops reporting in a flood may have lost power, telecoms or
road access, so the command post should call its owner. The last report time per zone comes
from `Store.last_report_by_zone` (one indexed MAX per zone, never a scan of the log): a
retracted report still proves someone there could reach us.
"""

from __future__ import annotations

from typing import Any


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
