"""The live picture for the command-post map: one JSON snapshot, then deltas on the stream.

Two projections of the change log, both fed by the app's one ChangeFollower, make it: the report
roll-up the review reads too (floodpost.stats.rollup: sums of people, villages, shelters,
reservoirs, help-request service) and the live map's own (floodpost.live.base: open requests,
newest report, silent zones). So every figure on the live panel is the review's figure at the
same log position, by the same rules (floodpost.rules: population at risk, reservoir status,
escalation). What depends on the clock (escalation, silence) is recomputed on each call.
"""

from __future__ import annotations

from typing import Any

from floodpost import rules as domain
from floodpost.live.base import LiveProjection
from floodpost.live.escalation import Rules, annotate
from floodpost.live.follower import ChangeFollower
from floodpost.live.places import Places
from floodpost.live.silent import zone_silence
from floodpost.stats.breakdowns import evacuated_until, totals
from floodpost.stats.requests import service_figures
from floodpost.stats.risk import at_risk_now, latest_reservoir_reports, people_by_village
from floodpost.stats.rollup import Rollup, follow
from floodpost.storage.base import Store

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
    rows = store.newest_reports(
        kind=kind, township=township, reporter=reporter, limit=max(1, min(limit, 500))
    )
    return [_pick(r, FEED_FIELDS) for r in rows]


class LiveState:
    """Builds snapshots for one store and place set from the app's follower and report roll-up
    (made here when not given: a state of its own, as in tests)."""

    def __init__(
        self,
        store: Store,
        places: Places,
        rules: Rules,
        silent_hours: float,
        *,
        follower: ChangeFollower | None = None,
        rollup: Rollup | None = None,
    ) -> None:
        self.store = store
        self.places = places
        self.rules = rules
        self.silent_hours = silent_hours
        self.follower = follower or ChangeFollower(store)
        self.rollup = rollup or follow(self.follower)
        self.risk = domain.RiskPlaces.of(places.villages, places.reservoirs)
        self.live = LiveProjection(store, list(places.zones))
        self.follower.subscribe(self.live, seed=self.live.seed, name="live")

    def snapshot(
        self, now: float, *, reporter: str | None = None, with_requests: bool = True
    ) -> dict[str, Any]:
        """The whole live picture. `reporter` (a field member) limits individual reports to
        their own; aggregates stay county-wide, as on a public situation board. Without
        `with_requests` the open requests are counted but not listed (a page refreshing its
        aggregates already follows each request on the stream). Raises WarmingUp while the
        app's follower is warming up (ChangeFollower.try_current)."""
        with self.follower.try_current() as seq:
            rollup = self.rollup
            sums = rollup.memo("totals", lambda: totals(rollup))
            reservoirs = self._reservoirs(rollup)
            villages = self._villages(rollup, reservoirs)
            shelters = self._shelters(rollup)
            service = service_figures(rollup)
            requests = list(self.live.requests.values())
            latest = self.live.latest or {}
            zone_last = self.live.zone_last()
        remaining = {v["code"]: v["remaining"] for v in villages}
        for r in reservoirs:
            r["not_evacuated"] = sum(remaining.get(c, 0) for c in r["downstream"])
        if reporter is not None:
            requests = [r for r in requests if r.get("reporter") == reporter]
        annotated = annotate(requests, now, self.rules)
        deaths, missing = sums["deaths"], sums["missing"]
        failed = sum(1 for r in reservoirs if r["status"] == "failed")
        in_danger = sum(1 for r in reservoirs if domain.in_danger(r["status"]))
        totals_out = {
            "evacuated": sums["evacuated"],
            "rescued": sums["rescued"],
            "deaths": deaths,
            "missing": missing,
            "open_help_requests": len(annotated),
            "people_awaiting_help": sum(int(r.get("people") or 0) for r in annotated),
            "escalated_help_requests": sum(1 for r in annotated if r["escalated"]),
            "reservoirs_in_danger": in_danger,
            "reservoirs_failed": failed,
            "latest_report_ts": latest.get("received_ts"),
            "latest_occurred_ts": latest.get("occurred_ts"),
            "guarantees": {
                # 两个确保: 不垮一库一坝 (no reservoir or dam fails), 不死一人 (nobody dies).
                "no_dam_fails": "broken" if failed else ("at_risk" if in_danger else "kept"),
                "nobody_dies": "broken" if deaths else ("at_risk" if missing else "kept"),
            },
        }
        zones = zone_silence(self.places.zones, zone_last, now, self.silent_hours)
        return {
            "seq": seq,
            "now": now,
            "rules": {
                "escalate_unassigned_min": self.rules.unassigned_min,
                "escalate_stale_min": self.rules.stale_min,
                "duplicate_radius_m": self.rules.duplicate_radius_m,
                "duplicate_window_min": self.rules.duplicate_window_min,
                "silent_zone_hours": self.silent_hours,
            },
            "totals": totals_out,
            "service": {**service, "open": len(annotated)},
            "villages": villages,
            "shelters": shelters,
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

    def _reservoirs(self, rollup: Rollup) -> list[dict[str, Any]]:
        latest = latest_reservoir_reports(rollup)
        out = []
        for rid, res in self.places.reservoirs.items():
            found = latest.get(rid)
            out.append(
                {
                    "id": rid,
                    "name": res.get("name"),
                    "lon": res.get("lon"),
                    "lat": res.get("lat"),
                    "status": found[1].status if found else "normal",
                    "since_ts": found[1].occurred_ts if found else None,
                    "report_id": found[0] if found else None,
                    "downstream": list(self.risk.downstream.get(rid, ())),
                }
            )
        return out

    def _villages(self, rollup: Rollup, reservoirs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        below = self.risk.below_danger({r["id"]: r["status"] for r in reservoirs})
        at_risk_of = at_risk_now(rollup, self.risk)
        evacuated_of = people_by_village(rollup, "evacuated")
        rescued_of = people_by_village(rollup, "rescued")
        out = []
        for code, v in self.places.villages.items():
            population = self.risk.population.get(code, 0)
            evacuated = evacuated_of.get(code, 0)
            at_risk = at_risk_of.get(code, 0)
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
                    "rescued": rescued_of.get(code, 0),
                    "downstream_of_danger": code in below,
                }
            )
        return out

    def _shelters(self, rollup: Rollup) -> list[dict[str, Any]]:
        _, by_shelter = rollup.memo("evacuated_until_now", lambda: evacuated_until(rollup, None))
        out = []
        for sid, s in self.places.shelters.items():
            capacity = int(s.get("capacity") or 0)
            occupancy = by_shelter.get(sid, 0)
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
