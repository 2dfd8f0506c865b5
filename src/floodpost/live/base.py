"""The clock-free part of the live picture, built once and then advanced change by change.

A full build reads the `agg` table (all of it: ~700,000 rows at a million events, a second or
two) and a few indexed queries. After that, each batch of new rows in `changes` is applied as a
delta — the new version of a report added, its previous version (the change before it, found by
the changes_report index) taken away — so a command post receiving reports all day never
re-reads the aggregates. Only active reports count, exactly as `agg` does.
"""

from __future__ import annotations

import json
import statistics
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from floodpost.live.places import Places
from floodpost.live.silent import last_report_by_zone
from floodpost.storage.base import Change, Store

# An incident about a reservoir that names no status implies one from its subtype.
_SUBTYPE_STATUS = {
    "seepage": "seepage",
    "piping": "danger",
    "overtopping": "danger",
    "dam_damage": "danger",
}
OPEN_STATES = ("new", "assigned", "en_route")
MEDIAN_SAMPLE = 5000
# Further behind than this, rebuilding is cheaper than replaying.
MAX_DELTA_CHANGES = 20_000
DELTA_PAGE = 2000


def body_of(row: dict[str, Any]) -> dict[str, Any]:
    b = row["body"]
    return b if isinstance(b, dict) else json.loads(b)


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
            body = body_of(row)
            status = reservoir_status_of(body)
            if status:
                out[rid] = {
                    "status": status,
                    "since_ts": body["occurred_ts"],
                    "report_id": body["id"],
                }
                break
    return out


def open_requests(store: Store) -> dict[str, dict[str, Any]]:
    # No ORDER BY: it would steer SQLite onto the (kind, seq) index and past every closed request
    # instead of the partial index of help requests by state.
    rows = store.read(
        "SELECT body FROM reports WHERE kind = 'help_request' "
        "AND state IN ('new', 'assigned', 'en_route') AND status = 'active'"
    )
    reqs = [body_of(r) for r in rows]
    reqs.sort(key=lambda r: (float(r.get("received_ts") or 0.0), r["id"]))
    return {r["id"]: r for r in reqs}


def _is_resolved(r: dict[str, Any] | None) -> bool:
    return (
        r is not None
        and r.get("kind") == "help_request"
        and r.get("status") == "active"
        and (r.get("state") == "resolved")
    )


def _duration(r: dict[str, Any]) -> float | None:
    if r.get("resolved_ts") and r.get("received_ts"):
        return max(0.0, float(r["resolved_ts"]) - float(r["received_ts"]))
    return None


@dataclass
class Base:
    seq: int
    sums: dict[tuple[str, str], list[int]]  # (kind, subtype) -> [reports, people]
    by_village: dict[tuple[str, str], int]  # (kind, village) -> people
    by_shelter: dict[str, int]
    reservoirs: dict[str, dict[str, Any]]
    requests: dict[str, dict[str, Any]]  # open help requests by id, oldest first
    resolved: int
    durations: deque[float] = field(default_factory=lambda: deque(maxlen=MEDIAN_SAMPLE))
    zone_last: dict[str, float | None] = field(default_factory=dict)
    latest: dict[str, Any] | None = None

    def service(self) -> dict[str, Any]:
        """Like the county service centres: received, resolved, median time to resolution
        (over the latest MEDIAN_SAMPLE resolutions)."""
        received = sum(v[0] for (k, _), v in self.sums.items() if k == "help_request")
        median = statistics.median(self.durations) / 60 if self.durations else None
        return {
            "received": received,
            "resolved": self.resolved,
            "median_resolution_min": None if median is None else round(median, 1),
            "median_sample": len(self.durations),
        }


def _add(b: Base, r: dict[str, Any] | None, sign: int) -> None:
    if not r or r.get("status") != "active":
        return
    kind, people = r["kind"], sign * int(r.get("people") or 0)
    acc = b.sums.setdefault((kind, r.get("subtype") or ""), [0, 0])
    acc[0] += sign
    acc[1] += people
    key = (kind, r.get("village_code") or "")
    b.by_village[key] = b.by_village.get(key, 0) + people
    if kind == "evacuation" and r.get("shelter_id"):
        b.by_shelter[r["shelter_id"]] = b.by_shelter.get(r["shelter_id"], 0) + people


