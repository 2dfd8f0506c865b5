"""The live picture for the command-post map: one JSON snapshot, then deltas on the stream.

Everything here reads the `agg` table (a few thousand rows however long the log) or indexed
queries (open help requests, latest reservoir reports, last report per zone), so it stays fast
with a million events. The heavy part is cached per `changes.seq` (nothing changed → reuse);
what depends on the clock (escalation, silence) is recomputed on each call.

Population at risk of a village (the denominator of evacuation progress):
- its whole population if it is low-lying or near a river, or lies downstream of a reservoir whose
  latest status is danger or failed;
- otherwise 0 (not at risk) — unless people were evacuated from it anyway, in which case the
  command post judged it at risk and its whole population counts.
"""

from __future__ import annotations

import json
import statistics
import threading
from dataclasses import dataclass
from typing import Any

from floodpost.live.escalation import Rules, annotate
from floodpost.live.places import Places
from floodpost.live.silent import last_report_by_zone, zone_silence
from floodpost.storage.base import Store

DANGER = ("danger", "failed")
# An incident about a reservoir that names no status implies one from its subtype.
_SUBTYPE_STATUS = {
    "seepage": "seepage",
    "piping": "danger",
    "overtopping": "danger",
    "dam_damage": "danger",
}
MEDIAN_SAMPLE = 5000
REQUEST_FIELDS = (
    "id", "lon", "lat", "village_code", "township_code", "zone_id", "responsible", "people",
    "urgency", "state", "assignee", "received_ts", "occurred_ts", "state_ts", "contact",
    "reporter", "version", "note",
)  # fmt: skip
FEED_FIELDS = (
    "id", "kind", "subtype", "lon", "lat", "village_code", "township_code", "zone_id", "people",
    "urgency", "state", "status", "received_ts", "occurred_ts", "reporter", "note", "team",
    "shelter_id", "reservoir_id", "reservoir_status", "version", "resolution", "assignee",
)  # fmt: skip


def _body(row: dict[str, Any]) -> dict[str, Any]:
    b = row["body"]
    return b if isinstance(b, dict) else json.loads(b)


