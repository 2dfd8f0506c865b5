"""`GET /api/export?format=csv|xlsx|geojson|gpkg`: the report log with its routing, streamed.

Takes the report list's filters (`since`, `kind`, `township`) and, on CSV, `hxl=1`.
Who: staff, commander and viewer, like the statistics (field members do not get the county's log).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from floodpost.export import export_stream
from floodpost.reports.stored import LOCAL_TZ
from floodpost.web.deps import ClockDep, StatsDep
from floodpost.web.security import REVIEW_ROLES, require_role

router = APIRouter(tags=["export"])


@router.get("/api/export", dependencies=[Depends(require_role(*REVIEW_ROLES))])
def export_reports(
    stats: StatsDep,
    clock: ClockDep,
    format: str = Query("csv", description="csv, xlsx, geojson or gpkg"),  # noqa: A002
    since: str | None = Query(None, description="only reports changed at or after (ISO-8601)"),
    kind: str | None = Query(None, description="only reports of this kind"),
    township: str | None = Query(None, description="only reports routed to this township code"),
    hxl: str | None = Query(None, description="1: CSV with the HXL hashtag row"),
) -> StreamingResponse:
    if format.lower() in ("xlsx", "gpkg"):  # these carry the statistics (summary, by area)
        stats.check_ready()
    spec, chunks = export_stream(
        stats, format.lower(), since=since, kind=kind, township=township, hxl=hxl
    )
    day = datetime.fromtimestamp(clock(), LOCAL_TZ).strftime("%Y-%m-%d")
    filename = f"floodpost-reports-{day}.{spec.extension}"
    return StreamingResponse(
        chunks,
        media_type=spec.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
