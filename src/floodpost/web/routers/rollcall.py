"""Household roll-call: GET /api/rollcall?village=CODE and POST /api/rollcall/{household_id}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from floodpost.orders.service import Actor
from floodpost.web import contract
from floodpost.web.bodies import json_or_empty
from floodpost.web.deps import RollCallDep
from floodpost.web.security import Principal, require_user

router = APIRouter(prefix="/api/rollcall", tags=["rollcall"])


@router.get("")
def village_roll(
    roll: RollCallDep, village: str | None = None, who: Principal = Depends(require_user)
) -> JSONResponse:
    return JSONResponse(roll.village(village, Actor(who.name, who.role)))


@router.get("/export")
def export_roster(
    roll: RollCallDep,
    village: str | None = None,
    phones: bool = False,
    who: Principal = Depends(require_user),
) -> Response:
    data = roll.export_csv(village, Actor(who.name, who.role), phones=phones)
    name = f"roster-{village or 'all'}.csv"
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.post("/{household_id}", openapi_extra=contract.json_body(contract.household_mark_schema()))
def mark_household(
    roll: RollCallDep,
    household_id: str,
    who: Principal = Depends(require_user),
    data: Any = Depends(json_or_empty),
) -> JSONResponse:
    return JSONResponse(roll.mark(household_id, data, Actor(who.name, who.role)))
