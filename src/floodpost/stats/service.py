"""One object per app that answers every statistic: what the routers and the review page call."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from floodpost.live.follower import ChangeFollower
from floodpost.rules import EscalationLimits
from floodpost.stats import breakdowns, summary
from floodpost.stats.reference import reference_for
from floodpost.stats.requests import reservoir_status
from floodpost.stats.rollup import Rollup, follow
from floodpost.storage.base import Store

F = TypeVar("F", bound=Callable[..., Any])


def _current(method: F) -> F:
    """Run with the roll-up brought up to date and locked (the follower's lock: no change is
    applied while a statistic reads it); WarmingUp at once while the app's follower warms up."""

    @wraps(method)
    def wrapper(self: ReviewStats, *args: Any, **kwargs: Any) -> Any:
        with self.follower.try_current():
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ReviewStats:
    """Statistics over one store and one catalogue. `limits` are the live escalation rules (a
    help request counts as escalated if they escalated it at some point); `clock` gives "now"
    for requests still open. `follower` and `rollup`: the app's change follower and the report
    roll-up subscribed to it (rollup.follow), shared with the live map; made here if not given."""

    def __init__(
        self,
        store: Store,
        catalogue: Any,
        *,
        limits: EscalationLimits | None = None,
        clock: Callable[[], float],
        follower: ChangeFollower | None = None,
        rollup: Rollup | None = None,
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self.ref = reference_for(catalogue)
        self.follower = follower or ChangeFollower(store)
        self.rollup = rollup or follow(self.follower)
        self.limits = limits or EscalationLimits()
        self.clock = clock

    @_current
    def summary(self) -> dict[str, Any]:
        return summary.summary(self.rollup, self.ref, limits=self.limits, now_ts=self.clock())

    @_current
    def by_area(self, level: str) -> dict[str, Any]:
        return breakdowns.by_area(self.rollup, self.ref, level)

    @_current
    def by_day(self, day: str | None = None) -> dict[str, Any]:
        return breakdowns.by_day(self.rollup, day)

    def at(self, moment: str, *, future_s: float | None = None) -> dict[str, Any]:
        t = summary.parse_moment(moment, now=self.clock(), future_s=future_s)
        with self.follower.try_current():
            return summary.situation_at(self.rollup, self.ref, t)

    @_current
    def flows(self) -> dict[str, Any]:
        return summary.evacuation_flows(self.rollup, self.ref)

    @_current
    def shelters(self) -> dict[str, Any]:
        return {"rows": breakdowns.shelter_occupancy(self.rollup, self.ref)}

    @_current
    def reservoirs(self) -> dict[str, Any]:
        return {"rows": reservoir_status(self.rollup, self.ref)}

    def check_ready(self) -> None:
        """Raise WarmingUp now if the roll-up is warming up (before a download starts streaming:
        an error cannot be sent once the body has begun)."""
        with self.follower.try_current():
            pass

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
