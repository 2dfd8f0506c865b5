"""Field reports: intake, listing, corrections, retraction and the audit log (CONTRACT.md).

Handlers that read storage are plain `def` (run in the thread pool). Intake is async: it awaits
the SQLite writer's future, so while one report waits for its fsync others join the writer's next
group commit without a pool thread parked per request (bench/README.md has the measurements).
Collaborators come through the `async` dependencies of web/deps.py (no thread-pool hop); the
ingest path, which also runs outside FastAPI (IngestFastPath), reads the context itself.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from floodpost.errors import InvalidReport
from floodpost.reports import corrections, intake
from floodpost.storage.base import dumps
from floodpost.web import contract
from floodpost.web.deps import ClockDep, RouterDep, SettingsDep, StoreDep, ctx_of
from floodpost.web.fast_path import FastPath
from floodpost.web.security import Principal, require_role, require_user

router = APIRouter(prefix="/api/reports", tags=["reports"])

submitters = require_role("field", "staff", "commander")
editors = require_role("staff", "commander")


async def json_body(request: Request) -> Any:
    """The request body as JSON (size already bounded by BodySizeLimit)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and not (content_type.endswith("json") or content_type == "text/plain"):
        raise InvalidReport("send the report as application/json", field="body")
    return intake.decode_json(await request.body())


def _json(content: Any, status_code: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(content, status_code=status_code, headers=headers or None)


@router.post("", status_code=201, openapi_extra=contract.json_body(contract.report_schema()))
async def create_report(
    request: Request,
    who: Principal = Depends(submitters),  # before the body: 401/403 win over 422
    data: Any = Depends(json_body),
) -> Response:
    return await store_report(request, who, data)


async def store_report(request: Request, who: Principal, data: Any) -> Response:
    """201 with the stored report, or 200 for an identical resend, once it is durable."""
    ctx = ctx_of(request)
    # Validation and routing (one STRtree query) take about 0.1 ms: less than the hand-off to a
    # pool thread would cost, so they run here; only the durable write waits elsewhere.
    stored, content_hash = intake.prepare_report(
        ctx.router,
        data,
        reporter=who.name,
        received_ts=ctx.clock(),
        future_s=ctx.settings.future_tolerance_min * 60.0,
    )
    # Encoded once: the store keeps this text and a new report's answer is the same JSON.
    body = dumps(stored)
    # Await the group-commit writer's future directly: no pool thread is parked per report.
    future = ctx.store.create_report_future(stored, content_hash, actor=who.name, body=body)
    stored, created = await asyncio.wrap_future(future)
    intake.check_resend(stored, created, viewer=who.name, role=who.role)
    if created:
        return Response(
            body.encode(),
            201,
            headers={"location": f"/api/reports/{stored['id']}"},
            media_type="application/json",
        )
    return _json(stored, 200)


class IngestFastPath(FastPath):
    """Serves POST /api/reports directly (web/fast_path.py): the checks and the code are the
    route's own (require_user → submitters → json_body → store_report), so behaviour is
    identical; skipping FastAPI's router and dependency solver saves about a third of the
    ingest path's CPU on the command-post laptop (bench/README.md)."""

    method = "POST"
    path = "/api/reports"

    async def answer(self, request: Request) -> Response:
        who = await submitters(await require_user(request))
        return await store_report(request, who, await json_body(request))


@router.get("")
def list_reports(
    store: StoreDep,
    since: str | None = None,
    kind: str | None = None,
    township: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    who: Principal = Depends(require_user),
) -> JSONResponse:
    page = intake.list_visible(
        store,
        viewer=who.name,
        role=who.role,
        since=since,
        kind=kind,
        township=township,
        limit=limit,
        cursor=cursor,
    )
    return _json(page)


@router.get("/{report_id}")
def get_report(
    report_id: str, store: StoreDep, who: Principal = Depends(require_user)
) -> JSONResponse:
    return _json(intake.visible_report(store, report_id, viewer=who.name, role=who.role))


@router.patch("/{report_id}", openapi_extra=contract.json_body(contract.correction_schema()))
def correct_report(
    report_id: str,
    store: StoreDep,
    routing: RouterDep,
    clock: ClockDep,
    settings: SettingsDep,
    who: Principal = Depends(editors),
    data: Any = Depends(json_body),
) -> JSONResponse:
    return _json(
        corrections.correct_report(
            store,
            routing,
            report_id,
            data,
            actor=who.name,
            now=clock(),
            future_s=settings.future_tolerance_min * 60.0,
        )
    )


@router.post("/{report_id}/retract", openapi_extra=contract.json_body(contract.reason_schema()))
def retract_report(
    report_id: str,
    store: StoreDep,
    who: Principal = Depends(editors),
    data: Any = Depends(json_body),
) -> JSONResponse:
    return _json(corrections.retract_report(store, report_id, data, actor=who.name))


@router.get("/{report_id}/audit")
def report_audit(
    report_id: str, store: StoreDep, who: Principal = Depends(editors)
) -> JSONResponse:
    return _json(corrections.audit_entries(store, report_id))
