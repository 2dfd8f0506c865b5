"""Sums of people by township, zone, village, day and hour.

The summary and every breakdown are folded by the same `add_metrics` from the same roll-up
(`floodpost.stats.rollup`, itself the coarse form of the store's `agg` table: active reports in
their latest state), which is why the rows of a breakdown always add up to the summary; reports
that could not be routed keep a row of their own with the key "" (shown as "unassigned").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date as Date
from typing import Any

from floodpost import rules
from floodpost.errors import InvalidInput
from floodpost.stats.reference import UNASSIGNED, Reference
from floodpost.stats.risk import at_risk_now
from floodpost.stats.rollup import Rollup

# The people/report sums every row carries.
METRICS = ("evacuated", "rescued", "deaths", "missing", "help_requests", "incidents", "reports")

# Breakdown levels: URL name → (row key, position in the roll-up's area key).
LEVELS = {"township": ("township_code", 0), "zone": ("zone_id", 1), "village": ("village_code", 2)}


def empty_metrics() -> dict[str, int]:
    return dict.fromkeys(METRICS, 0)


def add_metrics(acc: dict[str, int], kind: str, subtype: str, reports: int, people: int) -> None:
    """Add one aggregate (kind, subtype, report count, people) to a metrics dict."""
    acc["reports"] += reports
    figure = rules.people_figure(kind, subtype)
    if figure is not None:
        acc[figure] += people
    if kind == "help_request":
        acc["help_requests"] += reports
    elif kind == "incident":
        acc["incidents"] += reports


def _sum(items: Iterable[dict[str, int]]) -> dict[str, int]:
    total = empty_metrics()
    for m in items:
        for name in METRICS:
            total[name] += m[name]
    return total


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def per_hour(rollup: Rollup) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (hour, kind, subtype), (n, p) in rollup.hourly.items():
        acc = out.get(hour)
        if acc is None:
            acc = out[hour] = empty_metrics()
        add_metrics(acc, kind, subtype, n, p)
    return out


def totals(rollup: Rollup, *, until_hour: str | None = None) -> dict[str, int]:
    acc = empty_metrics()
    for (hour, kind, subtype), (n, p) in rollup.hourly.items():
        if until_hour is None or hour <= until_hour:
            add_metrics(acc, kind, subtype, n, p)
    return acc


def by_area(rollup: Rollup, ref: Reference, level: str) -> dict[str, Any]:
    """Rows per township / zone / village (every known area, plus "unassigned" when needed)."""
    if level not in LEVELS:
        raise InvalidInput(f"unknown breakdown {level!r}", field="level")
    column, pos = LEVELS[level]
    at_risk_villages = at_risk_now(rollup, ref.risk)
    folded: dict[str, dict[str, int]] = {}
    for key, (n, p) in rollup.area.items():
        k = key[pos] or UNASSIGNED
        acc = folded.get(k)
        if acc is None:
            acc = folded[k] = empty_metrics()
        add_metrics(acc, key[4], key[5], n, p)
    names = {
        "township_code": ref.township_names,
        "zone_id": ref.zone_names,
        "village_code": ref.village_names,
    }[column]
    keys = list(names)
    keys += sorted(k for k in folded if k not in names and k != UNASSIGNED)
    if UNASSIGNED in folded:
        keys.append(UNASSIGNED)
    rows = []
    for k in keys:
        m = folded.get(k) or empty_metrics()
        at_risk = ref.at_risk_of(column, k, at_risk_villages) if k else 0
        row: dict[str, Any] = {
            column: k,
            "name": names.get(k, ""),
            "unassigned": k == UNASSIGNED,
            "population_at_risk": at_risk,
            **m,
            "evacuated_pct": _pct(m["evacuated"], at_risk),
        }
        if column == "zone_id":
            row["owner"] = ref.zone_owner.get(k, "")
            row["township_code"] = ref.zone_township.get(k, "")
        elif column == "village_code":
            row["township_code"] = ref.village_township.get(k, "")
            row["zone_id"] = ref.village_zone.get(k, "")
        rows.append(row)
    return {"level": level, "rows": rows, "total": _sum(folded.values())}


def by_day(rollup: Rollup, day: str | None = None) -> dict[str, Any]:
    """Rows per local date (Asia/Shanghai); with `day` (YYYY-MM-DD), rows per hour of that day."""
    hours = per_hour(rollup)
    if day is not None:
        try:
            # Only the extended form: fromisoformat also takes 20170701, which is no row key.
            if len(day) != 10 or day[4] != "-" or Date.fromisoformat(day).year < 1970:
                raise ValueError(day)
        except ValueError:
            raise InvalidInput("date must be YYYY-MM-DD, from 1970", field="date") from None
        rows: list[dict[str, Any]] = [
            {"hour": f"{day}T{h:02d}", **(hours.get(f"{day}T{h:02d}") or empty_metrics())}
            for h in range(24)
        ]
        return {"date": day, "rows": rows, "total": _sum(r for r in rows)}
    per_day: dict[str, dict[str, int]] = {}
    for hour, m in hours.items():
        acc = per_day.setdefault(hour[:10], empty_metrics())
        for name in METRICS:
            acc[name] += m[name]
    rows = [{"date": d, **per_day[d]} for d in sorted(per_day)]
    return {"rows": rows, "total": _sum(per_day.values())}


def hour_range(rollup: Rollup) -> tuple[str | None, str | None]:
    """First and last local hour with any active report ('YYYY-MM-DDTHH')."""
    hours = [h for (h, _, _), (n, _) in rollup.hourly.items() if n > 0]
    return (min(hours), max(hours)) if hours else (None, None)


def evacuated_until(
    rollup: Rollup, until_hour: str | None
) -> tuple[dict[str, int], dict[str, int]]:
    """People evacuated up to the end of `until_hour`, per village and per shelter. Whole days
    come from the roll-up; the hours of the last day from `agg` (one day is a small range of
    its primary key)."""
    villages: dict[str, int] = {}
    shelters: dict[str, int] = {}

    def add(village: str, shelter: str, people: int) -> None:
        if village:
            villages[village] = villages.get(village, 0) + people
        if shelter:
            shelters[shelter] = shelters.get(shelter, 0) + people

    if until_hour is None:
        for key, (_, p) in rollup.area.items():
            if key[4] == "evacuation":
                add(key[2], key[3], p)
        return villages, shelters
    day = until_hour[:10]
    for (d, village, shelter), p in rollup.evac_day.items():
        if d < day:
            add(village, shelter, p)
    for village, shelter, people in rollup.store.evacuated_between(f"{day}T00", until_hour):
        add(village, shelter, people)
    return villages, shelters


def shelter_occupancy(
    rollup: Rollup,
    ref: Reference,
    *,
    until_hour: str | None = None,
    people: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """People evacuated to each shelter. Reports record arrivals only (nobody reports going
    home), so the cumulative count up to a moment is the peak occupancy up to that moment.
    `people` per shelter may be passed when the caller already has it (evacuated_until)."""
    if people is None:
        _, people = evacuated_until(rollup, until_hour)
    out = []
    for sid in list(ref.shelter_capacity) + sorted(set(people) - set(ref.shelter_capacity)):
        cap = ref.shelter_capacity.get(sid, 0)
        n = people.get(sid, 0)
        out.append(
            {
                "shelter_id": sid,
                "name": ref.shelter_names.get(sid, ""),
                "capacity": cap,
                "occupancy": n,
                "occupancy_pct": _pct(n, cap),
            }
        )
    return out
