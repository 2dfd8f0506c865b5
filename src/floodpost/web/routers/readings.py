"""Gauge readings: POST /api/readings (commander, staff, gauge), GET /api/readings, and the
gauges' status GET /api/stations (silent gauges, rain totals now, blind villages)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request

from floodpost.errors import InvalidInput, NotFound
from floodpost.hydro.intake import store_readings
from floodpost.hydro.network import GaugeNetwork
from floodpost.hydro.queries import list_readings, parse_when, station_status
from floodpost.hydro.readings import check_batch
from floodpost.web.deps import Context, get_ctx
from floodpost.web.security import Principal, require_role, require_user

router = APIRouter(tags=["early warning"])
POSTERS = require_role("commander", "staff", "gauge")


def gauge_network(ctx: Context) -> GaugeNetwork:
    return ctx.service("hydro.network", lambda: GaugeNetwork.of(ctx.catalogue))


@router.post("/api/readings")
def post_readings(
    request: Request, payload: Any = Body(...), principal: Principal = Depends(POSTERS)
) -> dict[str, Any]:
    ctx = get_ctx(request)
    if not isinstance(payload, dict):
        raise InvalidInput('the body must be {"readings": [...]}', field="readings")
    net = gauge_network(ctx)
    readings = check_batch(payload.get("readings"), net.infos, ctx.clock())
    result = store_readings(ctx.store, net, readings, actor=principal.name, source="api")
    return {**result, "warnings": [w["id"] for w in result["warnings"]]}


@router.get("/api/readings")
def get_readings(
    request: Request,
    station: str = Query(..., max_length=8),
    since: str | None = Query(None, max_length=40),
    until: str | None = Query(None, max_length=40),
    principal: Principal = Depends(require_user),
) -> dict[str, Any]:
    ctx = get_ctx(request)
    if station not in gauge_network(ctx).stations:
        raise NotFound(f"no station {station!r}", field="station")
    rows = list_readings(ctx.store, station, parse_when(since, "since"), parse_when(until, "until"))
    return {"readings": rows}


@router.get("/api/stations")
def stations(request: Request, principal: Principal = Depends(require_user)) -> dict[str, Any]:
    ctx = get_ctx(request)
    return station_status(ctx.store, gauge_network(ctx), ctx.clock(), ctx.settings.gauge_silent_min)
