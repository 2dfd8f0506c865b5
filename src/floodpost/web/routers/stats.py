"""`/api/stats/*`: post-event statistics (issue 5). Sums of people, never counts of reports.

Who: staff, commander and viewer (leadership reading the review). Field members report; they do
not get county-wide statistics, like they do not get the review page.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from floodpost.stats.requests import EscalationLimits
from floodpost.stats.service import ReviewStats
from floodpost.web.deps import Context, get_ctx
from floodpost.web.security import require_role

REVIEW_ROLES = ("staff", "commander", "viewer")

router = APIRouter(prefix="/api/stats", tags=["stats"])
_reader = require_role(*REVIEW_ROLES)


def review_stats(ctx: Context) -> ReviewStats:
    """The app's ReviewStats (made on first use, shared by the page and the export)."""
    return ctx.service(
        "stats",
        lambda: ReviewStats(
            ctx.store,
            ctx.catalogue,
            limits=EscalationLimits(
                unassigned_s=ctx.settings.escalate_unassigned_min * 60.0,
                stale_s=ctx.settings.escalate_stale_min * 60.0,
            ),
            clock=ctx.clock,
        ),
    )


def setup(app: Any, ctx: Context) -> None:
    """Build the statistics roll-up in the background at start-up (seconds over a million
    events), so the first visitor of /review does not wait for it."""

    def warm() -> None:
        try:
            review_stats(ctx).by_area("township")
        except Exception:  # noqa: BLE001 - the first request builds it instead
            logging.getLogger(__name__).warning("statistics warm-up failed", exc_info=True)

    threading.Thread(target=warm, name="floodpost-stats-warmup", daemon=True).start()


def future_s(ctx: Context) -> float:
    """How far after the server clock a moment a client sends may lie (settings)."""
    return ctx.settings.future_tolerance_min * 60.0


def _stats(request: Request) -> ReviewStats:
    return review_stats(get_ctx(request))


@router.get("/summary", dependencies=[Depends(_reader)])
def stats_summary(stats: ReviewStats = Depends(_stats)) -> dict[str, Any]:
    return stats.summary()


@router.get("/by-township", dependencies=[Depends(_reader)])
def stats_by_township(stats: ReviewStats = Depends(_stats)) -> dict[str, Any]:
    return stats.by_area("township")


@router.get("/by-zone", dependencies=[Depends(_reader)])
def stats_by_zone(stats: ReviewStats = Depends(_stats)) -> dict[str, Any]:
    return stats.by_area("zone")


@router.get("/by-village", dependencies=[Depends(_reader)])
def stats_by_village(stats: ReviewStats = Depends(_stats)) -> dict[str, Any]:
    return stats.by_area("village")


@router.get("/by-day", dependencies=[Depends(_reader)])
def stats_by_day(
    date: str | None = Query(None, description="YYYY-MM-DD: rows per hour of that local day"),
    stats: ReviewStats = Depends(_stats),
) -> dict[str, Any]:
    return stats.by_day(date)


@router.get("/at", dependencies=[Depends(_reader)])
def stats_at(
    request: Request,
    t: str = Query(..., description="ISO-8601 moment (local Asia/Shanghai if no offset)"),
    stats: ReviewStats = Depends(_stats),
) -> dict[str, Any]:
    return stats.at(t, future_s=future_s(get_ctx(request)))


@router.get("/flows", dependencies=[Depends(_reader)])
def stats_flows(stats: ReviewStats = Depends(_stats)) -> dict[str, Any]:
    return stats.flows()


@router.get("/shelters", dependencies=[Depends(_reader)])
def stats_shelters(stats: ReviewStats = Depends(_stats)) -> dict[str, Any]:
    return stats.shelters()


@router.get("/reservoirs", dependencies=[Depends(_reader)])
def stats_reservoirs(stats: ReviewStats = Depends(_stats)) -> dict[str, Any]:
    return stats.reservoirs()
