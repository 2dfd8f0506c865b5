"""`/api/stats/*`: post-event statistics (issue 5). Sums of people, never counts of reports.

Who: staff, commander and viewer (leadership reading the review). Field members report; they do
not get county-wide statistics, like they do not get the review page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from floodpost.export.tables import table_download
from floodpost.timefmt import LOCAL_TZ
from floodpost.web.deps import ClockDep, SettingsDep, StatsDep
from floodpost.web.security import REVIEW_ROLES, require_role

router = APIRouter(
    prefix="/api/stats", tags=["stats"], dependencies=[Depends(require_role(*REVIEW_ROLES))]
)


@router.get("/summary")
def stats_summary(stats: StatsDep) -> dict[str, Any]:
    return stats.summary()


# The breakdowns answer JSON, or with `format=csv` (and `hxl=1`) a CSV download of their rows.
_FORMAT = Query("json", description="json, or csv for a download of the rows")
_HXL = Query(None, description="1 with format=csv: the HXL hashtag row under the header")


def _table(clock: ClockDep, result: dict[str, Any], name: str, fmt: str, hxl: str | None) -> Any:
    body = table_download(result, fmt, hxl)
    if body is None:
        return result
    day = datetime.fromtimestamp(clock(), LOCAL_TZ).strftime("%Y-%m-%d")
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="floodpost-{name}-{day}.csv"'},
    )


@router.get("/by-township")
def stats_by_township(
    stats: StatsDep,
    clock: ClockDep,
    format: str = _FORMAT,  # noqa: A002
    hxl: str | None = _HXL,
) -> Any:
    return _table(clock, stats.by_area("township"), "by-township", format, hxl)


@router.get("/by-zone")
def stats_by_zone(
    stats: StatsDep,
    clock: ClockDep,
    format: str = _FORMAT,  # noqa: A002
    hxl: str | None = _HXL,
) -> Any:
    return _table(clock, stats.by_area("zone"), "by-zone", format, hxl)


@router.get("/by-village")
def stats_by_village(
    stats: StatsDep,
    clock: ClockDep,
    format: str = _FORMAT,  # noqa: A002
    hxl: str | None = _HXL,
) -> Any:
    return _table(clock, stats.by_area("village"), "by-village", format, hxl)


@router.get("/by-day")
def stats_by_day(
    stats: StatsDep,
    clock: ClockDep,
    date: str | None = Query(None, description="YYYY-MM-DD: rows per hour of that local day"),
    format: str = _FORMAT,  # noqa: A002
    hxl: str | None = _HXL,
) -> Any:
    return _table(clock, stats.by_day(date), "by-day", format, hxl)


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
