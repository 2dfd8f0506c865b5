"""The live stream and the live picture: GET /api/events (SSE), /api/live/state, /api/live/feed.

Who sees what: staff, commanders and viewers get every report; a field member gets only their
own reports on the stream, in the feed and among the help requests (aggregates — totals, village
progress, shelters, reservoirs, silent zones — are county-wide for everyone signed in).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from floodpost.errors import InvalidInput
from floodpost.live.broker import sse_events
from floodpost.live.state import feed
from floodpost.orders.queries import user_zones
from floodpost.orders.service import field_entity_filter
from floodpost.sms.messages import sms_readable
from floodpost.web.deps import ClockDep, LiveDep, StoreDep, ctx_of
from floodpost.web.event_stream import EventStream
from floodpost.web.fast_path import FastPath
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
    after: str | None = Query(None, description="last event id seen (for clients without headers)"),
    principal: Principal = Depends(require_user),
) -> EventStream:
    return event_stream(request, principal)


def event_stream(request: Request, principal: Principal) -> EventStream:
    """The stream for this user: staff see everything (the broker's bytes go out untouched),
    a field member only their own reports and their zones' orders and roll-call."""
    ctx = ctx_of(request)
    after = _after(request, request.query_params.get("after"))
    mine = own_only(principal)
    allow = None
    field_filter = None
    if mine is not None:  # a field member: their own reports, their zones' orders and roll-call

        def allow(report: dict[str, Any]) -> bool:
            return report.get("reporter") == mine

        field_filter = field_entity_filter(
            user_zones(ctx.store.read, principal.name), ctx.orders.zone_of
        )
    # SMS carry people's phone numbers: only the staff who answer them see them (issue 11).
    hide_sms = not sms_readable(principal.role)
    allow_entity = None
    if hide_sms or field_filter is not None:

        def allow_entity(entity: str, body: dict[str, Any]) -> bool:
            if entity == "sms" and hide_sms:
                return False
            return field_filter is None or bool(field_filter(entity, body))

    subscriber = ctx.broker.subscribe(KEEPALIVE_S)
    stream = sse_events(
        ctx.broker,
        after=after,
        allow=allow,
        allow_entity=allow_entity,
        keepalive_s=KEEPALIVE_S,
        subscriber=subscriber,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return EventStream(stream, subscriber, ctx.broker.unsubscribe, headers)


class EventsFastPath(FastPath):
    """Serves GET /api/events before routing (web/fast_path.py), so the stream's chunks skip the
    inner `send` wrappers (exception handlers, gzip — which leaves event streams alone anyway —
    and CSRF) and FastAPI's dependency solver (bench/README.md, bench_push). The checks and the
    code are the route's own (require_user → event_stream)."""

    method = "GET"
    path = "/api/events"

    async def answer(self, request: Request) -> EventStream:
        return event_stream(request, await require_user(request))


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
