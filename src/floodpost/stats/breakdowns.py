"""Sums of people by township, zone, village, day and hour, folded from the `agg` table.

`agg` holds one row per local hour × kind × subtype × township × zone × village × shelter for the
ACTIVE reports in their latest state (the store adjusts it in the same transaction as every
create, correction and retraction), so these queries read a few thousand rows however long the
log is. The summary and every breakdown are folded by the same `fold_metrics`, which is why the
rows of a breakdown always add up to the summary; reports that could not be routed keep a row of
their own with the key "" (shown as "unassigned").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date as Date
from typing import Any

from floodpost.errors import InvalidInput
from floodpost.stats.reference import UNASSIGNED, Reference
from floodpost.storage.base import Store

# The people/report sums every row carries.
METRICS = ("evacuated", "rescued", "deaths", "missing", "help_requests", "incidents", "reports")

# Breakdown levels: URL name → agg column.
LEVELS = {"township": "township_code", "zone": "zone_id", "village": "village_code"}


def empty_metrics() -> dict[str, int]:
    return dict.fromkeys(METRICS, 0)


def add_agg_row(acc: dict[str, int], kind: str, subtype: str, reports: int, people: int) -> None:
    """Add one grouped agg row (kind, subtype, report count, people) to a metrics dict."""
    acc["reports"] += reports
    if kind == "evacuation":
        acc["evacuated"] += people
    elif kind == "rescue":
        acc["rescued"] += people
    elif kind == "help_request":
        acc["help_requests"] += reports
    elif kind == "incident":
        acc["incidents"] += reports
        if subtype == "death":
            acc["deaths"] += people
        elif subtype == "missing":
            acc["missing"] += people


def fold_metrics(rows: Iterable[dict[str, Any]], key: str | None) -> dict[str, dict[str, int]]:
    """{key value: metrics} from rows of (key, kind, subtype, n, p); key None → {"": total}."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        k = (r[key] or UNASSIGNED) if key else UNASSIGNED
        acc = out.get(k)
        if acc is None:
            acc = out[k] = empty_metrics()
        add_agg_row(acc, r["kind"], r["subtype"] or "", int(r["n"] or 0), int(r["p"] or 0))
    return out


def grouped(
    store: Store, key: str | None, *, where: str = "", params: tuple[Any, ...] = ()
) -> list[dict[str, Any]]:
    """agg grouped by (key, kind, subtype); `key` is an agg column (checked against AGG names)."""
    cols = f"{key}, " if key else ""
    sql = (
        f"SELECT {cols}kind, subtype, SUM(reports) AS n, SUM(people) AS p FROM agg "
        f"{'WHERE ' + where if where else ''} GROUP BY {cols}kind, subtype"
    )
    return store.read(sql, params)


def totals(store: Store, *, until_hour: str | None = None) -> dict[str, int]:
    where, params = ("hour <= ?", (until_hour,)) if until_hour else ("", ())
    return fold_metrics(grouped(store, None, where=where, params=params), None).get(
        UNASSIGNED, empty_metrics()
    )


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def by_area(store: Store, ref: Reference, level: str) -> dict[str, Any]:
    """Rows per township / zone / village (every known area, plus "unassigned" when needed)."""
    if level not in LEVELS:
        raise InvalidInput(f"unknown breakdown {level!r}", field="level")
    column = LEVELS[level]
    folded = fold_metrics(grouped(store, column), column)
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
        at_risk = ref.at_risk_of(column, k) if k else 0
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
    total = empty_metrics()
    for m in folded.values():
        for name in METRICS:
            total[name] += m[name]
    return {"level": level, "rows": rows, "total": total}


def by_day(store: Store, day: str | None = None) -> dict[str, Any]:
    """Rows per local date (Asia/Shanghai); with `day` (YYYY-MM-DD), rows per hour of that day."""
    if day is not None:
        try:
            Date.fromisoformat(day)
        except ValueError:
            raise InvalidInput("date must be YYYY-MM-DD", field="date") from None
        lo, hi = f"{day}T00", f"{day}T23"
        folded = fold_metrics(
            grouped(store, "hour", where="hour >= ? AND hour <= ?", params=(lo, hi)), "hour"
        )
        rows = [
            {"hour": f"{day}T{h:02d}", **(folded.get(f"{day}T{h:02d}") or empty_metrics())}
            for h in range(24)
        ]
        total = _sum(folded.values())
        return {"date": day, "rows": rows, "total": total}
    per_hour = fold_metrics(grouped(store, "hour"), "hour")
    per_day: dict[str, dict[str, int]] = {}
    for hour, m in per_hour.items():
        acc = per_day.setdefault(hour[:10], empty_metrics())
        for name in METRICS:
            acc[name] += m[name]
    rows = [{"date": d, **per_day[d]} for d in sorted(per_day)]
    return {"rows": rows, "total": _sum(per_day.values())}


def _sum(items: Iterable[dict[str, int]]) -> dict[str, int]:
    total = empty_metrics()
    for m in items:
        for name in METRICS:
            total[name] += m[name]
    return total


def hour_range(store: Store) -> tuple[str | None, str | None]:
    """First and last local hour with any active report ('YYYY-MM-DDTHH')."""
    rows = store.read("SELECT MIN(hour) AS lo, MAX(hour) AS hi FROM agg WHERE reports > 0")
    return (rows[0]["lo"], rows[0]["hi"]) if rows else (None, None)


def shelter_occupancy(
    store: Store, ref: Reference, *, until_hour: str | None = None
) -> list[dict[str, Any]]:
    """People evacuated to each shelter. Reports record arrivals only (nobody reports going
    home), so the cumulative count up to a moment is the peak occupancy up to that moment."""
    where = "kind = 'evacuation' AND shelter_id <> ''"
    params: tuple[Any, ...] = ()
    if until_hour:
        where += " AND hour <= ?"
        params = (until_hour,)
    rows = store.read(
        f"SELECT shelter_id, SUM(people) AS p FROM agg WHERE {where} GROUP BY shelter_id", params
    )
    people = {r["shelter_id"]: int(r["p"] or 0) for r in rows}
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
