"""Warnings: GET /api/warnings[?active=1], GET /api/warnings/{id}, POST .../lift (commander),
and the review's figures GET /api/stats/warnings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from floodpost.hydro.queries import get_warning, lift_warning, list_warnings
from floodpost.hydro.review import warning_review
from floodpost.web.deps import CatalogueDep, StoreDep
from floodpost.web.security import Principal, require_role, require_user

router = APIRouter(tags=["early warning"])
COMMANDER = require_role("commander")
REVIEWERS = require_role("staff", "commander", "viewer")


class LiftBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        ..., min_length=1, max_length=2000, description="why the warning ends (解除)"
    )


@router.get("/api/warnings")
def warnings(
    store: StoreDep,
    active: int = Query(0, ge=0, le=1, description="1: only active warnings"),
    principal: Principal = Depends(require_user),
) -> dict[str, Any]:
    return {"warnings": list_warnings(store, active_only=bool(active))}


@router.get("/api/warnings/{warning_id}")
def warning(
    warning_id: str, store: StoreDep, principal: Principal = Depends(require_user)
) -> dict[str, Any]:
    return get_warning(store, warning_id)


@router.post("/api/warnings/{warning_id}/lift")
def lift(
    warning_id: str, body: LiftBody, store: StoreDep, principal: Principal = Depends(COMMANDER)
) -> dict[str, Any]:
    return lift_warning(store, warning_id, actor=principal.name, reason=body.reason)


@router.get("/api/stats/warnings")
def review(
    store: StoreDep, catalogue: CatalogueDep, principal: Principal = Depends(REVIEWERS)
) -> dict[str, Any]:
    return warning_review(store, catalogue)