def _pick(report: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    out = {f: report.get(f) for f in fields}
    if isinstance(out.get("note"), str) and len(out["note"]) > 280:
        out["note"] = out["note"][:280] + "…"
    return out


def reservoir_status_of(report: dict[str, Any]) -> str | None:
    return report.get("reservoir_status") or _SUBTYPE_STATUS.get(report.get("subtype") or "")


def reservoir_statuses(store: Store, reservoir_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Latest status per reservoir from its incident reports (by occurred time)."""
    out = {}
    for rid in reservoir_ids:
        rows = store.read(
            "SELECT body FROM reports WHERE reservoir_id = ? AND status = 'active' "
            "ORDER BY occurred_ts DESC LIMIT 20",
            (rid,),
        )
        for row in rows:
            body = _body(row)
            status = reservoir_status_of(body)
            if status:
                out[rid] = {
                    "status": status,
                    "since_ts": body["occurred_ts"],
                    "report_id": body["id"],
                }
                break
    return out


def open_requests(store: Store, reporter: str | None = None) -> list[dict[str, Any]]:
    sql = (
        "SELECT body FROM reports WHERE kind = 'help_request' "
        "AND state IN ('new', 'assigned', 'en_route') AND status = 'active'"
    )
    params: list[Any] = []
    if reporter is not None:
        sql += " AND reporter = ?"
        params.append(reporter)
    return [_body(r) for r in store.read(sql + " ORDER BY seq", params)]


def service_numbers(store: Store, received: int) -> dict[str, Any]:
    """Like the county service centres: received, resolved, median time to resolution."""
    rows = store.read(
        "SELECT COUNT(*) AS n FROM reports WHERE kind = 'help_request' AND state = 'resolved' "
        "AND status = 'active'"
    )
    resolved = int(rows[0]["n"]) if rows else 0
    sample = store.read(
        "SELECT body FROM reports WHERE kind = 'help_request' AND state = 'resolved' "
        "AND status = 'active' ORDER BY seq DESC LIMIT ?",
        (MEDIAN_SAMPLE,),
    )
    durations = []
    for row in sample:
        b = _body(row)
        if b.get("resolved_ts") and b.get("received_ts"):
            durations.append(max(0.0, float(b["resolved_ts"]) - float(b["received_ts"])))
    median = round(statistics.median(durations) / 60, 1) if durations else None
    return {
        "received": received,
        "resolved": resolved,
        "median_resolution_min": median,
        "median_sample": len(durations),
    }


def feed(
    store: Store,
    *,
    kind: str | None = None,
    township: str | None = None,
    reporter: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The newest reports first, optionally one kind / one township (indexed by kind or township
    with seq)."""
    where, params = [], []
    for column, value in (("kind", kind), ("township_code", township), ("reporter", reporter)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    sql = "SELECT body FROM reports"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq DESC LIMIT ?"
    return [
        _pick(_body(r), FEED_FIELDS) for r in store.read(sql, (*params, max(1, min(limit, 500))))
    ]


@dataclass
class _Base:
    seq: int
    sums: dict[tuple[str, str], list[int]]  # (kind, subtype) -> [reports, people]
    by_village: dict[tuple[str, str], int]  # (kind, village) -> people
    by_shelter: dict[str, int]
    reservoirs: dict[str, dict[str, Any]]
    requests: list[dict[str, Any]]
    service: dict[str, Any]
    zone_last: dict[str, float | None]
    latest: dict[str, Any] | None


class LiveState:
    """Builds snapshots for one store and place set; caches the clock-free part per seq."""

    def __init__(self, store: Store, places: Places, rules: Rules, silent_hours: float) -> None:
        self.store = store
        self.places = places
        self.rules = rules
        self.silent_hours = silent_hours
        self._lock = threading.Lock()
        self._base: _Base | None = None

    def _load_base(self) -> _Base:
        seq = self.store.last_change_seq()
        with self._lock:
            if self._base is not None and self._base.seq == seq:
                return self._base
        rows = self.store.read(
            "SELECT kind, subtype, village_code, shelter_id, SUM(reports) AS n, "
            "SUM(people) AS people FROM agg GROUP BY kind, subtype, village_code, shelter_id"
        )
        sums: dict[tuple[str, str], list[int]] = {}
        by_village: dict[tuple[str, str], int] = {}
        by_shelter: dict[str, int] = {}
        for r in rows:
            kind, people, n = r["kind"], int(r["people"] or 0), int(r["n"] or 0)
            acc = sums.setdefault((kind, r["subtype"] or ""), [0, 0])
            acc[0] += n
            acc[1] += people
            key = (kind, r["village_code"] or "")
            by_village[key] = by_village.get(key, 0) + people
            if kind == "evacuation" and r["shelter_id"]:
                by_shelter[r["shelter_id"]] = by_shelter.get(r["shelter_id"], 0) + people
        received = sum(v[0] for (k, _), v in sums.items() if k == "help_request")
        latest_rows = self.store.read(
            "SELECT received_ts, occurred_ts, kind FROM reports ORDER BY seq DESC LIMIT 1"
        )
        base = _Base(
            seq=seq,
            sums=sums,
            by_village=by_village,
            by_shelter=by_shelter,
            reservoirs=reservoir_statuses(self.store, list(self.places.reservoirs)),
            requests=open_requests(self.store),
            service=service_numbers(self.store, received),
            zone_last=last_report_by_zone(self.store, list(self.places.zones)),
            latest=latest_rows[0] if latest_rows else None,
        )
        with self._lock:
            self._base = base
        return base

    def snapshot(
        self, now: float, *, reporter: str | None = None, with_requests: bool = True
    ) -> dict[str, Any]:
        """The whole live picture. `reporter` (a field member) limits individual reports to
        their own; aggregates stay county-wide, as on a public situation board. Without
        `with_requests` the open requests are counted but not listed (a page refreshing its
        aggregates already follows each request on the stream)."""
        b = self._load_base()
        people = {k: v[1] for k, v in b.sums.items()}

        def total(kind: str, subtype: str | None = None) -> int:
            return sum(v for (k, s), v in people.items() if k == kind and subtype in (None, s))

        reservoirs = self._reservoirs(b)
        danger_villages = {c for r in reservoirs if r["status"] in DANGER for c in r["downstream"]}
        villages = self._villages(b, danger_villages)
        remaining = {v["code"]: v["remaining"] for v in villages}
        for r in reservoirs:
            r["not_evacuated"] = sum(remaining.get(c, 0) for c in r["downstream"])
        requests = b.requests
        if reporter is not None:
            requests = [r for r in requests if r.get("reporter") == reporter]
        annotated = annotate(requests, now, self.rules)
        deaths, missing = total("incident", "death"), total("incident", "missing")
        failed = sum(1 for r in reservoirs if r["status"] == "failed")
        in_danger = sum(1 for r in reservoirs if r["status"] in DANGER)
        totals = {
            "evacuated": total("evacuation"),
            "rescued": total("rescue"),
            "deaths": deaths,
            "missing": missing,
            "open_help_requests": len(annotated),
            "people_awaiting_help": sum(int(r.get("people") or 0) for r in annotated),
            "escalated_help_requests": sum(1 for r in annotated if r["escalated"]),
            "reservoirs_in_danger": in_danger,
            "reservoirs_failed": failed,
            "latest_report_ts": (b.latest or {}).get("received_ts"),
            "latest_occurred_ts": (b.latest or {}).get("occurred_ts"),
            "guarantees": {
                # 两个确保: 不垮一库一坝 (no reservoir or dam fails), 不死一人 (nobody dies).
                "no_dam_fails": "broken" if failed else ("at_risk" if in_danger else "kept"),
                "nobody_dies": "broken" if deaths else ("at_risk" if missing else "kept"),
            },
        }
        zones = zone_silence(self.places.zones, b.zone_last, now, self.silent_hours)
        return {
            "seq": b.seq,
            "now": now,
            "rules": {
                "escalate_unassigned_min": self.rules.unassigned_min,
                "escalate_stale_min": self.rules.stale_min,
                "duplicate_radius_m": self.rules.duplicate_radius_m,
                "duplicate_window_min": self.rules.duplicate_window_min,
                "silent_zone_hours": self.silent_hours,
            },
            "totals": totals,
            "service": {**b.service, "open": len(annotated)},
            "villages": villages,
            "shelters": self._shelters(b),
            "reservoirs": reservoirs,
            "zones": zones,
            "requests": [
                {
                    **_pick(r, REQUEST_FIELDS),
                    "escalated": r["escalated"],
                    "age_min": r["age_min"],
                    "likely_duplicate_of": r["likely_duplicate_of"],
                }
                for r in annotated
            ]
            if with_requests
            else None,
        }

    def _reservoirs(self, b: _Base) -> list[dict[str, Any]]:
        out = []
        for rid, res in self.places.reservoirs.items():
            st = b.reservoirs.get(rid) or {}
            out.append(
                {
                    "id": rid,
                    "name": res.get("name"),
                    "lon": res.get("lon"),
                    "lat": res.get("lat"),
                    "status": st.get("status", "normal"),
                    "since_ts": st.get("since_ts"),
                    "report_id": st.get("report_id"),
                    "downstream": [str(c) for c in res.get("downstream_villages") or []],
                }
            )
        return out

    def _villages(self, b: _Base, danger: set[str]) -> list[dict[str, Any]]:
        out = []
        for code, v in self.places.villages.items():
            population = int(v.get("population") or 0)
            evacuated = b.by_village.get(("evacuation", code), 0)
            flagged = bool(v.get("low_lying") or v.get("near_river")) or code in danger
            at_risk = population if (flagged or evacuated) else 0
            out.append(
                {
                    "code": code,
                    "lon": v.get("lon"),
                    "lat": v.get("lat"),
                    "population": population,
                    "at_risk": at_risk,
                    "evacuated": evacuated,
                    "remaining": max(0, at_risk - evacuated),
                    "progress": round(min(1.0, evacuated / at_risk), 3) if at_risk else None,
                    "rescued": b.by_village.get(("rescue", code), 0),
                    "downstream_of_danger": code in danger,
                }
            )
        return out

    def _shelters(self, b: _Base) -> list[dict[str, Any]]:
        out = []
        for sid, s in self.places.shelters.items():
            capacity = int(s.get("capacity") or 0)
            occupancy = b.by_shelter.get(sid, 0)
            out.append(
                {
                    "id": sid,
                    "name": s.get("name"),
                    "lon": s.get("lon"),
                    "lat": s.get("lat"),
                    "capacity": capacity,
                    "occupancy": occupancy,
                    "ratio": round(occupancy / capacity, 3) if capacity else None,
                }
            )
        return out
