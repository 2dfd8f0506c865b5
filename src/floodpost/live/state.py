"""The live picture for the command-post map: one JSON snapshot, then deltas on the stream.

The clock-free part (floodpost.live.base) is built once from the `agg` table and indexed queries,
then advanced change by change as the log grows, so it stays fast with a million events; what
depends on the clock (escalation, silence) is recomputed on each call.

Population at risk of a village (the denominator of evacuation progress):
- its whole population if it is low-lying or near a river, or lies downstream of a reservoir whose
  latest status is danger or failed;
- otherwise 0 (not at risk) — unless people were evacuated from it anyway, in which case the
  command post judged it at risk and its whole population counts.
"""

from __future__ import annotations

import threading
from typing import Any

from floodpost.live.base import Base, advance, body_of, build
from floodpost.live.escalation import Rules, annotate
from floodpost.live.places import Places
from floodpost.live.silent import zone_silence
from floodpost.storage.base import Store

DANGER = ("danger", "failed")
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


def _pick(report: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {f: report.get(f) for f in fields}
    if isinstance(out.get("note"), str) and len(out["note"]) > 280:
        out["note"] = out["note"][:280] + "…"
    return out


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
        _pick(body_of(r), FEED_FIELDS) for r in store.read(sql, (*params, max(1, min(limit, 500))))
    ]


class LiveState:
    """Builds snapshots for one store and place set; caches the clock-free part per seq."""

    def __init__(self, store: Store, places: Places, rules: Rules, silent_hours: float) -> None:
        self.store = store
        self.places = places
        self.rules = rules
        self.silent_hours = silent_hours
        self._lock = threading.Lock()
        self._base: Base | None = None
        self._build_lock = threading.Lock()

    def _load_base(self) -> Base:
        seq = self.store.last_change_seq()
        with self._lock:
            current = self._base
        if current is not None and current.seq == seq:
            return current
        # One builder at a time; others wait for its result rather than repeating the work.
        with self._build_lock:
            with self._lock:
                current = self._base
            if current is not None and current.seq >= seq:
                return current
            if current is None:
                fresh = build(self.store, self.places)
            else:
                fresh = advance(self.store, self.places, current, seq)
            with self._lock:
                self._base = fresh
            return fresh

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
        requests = list(b.requests.values())
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
            "service": {**b.service(), "open": len(annotated)},
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

    def _reservoirs(self, b: Base) -> list[dict[str, Any]]:
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

    def _villages(self, b: Base, danger: set[str]) -> list[dict[str, Any]]:
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

    def _shelters(self, b: Base) -> list[dict[str, Any]]:
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
