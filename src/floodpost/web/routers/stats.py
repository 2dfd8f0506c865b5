"""`/api/stats/*`: post-event statistics (issue 5). Sums of people, never counts of reports.

Who: staff, commander and viewer (leadership reading the review). Field members report; they do
not get county-wide statistics, like they do not get the review page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from floodpost.web.deps import SettingsDep, StatsDep
from floodpost.web.security import REVIEW_ROLES, require_role

router = APIRouter(
    prefix="/api/stats", tags=["stats"], dependencies=[Depends(require_role(*REVIEW_ROLES))]
)


@router.get("/summary")
def stats_summary(stats: StatsDep) -> dict[str, Any]:
    return stats.summary()


@router.get("/by-township")
def stats_by_township(stats: StatsDep) -> dict[str, Any]:
    return stats.by_area("township")


@router.get("/by-zone")
def stats_by_zone(stats: StatsDep) -> dict[str, Any]:
    return stats.by_area("zone")


@router.get("/by-village")
def stats_by_village(stats: StatsDep) -> dict[str, Any]:
    return stats.by_area("village")


@router.get("/by-day")
def stats_by_day(
    stats: StatsDep,
    date: str | None = Query(None, description="YYYY-MM-DD: rows per hour of that local day"),
) -> dict[str, Any]:
    return stats.by_day(date)


@router.get("/at")
def stats_at(
    stats: StatsDep,
    settings: SettingsDep,
    t: str = Query(..., description="ISO-8601 moment (local Asia/Shanghai if no offset)"),
) -> dict[str, Any]:
    # How far after the server clock a moment a client sends may lie (settings; issue 13).
    return stats.at(t, future_s=settings.future_tolerance_min * 60.0)


@router.get("/flows")
def stats_flows(stats: StatsDep) -> dict[str, Any]:
    return stats.flows()


@router.get("/shelters")
def stats_shelters(stats: StatsDep) -> dict[str, Any]:
    return stats.shelters()


@router.get("/reservoirs")
def stats_reservoirs(stats: StatsDep) -> dict[str, Any]:
    return stats.reservoirs()
