"""Coarse aggregates kept in memory: the report projection both screens read (issue 8).

Why: `agg` is keyed by hour × kind × subtype × township × zone × village × shelter, so over a
long log it grows towards one row per report (a million events over 40 days → ~670,000 rows) and
a GROUP BY over it takes most of a second. The review and the live panel only need four much
coarser roll-ups:

- `area`: (township, zone, village, shelter, kind, subtype) → [reports, people]   (~ thousands)
- `hourly`: (local hour, kind, subtype) → [reports, people]                       (~ 20,000)
- `evac_day`: (local date, village, shelter) → people, for evacuations           (~ 50,000)
- per report id, the few fields the help-request and reservoir figures need, and the running
  median of the time to resolution.

`Rollup` is a projection of the change log (floodpost.live.follower): seeded once from
`Store.aggregate_groups` (agg grouped in SQL, one snapshot with its seq) and the reports table,
then fed each later change with the report's previous version — the previous one taken out, the
new one put in, exactly as the store adjusts `agg`. Every rule it applies comes from
floodpost.rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from floodpost import rules
from floodpost.live.follower import ChangeFollower
from floodpost.storage.base import Change, Store, hour_of

_PAGE = 5000

AreaKey = tuple[str, str, str, str, str, str]  # township, zone, village, shelter, kind, subtype


@dataclass(slots=True)
class HelpRequest:
    """A help request's lifecycle moments, all on the command post's clock except occurred_ts.
    A resolved request is not changed again, so its last update is its resolution."""

    state: str
    occurred_ts: float
    received_ts: float
    updated_ts: float
    assigned_ts: float | None
    en_route_ts: float | None
    # When it was resolved: its own field, not the last update — a resolved request may still be
    # corrected later (older stores without the field fall back to the last update).
    resolved_ts: float | None = None
    # Whether a resolved request had been escalated: fixed once resolved, so worked out once
    # (a change to the request replaces this object).
    escalated: bool | None = None
    # When it stopped being open on the event's clock: occurrence plus how long the command
    # post took (None while open).
    resolved_end: float | None = None

    @classmethod
    def of(cls, r: dict[str, Any]) -> HelpRequest:
        h = cls(
            rules.state_of(r),
            float(r["occurred_ts"]),
            float(r["received_ts"]),
            float(r["updated_ts"]),
            _float(r.get("assigned_ts")),
            _float(r.get("en_route_ts")),
            _float(r.get("resolved_ts")),
        )
        if h.state == "resolved":
            if h.resolved_ts is None:
                h.resolved_ts = h.updated_ts
            h.resolved_end = h.occurred_ts + max(0.0, h.resolved_ts - h.received_ts)
        return h


@dataclass(slots=True)
class ReservoirReport:
    """What one active incident report says about its reservoir (rules.reservoir_status)."""

    reservoir_id: str
    occurred_ts: float
    status: str
    occurred_at: str | None


@dataclass
class Rollup:
    store: Store
    seq: int | None = None
    area: dict[AreaKey, list[int]] = field(default_factory=dict)
    hourly: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)
    evac_day: dict[tuple[str, str, str], int] = field(default_factory=dict)
    help: dict[str, HelpRequest] = field(default_factory=dict)
    reservoir: dict[str, ReservoirReport] = field(default_factory=dict)  # by report id
    resolution: rules.RunningMedian = field(default_factory=rules.RunningMedian)
    _memo: dict[str, tuple[int | None, Any]] = field(default_factory=dict)
    # Where the seed is, (done, total) in log positions (ChangeFollower.tick: warm-up progress).
    tick: Callable[[int, int], None] = field(default=lambda done, total: None, repr=False)

    def memo(self, name: str, build: Callable[[], Any]) -> Any:
        """`build()`, computed again only when the roll-up has moved on since the last time
        (for figures that need a pass over every help request or every area)."""
        hit = self._memo.get(name)
        if hit is not None and hit[0] == self.seq:
            return hit[1]
        value = build()
        self._memo[name] = (self.seq, value)
        return value

    # -- the projection ----------------------------------------------------------------------
    def reset(self) -> None:
        self.seq = None
        self.area, self.hourly, self.evac_day = {}, {}, {}
        self.help, self.reservoir = {}, {}
        self.resolution = rules.RunningMedian()
        self._memo = {}

    def seed(self) -> int:
        """Fill from agg (grouped in SQL) and the reports table; returns the seq that includes."""
        groups = self.store.aggregate_groups()
        self.tick(0, groups.seq)
        # agg keeps a group at zero once its reports are retracted; following the log drops such
        # groups (_bump), so the seed does too and both give the same rows.
        for t, z, v, s, kind, subtype, n, p in groups.area:
            if n or p:
                self.area[(t, z, v, s, kind, subtype)] = [n, p]
        for hour, kind, subtype, n, p in groups.hourly:
            if n or p:
                self.hourly[(hour, kind, subtype)] = [n, p]
        for day, v, s, _n, p in groups.evac_day:
            if p:  # evacuations of no one move no one: no entry, as when following
                self.evac_day[(day, v, s)] = p
        # Per-report parts are read after that snapshot and may be newer; being set by id, they
        # converge all the same when the changes after it are fed again.
        cursor = 0
        while True:  # paged: the lifecycle moments are only in the body
            page, nxt = self.store.list_reports(kind="help_request", after_seq=cursor, limit=_PAGE)
            for r in page:
                self._set_help(r)
            if nxt is None:
                break
            cursor = nxt
            self.tick(min(cursor, groups.seq), groups.seq)
        for r in self.store.reservoir_incidents():
            self._set_reservoir(r)
        self.seq = groups.seq
        self.tick(groups.seq, groups.seq)
        return groups.seq

    def apply(self, change: Change, previous: dict[str, Any] | None) -> None:
        if previous is not None:
            self._add(previous, -1)
        report = change.report
        self._add(report, +1)
        if report["kind"] == "help_request":
            self._set_help(report)
        elif report["kind"] == "incident":
            self._set_reservoir(report)
        self.seq = change.seq

    # -- one report in or out ----------------------------------------------------------------
    def _add(self, r: dict[str, Any], sign: int) -> None:
        if not rules.is_active(r):
            return
        kind = r["kind"]
        subtype = r.get("subtype") or ""
        people = sign * int(r.get("people") or 0)
        village = r.get("village_code") or ""
        shelter = r.get("shelter_id") or ""
        key = (
            r.get("township_code") or "",
            r.get("zone_id") or "",
            village,
            shelter,
            kind,
            subtype,
        )
        _bump(self.area, key, sign, people)
        hour = hour_of(r["occurred_ts"])  # the store's own hour buckets (agg)
        _bump(self.hourly, (hour, kind, subtype), sign, people)
        if kind == "evacuation":
            day_key = (hour[:10], village, shelter)
            total = self.evac_day.get(day_key, 0) + people
            if total:
                self.evac_day[day_key] = total
            else:
                self.evac_day.pop(day_key, None)

    def _set_help(self, r: dict[str, Any]) -> None:
        rid = r["id"]
        if rules.is_active(r):
            self.help[rid] = HelpRequest.of(r)
        else:
            self.help.pop(rid, None)
        self.resolution.set(rid, rules.resolution_s(r))

    def _set_reservoir(self, r: dict[str, Any]) -> None:
        status = rules.reservoir_status(r)
        if status:
            self.reservoir[r["id"]] = ReservoirReport(
                r["reservoir_id"], float(r["occurred_ts"]), status, r.get("occurred_at")
            )
        else:
            self.reservoir.pop(r["id"], None)


def follow(follower: ChangeFollower) -> Rollup:
    """A roll-up of `follower`'s store, subscribed to it (seeded from agg)."""
    rollup = Rollup(follower.store, tick=follower.tick)
    # Its seed is most of a warm-up: 2.5 s of the 2.6 s follower.sync() takes at 200,000 events
    # (cProfile, December 2026); the live projection's seed and the catch-up weigh 1 each.
    follower.subscribe(rollup, seed=rollup.seed, name="rollup", weight=8.0)
    return rollup


def _bump(d: dict[Any, list[int]], key: Any, n: int, people: int) -> None:
    acc = d.get(key)
    if acc is None:
        d[key] = [n, people]
    else:
        acc[0] += n
        acc[1] += people
        if acc[0] == 0 and acc[1] == 0:
            del d[key]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
