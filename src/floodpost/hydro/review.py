"""Early warning in the review: warnings over time, and the lead time from a village's first
warning to its first evacuation (did the warning come early enough for people to move?)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from floodpost.hydro.rules import RESERVOIR_LEVELS, VILLAGE_LEVELS
from floodpost.storage.base import Store
from floodpost.timefmt import iso_utc, local_hour


def warning_review(store: Store, catalogue: Any) -> dict[str, Any]:
    """{"by_hour": [{"hour", level: raised…}], "lead_times": [...], "summary": {...}}.

    A village's first warning is the earliest `since` of a warning naming it (its own rain
    warning, or a reservoir warning listing it downstream). Lead time is in minutes; negative
    when people were already moving before any warning.
    """
    records = [
        json.loads(r["body"]) for r in store.read("SELECT body FROM warnings ORDER BY since_ts, id")
    ]
    by_hour: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    first: dict[str, tuple[float, str]] = {}
    for w in records:
        by_hour[local_hour(w["since_ts"])][w["history"][0]["level"]] += 1
        for step in w["history"][1:]:  # each rise counts in the hour its level was reached
            by_hour[_hour_of_iso(step["observed_at"])][step["level"]] += 1
        for code in w.get("villages") or []:
            if code not in first or w["since_ts"] < first[code][0]:
                first[code] = (w["since_ts"], w["id"])
    evac = {
        r["village_code"]: float(r["t"])
        for r in store.read(
            "SELECT village_code, MIN(occurred_ts) AS t FROM reports WHERE kind = 'evacuation'"
            " AND status = 'active' AND village_code IS NOT NULL GROUP BY village_code"
        )
    }
    leads = []
    for code in sorted(set(first) | set(evac)):
        v = catalogue.village(code) or {}
        warned = first.get(code)
        moved = evac.get(code)
        leads.append(
            {
                "code": code,
                "name": v.get("name", code),
                "first_warning": iso_utc(warned[0]) if warned else None,
                "warning_id": warned[1] if warned else None,
                "first_evacuation": iso_utc(moved) if moved is not None else None,
                "lead_min": round((moved - warned[0]) / 60)
                if warned and moved is not None
                else None,
            }
        )
    with_both = sorted(x["lead_min"] for x in leads if x["lead_min"] is not None)
    levels = VILLAGE_LEVELS + RESERVOIR_LEVELS
    return {
        "by_hour": [
            {"hour": hour, **{lv: counts.get(lv, 0) for lv in levels}}
            for hour, counts in sorted(by_hour.items())
        ],
        "lead_times": leads,
        "summary": {
            "warnings": len(records),
            "active": sum(1 for w in records if w["active"]),
            "villages_warned": len(first),
            "villages_evacuated": len(evac),
            "evacuated_without_warning": sum(1 for c in evac if c not in first),
            "evacuated_before_warning": sum(1 for m in with_both if m < 0),
            "median_lead_min": with_both[len(with_both) // 2] if with_both else None,
        },
    }


def _hour_of_iso(text: str) -> str:
    return local_hour(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
