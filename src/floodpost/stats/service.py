"""One object per app that answers every statistic: what the routers and the review page call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from floodpost.stats import breakdowns, summary
from floodpost.stats.reference import reference_for
from floodpost.stats.requests import reservoir_status
from floodpost.storage.base import Store


class ReviewStats:
    """Statistics over one store and one catalogue. `escalate_after_s` is the "stale" limit
    after which a help request counts as escalated; `clock` gives "now" for still-open ones."""

    def __init__(
        self,
        store: Store,
        catalogue: Any,
        *,
        escalate_after_s: float = 3600.0,
        clock: Callable[[], float],
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self.ref = reference_for(catalogue)
        self.escalate_after_s = escalate_after_s
        self.clock = clock

    def summary(self) -> dict[str, Any]:
        return summary.summary(
            self.store, self.ref, escalate_after_s=self.escalate_after_s, now_ts=self.clock()
        )

    def by_area(self, level: str) -> dict[str, Any]:
        return breakdowns.by_area(self.store, self.ref, level)

    def by_day(self, day: str | None = None) -> dict[str, Any]:
        return breakdowns.by_day(self.store, day)

    def at(self, moment: str) -> dict[str, Any]:
        return summary.situation_at(self.store, self.ref, summary.parse_moment(moment))

    def flows(self) -> dict[str, Any]:
        return summary.evacuation_flows(self.store, self.ref)

    def shelters(self) -> dict[str, Any]:
        return {"rows": breakdowns.shelter_occupancy(self.store, self.ref)}

    def reservoirs(self) -> dict[str, Any]:
        return {"rows": reservoir_status(self.store, self.ref)}

    def review(self) -> dict[str, Any]:
        """Everything the review page shows, in one call (its JSON twin is the sum of the
        /api/stats routes)."""
        return {
            "summary": self.summary(),
            "by_township": self.by_area("township"),
            "by_zone": self.by_area("zone"),
            "by_day": self.by_day(),
            "reservoirs": self.reservoirs()["rows"],
        }
