"""The live stream and the live picture: GET /api/events (SSE), /api/live/state, /api/live/feed.

Who sees what: staff, commanders and viewers get every report; a field member gets only their
own reports on the stream, in the feed and among the help requests (aggregates — totals, village
progress, shelters, reservoirs, silent zones — are county-wide for everyone signed in).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import StreamingResponse

from floodpost.errors import InvalidInput
from floodpost.live.broker import Broker, sse_events
from floodpost.live.escalation import Rules
from floodpost.live.places import places_from_catalogue
from floodpost.live.state import LiveState, feed
from floodpost.sms.messages import sms_readable
from floodpost.web.deps import Context, get_ctx
from floodpost.web.security import Principal, identify, require_user
from floodpost.web.templating import templates

router = APIRouter()
KEEPALIVE_S = 15.0


_BROKERS: weakref.WeakSet[Broker] = weakref.WeakSet()


def _end_streams_on_exit() -> None:
    """On SIGINT/SIGTERM uvicorn stops accepting, then waits for open connections before the
    app's shutdown runs — an open event stream would hold it forever. So, as sse-starlette does,
    wrap uvicorn's exit handler to end our streams first (each browser reconnects with
    Last-Event-ID to whichever server answers next)."""
    try:
        from uvicorn.server import Server
    except ImportError:  # served by something else
        return
    if getattr(Server.handle_exit, "_floodpost", False):
        return
    original = Server.handle_exit

    def handle_exit(self: Any, sig: int, frame: Any) -> None:
        original(self, sig, frame)
        for broker in list(_BROKERS):
            broker.close_subscribers()

    handle_exit._floodpost = True  # type: ignore[attr-defined]
    Server.handle_exit = handle_exit  # type: ignore[method-assign]


def setup(app: FastAPI, ctx: Context) -> None:
    broker = Broker(ctx.store)
    _BROKERS.add(broker)
    _end_streams_on_exit()
    ctx.services["live.broker"] = broker
    ctx.services.setdefault("on_shutdown", []).append(broker.stop)
    # The live panel needs to know who is looking (signed out: no live requests that would only
    # answer 401; staff and commanders: lifecycle buttons).
    templates.env.globals["live_principal"] = lambda request: identify(request)[0]
    # Build the live aggregates in the background now (a second or two at a million events)
    # rather than on the first screen's request.
    threading.Thread(target=_warm, args=(ctx,), name="floodpost-live-warm", daemon=True).start()


def _warm(ctx: Context) -> None:
    try:
        live_state(ctx).snapshot(ctx.clock())
    except Exception:  # noqa: BLE001, S110 - only a head start; the first request builds it anyway
        pass


def live_state(ctx: Context) -> LiveState:
    return ctx.service(
        "live.state",
        lambda: LiveState(
            ctx.store,
            places_from_catalogue(ctx.catalogue),
            Rules.from_settings(ctx.settings),
            ctx.settings.silent_zone_hours,
        ),
    )


def own_only(principal: Principal) -> str | None:
    """The reporter filter for this user: field members see their own reports only."""
    return principal.name if principal.role == "field" else None


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
) -> StreamingResponse:
    ctx = get_ctx(request)
    mine = own_only(principal)

    def allow(report: dict[str, Any]) -> bool:
        return mine is None or report.get("reporter") == mine

    def allow_entity(entity: str, body: dict[str, Any]) -> bool:
        # SMS carry people's phone numbers: only the staff who answer them see them.
        return entity != "sms" or sms_readable(principal.role)

    stream = sse_events(
        ctx.services["live.broker"], after=_after(request, after), allow=allow,
        allow_entity=allow_entity, keepalive_s=KEEPALIVE_S,
    )  # fmt: skip
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


@router.get("/api/live/state")
def state(
    request: Request,
    parts: str = Query("all", pattern="^(all|agg)$", description="agg: without the request list"),
    principal: Principal = Depends(require_user),
) -> dict[str, Any]:
    ctx = get_ctx(request)
    return live_state(ctx).snapshot(
        ctx.clock(), reporter=own_only(principal), with_requests=parts == "all"
    )


@router.get("/api/live/feed")
def live_feed(
    request: Request,
    kind: str | None = Query(None, max_length=20),
    township: str | None = Query(None, max_length=12),
    limit: int = Query(100, ge=1, le=500),
    principal: Principal = Depends(require_user),
) -> dict[str, Any]:
    ctx = get_ctx(request)
    rows = feed(ctx.store, kind=kind, township=township, reporter=own_only(principal), limit=limit)
    return {"reports": rows}
