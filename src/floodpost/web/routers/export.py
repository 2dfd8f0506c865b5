"""`GET /api/export?format=csv|xlsx|geojson|gpkg`: the report log with its routing, streamed.

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
) -> StreamingResponse:
    spec, chunks = export_stream(stats, format.lower())
    day = datetime.fromtimestamp(clock(), LOCAL_TZ).strftime("%Y-%m-%d")
    filename = f"floodpost-reports-{day}.{spec.extension}"
    return StreamingResponse(
        chunks,
        media_type=spec.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
