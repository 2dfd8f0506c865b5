"""Help requests as work: assign, en route, resolve; and the service-centre numbers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from floodpost.reports import lifecycle
from floodpost.reports.model import ResolutionKind
from floodpost.web.deps import ClockDep, LiveDep, StoreDep
from floodpost.web.security import Principal, own_only, require_role, require_user

router = APIRouter()
STAFF = require_role("staff", "commander")


class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee: str | None = Field(None, max_length=120, description="team; empty: zone owner")


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolution: ResolutionKind
    rescued: int = Field(0, ge=0, le=5000)
    duplicate_of: str | None = Field(None, max_length=40)
    note: str = Field("", max_length=2000)


@router.post("/api/reports/{report_id}/assign")
def assign(
    report_id: str, store: StoreDep, clock: ClockDep, body: AssignBody | None = None,
    principal: Principal = Depends(STAFF),
) -> dict[str, Any]:  # fmt: skip
    assignee = body.assignee if body else None
    return lifecycle.assign(store, report_id, assignee, actor=principal.name, clock=clock)


@router.post("/api/reports/{report_id}/en-route")
def en_route(
    report_id: str, store: StoreDep, clock: ClockDep, principal: Principal = Depends(STAFF)
) -> dict[str, Any]:
    return lifecycle.en_route(store, report_id, actor=principal.name, clock=clock)


@router.post("/api/reports/{report_id}/resolve")
def resolve(
    report_id: str,
    body: ResolveBody,
    store: StoreDep,
    clock: ClockDep,
    principal: Principal = Depends(STAFF),
) -> dict[str, Any]:
    resolution = lifecycle.Resolution(body.resolution, body.rescued, body.duplicate_of, body.note)
    return lifecycle.resolve(store, report_id, resolution, actor=principal.name, clock=clock)


@router.get("/api/requests/summary")
def summary(
    live: LiveDep, clock: ClockDep, principal: Principal = Depends(require_user)
) -> dict[str, Any]:
    """Received, resolved, open, escalated, median time to resolution (minutes)."""
    snap = live.snapshot(clock(), reporter=own_only(principal))
    escalated = sum(1 for r in snap["requests"] if r["escalated"])
    duplicates = sum(1 for r in snap["requests"] if r["likely_duplicate_of"])
    return {**snap["service"], "escalated": escalated, "likely_duplicates": duplicates}


@router.get("/api/requests/open")
def open_requests(
    live: LiveDep, clock: ClockDep, principal: Principal = Depends(require_user)
) -> dict[str, Any]:
    snap = live.snapshot(clock(), reporter=own_only(principal))
    return {"requests": snap["requests"], "now": snap["now"], "seq": snap["seq"]}
