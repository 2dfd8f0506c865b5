"""The live stream and the live picture: GET /api/events (SSE), /api/live/state, /api/live/feed.

Who sees what: staff, commanders and viewers get every report; a field member gets only their
own reports on the stream, in the feed and among the help requests (aggregates — totals, village
progress, shelters, reservoirs, silent zones — are county-wide for everyone signed in).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from floodpost.errors import InvalidInput
from floodpost.live.broker import sse_events
from floodpost.live.state import feed
from floodpost.web.deps import BrokerDep, ClockDep, LiveDep, StoreDep
from floodpost.web.security import Principal, own_only, require_user

router = APIRouter()
KEEPALIVE_S = 15.0


def _after(request: Request, after: str | None) -> int | None:
    raw = request.headers.get("last-event-id") or after
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput("Last-Event-ID: an event id (integer)", field="after") from None
    if value < 0:
        raise InvalidInput("Last-Event-ID: must not be negative", field="after")
    return value


@router.get("/api/events")
async def events(
    request: Request,
    broker: BrokerDep,
    after: str | None = Query(None, description="last event id seen (for clients without headers)"),
    principal: Principal = Depends(require_user),
) -> StreamingResponse:
    mine = own_only(principal)

    def allow(report: dict[str, Any]) -> bool:
        return mine is None or report.get("reporter") == mine

    stream = sse_events(broker, after=_after(request, after), allow=allow, keepalive_s=KEEPALIVE_S)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


@router.get("/api/live/state")
def state(
    live: LiveDep,
    clock: ClockDep,
    parts: str = Query("all", pattern="^(all|agg)$", description="agg: without the request list"),
    principal: Principal = Depends(require_user),
) -> dict[str, Any]:
    return live.snapshot(clock(), reporter=own_only(principal), with_requests=parts == "all")


@router.get("/api/live/feed")
def live_feed(
    store: StoreDep,
    kind: str | None = Query(None, max_length=20),
    township: str | None = Query(None, max_length=12),
    limit: int = Query(100, ge=1, le=500),
    principal: Principal = Depends(require_user),
) -> dict[str, Any]:
    rows = feed(store, kind=kind, township=township, reporter=own_only(principal), limit=limit)
    return {"reports": rows}
