"""The live map's own projection of the change log: what only the live map shows.

The figures (sums of people, villages, shelters, reservoirs, help-request service) come from the
report roll-up both screens share (floodpost.stats.rollup), so the live panel and the review
cannot disagree. This projection keeps the rest, fed by the app's ChangeFollower:

- the open help requests themselves (their bodies, oldest first), for the request list,
  escalation and duplicates;
- the newest report's received and occurred times;
- the last report time of each responsibility zone (silent zones), read again through
  `Store.last_report_by_zone` (one indexed MAX per zone) only after something changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from floodpost import rules
from floodpost.storage.base import Change, Store


class LiveProjection:
    def __init__(self, store: Store, zone_ids: Sequence[str]) -> None:
        self.store = store
        self.zone_ids = list(zone_ids)
        self.requests: dict[str, dict[str, Any]] = {}  # open help requests by id, oldest first
        self.latest: dict[str, Any] | None = None
        self._zone_last: dict[str, float | None] | None = None

    # -- the projection ----------------------------------------------------------------------
    def reset(self) -> None:
        self.requests = {}
        self.latest = None
        self._zone_last = None

    def seed(self) -> int:
        """Fill from indexed reads. Everything here is set by id or replaced, so the changes
        after `seq` (read first) may be fed again harmlessly."""
        seq = self.store.last_change_seq()
        reqs = self.store.open_help_requests()
        reqs.sort(key=lambda r: (float(r.get("received_ts") or 0.0), r["id"]))
        self.requests = {r["id"]: r for r in reqs}
        newest = self.store.newest_reports(limit=1)
        self.latest = _moments(newest[0]) if newest else None
        self._zone_last = None
        return seq

    def apply(self, change: Change, previous: dict[str, Any] | None) -> None:
        new = change.report
        if new.get("kind") == "help_request":
            if rules.is_open_request(new):
                self.requests[new["id"]] = new
            else:
                self.requests.pop(new["id"], None)
        if change.action == "create":
            self.latest = _moments(new)
        self._zone_last = None  # any report may move a zone's last time

    # -- reads (under the follower's lock) ---------------------------------------------------
    def zone_last(self) -> dict[str, float | None]:
        if self._zone_last is None:
            self._zone_last = self.store.last_report_by_zone(self.zone_ids)
        return self._zone_last


def _moments(report: dict[str, Any]) -> dict[str, Any]:
    return {"received_ts": report.get("received_ts"), "occurred_ts": report.get("occurred_ts")}