def build(store: Store, places: Places) -> Base:
    """Everything from scratch (agg plus indexed reads)."""
    seq = store.last_change_seq()
    rows = store.read(
        "SELECT kind, subtype, village_code, shelter_id, SUM(reports) AS n, "
        "SUM(people) AS people FROM agg GROUP BY kind, subtype, village_code, shelter_id"
    )
    b = Base(seq=seq, sums={}, by_village={}, by_shelter={}, reservoirs={}, requests={}, resolved=0)
    for r in rows:
        kind, people, n = r["kind"], int(r["people"] or 0), int(r["n"] or 0)
        acc = b.sums.setdefault((kind, r["subtype"] or ""), [0, 0])
        acc[0] += n
        acc[1] += people
        key = (kind, r["village_code"] or "")
        b.by_village[key] = b.by_village.get(key, 0) + people
        if kind == "evacuation" and r["shelter_id"]:
            b.by_shelter[r["shelter_id"]] = b.by_shelter.get(r["shelter_id"], 0) + people
    b.reservoirs = reservoir_statuses(store, list(places.reservoirs))
    b.requests = open_requests(store)
    count = store.read(
        "SELECT COUNT(*) AS n FROM reports WHERE kind = 'help_request' AND state = 'resolved' "
        "AND status = 'active'"
    )
    b.resolved = int(count[0]["n"]) if count else 0
    # The latest resolutions, from the resolved_ts column and its index (no body to parse).
    sample = store.read(
        "SELECT resolved_ts - received_ts AS d FROM reports WHERE kind = 'help_request' "
        "AND state = 'resolved' AND status = 'active' AND resolved_ts IS NOT NULL "
        "ORDER BY resolved_ts DESC LIMIT ?",
        (MEDIAN_SAMPLE,),
    )
    b.durations.extend(max(0.0, float(r["d"])) for r in reversed(sample))
    b.zone_last = last_report_by_zone(store, list(places.zones))
    latest = store.read("SELECT received_ts, occurred_ts FROM reports ORDER BY seq DESC LIMIT 1")
    b.latest = latest[0] if latest else None
    return b


def _previous(store: Store, change: Change) -> dict[str, Any] | None:
    if change.action == "create":
        return None
    rows = store.read(
        "SELECT body FROM changes WHERE report_id = ? AND seq < ? ORDER BY seq DESC LIMIT 1",
        (change.report_id, change.seq),
    )
    return body_of(rows[0]) if rows else None


def advance(store: Store, places: Places, old: Base, target_seq: int) -> Base:
    """`old` moved forward to `target_seq` by applying the changes in between; a full build
    when that is further than MAX_DELTA_CHANGES."""
    if target_seq - old.seq > MAX_DELTA_CHANGES:
        return build(store, places)
    b = replace(
        old,
        sums={k: list(v) for k, v in old.sums.items()},
        by_village=dict(old.by_village),
        by_shelter=dict(old.by_shelter),
        requests=dict(old.requests),
        durations=deque(old.durations, maxlen=MEDIAN_SAMPLE),
    )
    reservoirs_dirty = False
    while b.seq < target_seq:
        page = store.changes_after(b.seq, DELTA_PAGE)
        if not page:
            break
        for change in page:
            if change.entity != "report":
                b.seq = change.seq
                continue
            new, prev = change.report, _previous(store, change)
            _add(b, prev, -1)
            _add(b, new, +1)
            if new.get("kind") == "help_request":
                if new.get("status") == "active" and (new.get("state") or "new") in OPEN_STATES:
                    b.requests[new["id"]] = new
                else:
                    b.requests.pop(new["id"], None)
                was, now = _is_resolved(prev), _is_resolved(new)
                b.resolved += int(now) - int(was)
                duration = _duration(new) if now and not was else None
                if duration is not None:
                    b.durations.append(duration)
            if new.get("reservoir_id") or (prev and prev.get("reservoir_id")):
                reservoirs_dirty = True
            if change.action == "create":
                b.latest = {
                    "received_ts": new.get("received_ts"),
                    "occurred_ts": new.get("occurred_ts"),
                }
            b.seq = change.seq
    if reservoirs_dirty:
        b.reservoirs = reservoir_statuses(store, list(places.reservoirs))
    b.zone_last = last_report_by_zone(store, list(places.zones))
    return b
