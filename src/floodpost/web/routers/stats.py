"""`/api/stats/*`: post-event statistics (issue 5). Sums of people, never counts of reports.

Who: staff, commander and viewer (leadership reading the review). Field members report; they do
not get county-wide statistics, like they do not get the review page.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from floodpost.export.tables import table_download
from floodpost.reports.stored import LOCAL_TZ
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


def _stats(request: Request) -> ReviewStats:
    return review_stats(get_ctx(request))


@router.get("/summary", dependencies=[Depends(_reader)])
def stats_summary(stats: ReviewStats = Depends(_stats)) -> dict[str, Any]:
    return stats.summary()


# The breakdowns answer JSON, or with `format=csv` (and `hxl=1`) a CSV download of their rows.
_FORMAT = Query("json", description="json, or csv for a download of the rows")
_HXL = Query(None, description="1 with format=csv: the HXL hashtag row under the header")


def _table(request: Request, result: dict[str, Any], name: str, fmt: str, hxl: str | None) -> Any:
    body = table_download(result, fmt, hxl)
    if body is None:
        return result
    day = datetime.fromtimestamp(get_ctx(request).clock(), LOCAL_TZ).strftime("%Y-%m-%d")
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="floodpost-{name}-{day}.csv"'},
    )


@router.get("/by-township", dependencies=[Depends(_reader)])
def stats_by_township(
    request: Request,
    format: str = _FORMAT,
    hxl: str | None = _HXL,  # noqa: A002
) -> Any:
    return _table(request, _stats(request).by_area("township"), "by-township", format, hxl)


@router.get("/by-zone", dependencies=[Depends(_reader)])
def stats_by_zone(
    request: Request,
    format: str = _FORMAT,
    hxl: str | None = _HXL,  # noqa: A002
) -> Any:
    return _table(request, _stats(request).by_area("zone"), "by-zone", format, hxl)


@router.get("/by-village", dependencies=[Depends(_reader)])
def stats_by_village(
    request: Request,
    format: str = _FORMAT,
    hxl: str | None = _HXL,  # noqa: A002
) -> Any:
    return _table(request, _stats(request).by_area("village"), "by-village", format, hxl)


@router.get("/by-day", dependencies=[Depends(_reader)])
def stats_by_day(
    request: Request,
    date: str | None = Query(None, description="YYYY-MM-DD: rows per hour of that local day"),
    format: str = _FORMAT,  # noqa: A002
    hxl: str | None = _HXL,
) -> Any:
    return _table(request, _stats(request).by_day(date), "by-day", format, hxl)


@router.get("/at", dependencies=[Depends(_reader)])
def stats_at(
    t: str = Query(..., description="ISO-8601 moment (local Asia/Shanghai if no offset)"),
    stats: ReviewStats = Depends(_stats),
) -> dict[str, Any]:
    return stats.at(t)


@router.get("/flows", dependencies=[Depends(_reader)])
def stats_flows(stats: ReviewStats = Depends(_stats)) -> dict[str, Any]:
    return stats.flows()


@router.get("/shelters", dependencies=[Depends(_reader)])
def stats_shelters(stats: ReviewStats = Depends(_stats)) -> dict[str, Any]:
    return stats.shelters()


@router.get("/reservoirs", dependencies=[Depends(_reader)])
def stats_reservoirs(stats: ReviewStats = Depends(_stats)) -> dict[str, Any]:
    return stats.reservoirs()
