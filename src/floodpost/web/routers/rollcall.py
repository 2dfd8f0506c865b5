"""Household roll-call: GET /api/rollcall?village=CODE and POST /api/rollcall/{household_id}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from floodpost.orders.service import Actor
from floodpost.web.deps import get_ctx
from floodpost.web.routers.orders import json_or_empty, roll_call
from floodpost.web.security import Principal, require_user

router = APIRouter(prefix="/api/rollcall", tags=["rollcall"])


@router.get("")
def village_roll(
    request: Request, village: str | None = None, who: Principal = Depends(require_user)
) -> JSONResponse:
    return JSONResponse(roll_call(get_ctx(request)).village(village, Actor(who.name, who.role)))


@router.get("/export")
def export_roster(
    request: Request,
    village: str | None = None,
    phones: bool = False,
    who: Principal = Depends(require_user),
) -> Response:
    data = roll_call(get_ctx(request)).export_csv(village, Actor(who.name, who.role), phones=phones)
    name = f"roster-{village or 'all'}.csv"
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.post("/{household_id}")
def mark_household(
    request: Request,
    household_id: str,
    who: Principal = Depends(require_user),
    data: Any = Depends(json_or_empty),
) -> JSONResponse:
    return JSONResponse(
        roll_call(get_ctx(request)).mark(household_id, data, Actor(who.name, who.role))
    )
