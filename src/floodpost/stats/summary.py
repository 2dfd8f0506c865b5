"""The summary, the situation at any moment, and the evacuation flows (village → shelter).

These are the functions behind `/api/stats/*` and the `/review` page (its JSON twin).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from floodpost import moments, rules
from floodpost.stats.breakdowns import evacuated_until, hour_range, shelter_occupancy, totals
from floodpost.stats.reference import Reference
from floodpost.stats.requests import (
    EscalationLimits,
    help_request_stats,
    open_help_requests_at,
    reservoir_status,
)
from floodpost.stats.risk import at_risk_now
from floodpost.stats.rollup import Rollup
from floodpost.timefmt import LOCAL_TZ, local_hour


def summary(
    rollup: Rollup, ref: Reference, *, limits: EscalationLimits, now_ts: float
) -> dict[str, Any]:
    """County totals: people evacuated and rescued (sums of people), deaths, missing, reservoirs
    failed, help requests, population at risk and shelter occupancy."""
    m = totals(rollup)
    help_stats = help_request_stats(rollup, limits=limits, now_ts=now_ts)
    reservoirs = reservoir_status(rollup, ref)
    shelters = shelter_occupancy(rollup, ref)
    first, last = hour_range(rollup)
    at_risk = sum(at_risk_now(rollup, ref.risk).values())
    in_shelters = sum(s["occupancy"] for s in shelters)
    capacity = sum(s["capacity"] for s in shelters)
    fullest = max(shelters, key=lambda s: s["occupancy_pct"] or 0, default=None)
    return {
        **m,
        **reservoir_counts(reservoirs),
        "reservoirs_with_incidents": sum(1 for r in reservoirs if r["reported"]),
        "open_help_requests": help_stats["open"],
        "help": help_stats,
        "population_at_risk": at_risk,
        "evacuated_pct_of_at_risk": round(100.0 * m["evacuated"] / at_risk, 1) if at_risk else None,
        "shelters": {
            "people": in_shelters,
            "capacity": capacity,
            "peak_occupancy_pct": round(100.0 * in_shelters / capacity, 1) if capacity else None,
            "fullest": fullest,
            "evacuated_elsewhere": m["evacuated"] - in_shelters,
        },
        "first_hour": first,
        "last_hour": last,
    }


def reservoir_counts(reservoirs: list[dict[str, Any]]) -> dict[str, int]:
    """Reservoirs failed, and in danger (rules.in_danger: danger or failed)."""
    return {
        "reservoirs_failed": sum(1 for r in reservoirs if r["status"] == "failed"),
        "reservoirs_in_danger": sum(1 for r in reservoirs if rules.in_danger(r["status"])),
    }


def parse_moment(text: str, *, now: float | None = None, future_s: float | None = None) -> float:
    """An ISO-8601 moment; without an offset it is read as Asia/Shanghai local time. Bounded
    like every moment (floodpost.moments): 1970 to `future_s` after `now`."""
    return moments.parse_moment(text, "t", now=now, future_s=future_s, local_tz=LOCAL_TZ)


def situation_at(rollup: Rollup, ref: Reference, t: float) -> dict[str, Any]:
    """The situation at moment `t` (hour resolution for the sums): cumulative totals, people
    evacuated per village, shelter occupancy, reservoir status and open help requests."""
    hour = local_hour(t)
    by_village, by_shelter = evacuated_until(rollup, hour)
    reservoirs = reservoir_status(rollup, ref, until_ts=t)
    at_risk = ref.risk.at_risk(
        {r["reservoir_id"]: r["status"] for r in reservoirs if r["reported"]}, by_village
    )
    villages = []
    for code, n in sorted(by_village.items()):
        if not n:
            continue
        lon, lat = ref.village_point.get(code, (None, None))
        villages.append(
            {
                "village_code": code,
                "name": ref.village_names.get(code, ""),
                "evacuated": n,
                "population_at_risk": at_risk.get(code, 0),
                "lon": lon,
                "lat": lat,
            }
        )
    for r in reservoirs:
        r["lon"], r["lat"] = ref.reservoir_point.get(r["reservoir_id"], (None, None))
    shelters = shelter_occupancy(rollup, ref, people=by_shelter)
    for s in shelters:
        s["lon"], s["lat"] = ref.shelter_point.get(s["shelter_id"], (None, None))
    return {
        "t": datetime.fromtimestamp(t, LOCAL_TZ).isoformat(timespec="seconds"),
        "hour": hour,
        "totals": totals(rollup, until_hour=hour),
        "open_help_requests": open_help_requests_at(rollup, t),
        **reservoir_counts(reservoirs),
        "villages": villages,
        "shelters": shelters,
        "reservoirs": reservoirs,
    }


def evacuation_flows(rollup: Rollup, ref: Reference) -> dict[str, Any]:
    """People moved from each village to each shelter (lines on the review map)."""
    pairs: dict[tuple[str, str], int] = {}
    for key, (_, p) in rollup.area.items():
        if key[4] == "evacuation" and key[2] and key[3]:
            pairs[(key[2], key[3])] = pairs.get((key[2], key[3]), 0) + p
    flows: list[dict[str, Any]] = []
    for (village, shelter), n in pairs.items():
        a = ref.village_point.get(village)
        b = ref.shelter_point.get(shelter)
        if not n or a is None or b is None:
            continue
        flows.append(
            {
                "village_code": village,
                "village": ref.village_names.get(village, ""),
                "shelter_id": shelter,
                "shelter": ref.shelter_names.get(shelter, ""),
                "people": n,
                "from": list(a),
                "to": list(b),
            }
        )
    flows.sort(key=lambda f: (-f["people"], f["village_code"], f["shelter_id"]))
    return {"flows": flows}
