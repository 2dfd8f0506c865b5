"""Gauge readings: POST /api/readings (commander, staff, gauge), GET /api/readings, and the
gauges' status GET /api/stations (silent gauges, rain totals now, blind villages)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query

from floodpost.errors import InvalidInput, NotFound
from floodpost.hydro.intake import store_readings
from floodpost.hydro.queries import list_readings, parse_when, station_status
from floodpost.hydro.readings import check_batch
from floodpost.web.deps import ClockDep, GaugesDep, SettingsDep, StoreDep
from floodpost.web.security import Principal, require_role, require_user

router = APIRouter(tags=["early warning"])
POSTERS = require_role("commander", "staff", "gauge")


@router.post("/api/readings")
def post_readings(
    store: StoreDep,
    net: GaugesDep,
    clock: ClockDep,
    payload: Any = Body(...),
    principal: Principal = Depends(POSTERS),
) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise InvalidInput('the body must be {"readings": [...]}', field="readings")
    readings = check_batch(payload.get("readings"), net.infos, clock())
    result = store_readings(store, net, readings, actor=principal.name, source="api")
    return {**result, "warnings": [w["id"] for w in result["warnings"]]}


@router.get("/api/readings")
def get_readings(
    store: StoreDep,
    net: GaugesDep,
    station: str = Query(..., max_length=8),
    since: str | None = Query(None, max_length=40),
    until: str | None = Query(None, max_length=40),
    principal: Principal = Depends(require_user),
) -> dict[str, Any]:
    if station not in net.stations:
        raise NotFound(f"no station {station!r}", field="station")
    rows = list_readings(store, station, parse_when(since, "since"), parse_when(until, "until"))
    return {"readings": rows}


@router.get("/api/stations")
def stations(
    store: StoreDep,
    net: GaugesDep,
    clock: ClockDep,
    settings: SettingsDep,
    principal: Principal = Depends(require_user),
) -> dict[str, Any]:
    return station_status(store, net, clock(), settings.gauge_silent_min)
