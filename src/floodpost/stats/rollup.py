"""Coarse aggregates kept in memory and brought up to date from the change log.

Why: `agg` is keyed by hour × kind × subtype × township × zone × village × shelter, so over a
long log it grows towards one row per report (a million events over 40 days → ~670,000 rows) and
a GROUP BY over it takes most of a second. The review only needs four much coarser roll-ups:

- `area`: (township, zone, village, shelter, kind, subtype) → [reports, people]   (~ thousands)
- `hourly`: (local hour, kind, subtype) → [reports, people]                       (~ 20,000)
- `evac_day`: (local date, village, shelter) → people, for evacuations           (~ 50,000)
- per report id, the few fields the help-request and reservoir figures need.

They are built once from `agg` (grouped in SQL) and the reports table, then kept current by
reading the change log after the last sequence number seen: for each change the report's previous
snapshot (its previous change) is taken out and the new one put in, exactly as the store adjusts
`agg`. Every statistic first calls `refresh()`, which costs one indexed read when nothing changed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from floodpost.storage.base import Store
from floodpost.timefmt import local_hour

# More changes than this since the last refresh: re-seed from agg instead of replaying them.
RESEED_AFTER = 50_000
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
            r.get("state") or "new",
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
    reservoir: dict[str, ReservoirReport] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _memo: dict[str, tuple[int | None, Any]] = field(default_factory=dict)

    def memo(self, name: str, build: Callable[[], Any]) -> Any:
        """`build()`, computed again only when the roll-up has moved on since the last time
        (for figures that need a pass over every help request)."""
        hit = self._memo.get(name)
        if hit is not None and hit[0] == self.seq:
            return hit[1]
        value = build()
        self._memo[name] = (self.seq, value)
        return value

    def refresh(self) -> None:
        """Bring the roll-ups up to the newest change. Call with `lock` held, and keep holding
        it while reading the roll-ups (a refresh in another thread would change them)."""
        head = self.store.last_change_seq()
        if self.seq is None or head - self.seq > RESEED_AFTER:
            self._seed()
        elif head > self.seq:
            self._follow(head)

    # -- seeding -----------------------------------------------------------------------------
    def _seed(self) -> None:
        self.area, self.hourly, self.evac_day = {}, {}, {}
        self.help, self.reservoir = {}, {}
        # One statement, so the sums and the sequence number are one consistent snapshot.
        rows = self.store.read(
            "SELECT 'a' AS part, township_code AS k1, zone_id AS k2, village_code AS k3, "
            "shelter_id AS k4, kind, subtype, SUM(reports) AS n, SUM(people) AS p, "
            "(SELECT MAX(seq) FROM changes) AS s0 FROM agg "
            "GROUP BY township_code, zone_id, village_code, shelter_id, kind, subtype "
            "UNION ALL SELECT 'h', hour, '', '', '', kind, subtype, SUM(reports), SUM(people), "
            "(SELECT MAX(seq) FROM changes) FROM agg GROUP BY hour, kind, subtype "
            "UNION ALL SELECT 'd', substr(hour, 1, 10), '', village_code, shelter_id, kind, '', "
            "SUM(reports), SUM(people), (SELECT MAX(seq) FROM changes) FROM agg "
            "WHERE kind = 'evacuation' GROUP BY substr(hour, 1, 10), village_code, shelter_id, kind"
        )
        seq0 = self.store.last_change_seq() if not rows else int(rows[0]["s0"] or 0)
        for r in rows:
            n, p = int(r["n"] or 0), int(r["p"] or 0)
            # agg keeps a group at zero once its reports are retracted; following the log drops
            # such groups (_bump), so the seed does too and both give the same rows.
            if n == 0 and p == 0:
                continue
            if r["part"] == "a":
                key = (r["k1"], r["k2"], r["k3"], r["k4"], r["kind"], r["subtype"])
                self.area[key] = [n, p]
            elif r["part"] == "h":
                self.hourly[(r["k1"], r["kind"], r["subtype"])] = [n, p]
            elif p:  # evacuations of no one move no one: no entry, as when following
                self.evac_day[(r["k1"], r["k3"], r["k4"])] = p
        # Per-report parts are read after seq0 and may be newer; following the log from seq0
        # sets them again to each report's latest snapshot, so they converge all the same.
        cursor = 0
        while True:  # paged: the lifecycle moments are only in the body
            page, nxt = self.store.list_reports(kind="help_request", after_seq=cursor, limit=_PAGE)
            for r in page:
                if r.get("status") == "active":
                    self.help[r["id"]] = HelpRequest.of(r)
            if nxt is None:
                break
            cursor = nxt
        for r in self.store.read(
            "SELECT body FROM reports WHERE reservoir_id IS NOT NULL AND kind = 'incident' "
            "AND status = 'active'"
        ):
            self._set_reservoir(_body(r["body"]))
        self.seq = seq0

    # -- following the change log ------------------------------------------------------------
    def _follow(self, head: int) -> None:
        assert self.seq is not None
        while self.seq < head:
            changes = self.store.changes_after(self.seq, _PAGE)
            if not changes:
                break
            for change in changes:
                if change.entity != "report":
                    self.seq = change.seq
                    continue
                if change.action != "create":
                    prev = self._previous(change.report_id, change.seq)
                    if prev is not None:
                        self._add(prev, -1)
                self._add(change.report, +1)
                self._set_by_id(change.report)
                self.seq = change.seq

    def _previous(self, report_id: str, seq: int) -> dict[str, Any] | None:
        rows = self.store.read(
            "SELECT body FROM changes WHERE report_id = ? AND seq < ? ORDER BY seq DESC LIMIT 1",
            (report_id, seq),
        )
        return _body(rows[0]["body"]) if rows else None

    def _add(self, r: dict[str, Any], sign: int) -> None:
        if r.get("status") != "active":
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
        hour = local_hour(r["occurred_ts"])
        _bump(self.hourly, (hour, kind, subtype), sign, people)
        if kind == "evacuation":
            day_key = (hour[:10], village, shelter)
            total = self.evac_day.get(day_key, 0) + people
            if total:
                self.evac_day[day_key] = total
            else:
                self.evac_day.pop(day_key, None)

    def _set_by_id(self, r: dict[str, Any]) -> None:
        rid = r["id"]
        active = r.get("status") == "active"
        if r["kind"] == "help_request":
            if active:
                self.help[rid] = HelpRequest.of(r)
            else:
                self.help.pop(rid, None)
        if r["kind"] == "incident" and r.get("reservoir_id"):
            if active:
                self._set_reservoir(r)
            else:
                self.reservoir.pop(rid, None)

    def _set_reservoir(self, r: dict[str, Any]) -> None:
        status = r.get("reservoir_status")
        if status:
            self.reservoir[r["id"]] = ReservoirReport(
                r["reservoir_id"], float(r["occurred_ts"]), status, r.get("occurred_at")
            )
        else:
            self.reservoir.pop(r["id"], None)


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


def _body(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(value)
