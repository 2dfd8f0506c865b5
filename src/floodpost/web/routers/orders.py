"""Evacuation orders and their CAP alerts (CONTRACT.md "Evacuation orders and roll-call").

Thin: parse, call one OrderBook method, answer. The writes block on the store's single writer,
so the handlers are plain `def` (run in the thread pool).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from floodpost.errors import InvalidInput
from floodpost.orders.cap import ATOM_MEDIA_TYPE, CAP_MEDIA_TYPE
from floodpost.orders.service import Actor
from floodpost.web import contract
from floodpost.web.bodies import json_or_empty
from floodpost.web.deps import OrdersDep
from floodpost.web.security import Principal, require_role, require_user

router = APIRouter(tags=["orders"])
commanders = require_role("commander")


def _actor(who: Principal) -> Actor:
    return Actor(who.name, who.role)


@router.post(
    "/api/orders", status_code=201, openapi_extra=contract.json_body(contract.order_schema())
)
def issue_order(
    book: OrdersDep, who: Principal = Depends(commanders), data: Any = Depends(json_or_empty)
) -> JSONResponse:
    order, created = book.issue(data, actor=who.name)
    if created:
        return JSONResponse(order, 201, headers={"location": f"/api/orders/{order['id']}"})
    return JSONResponse(order, 200)


@router.get("/api/orders")
def list_orders(book: OrdersDep, who: Principal = Depends(require_user)) -> JSONResponse:
    return JSONResponse({"orders": book.list(_actor(who))})


@router.get("/api/orders/{order_id}")
def get_order(
    book: OrdersDep, order_id: str, who: Principal = Depends(require_user)
) -> JSONResponse:
    return JSONResponse(book.get(order_id, _actor(who)))


@router.post("/api/orders/{order_id}/ack")
def ack_order(
    book: OrdersDep, order_id: str, who: Principal = Depends(require_user)
) -> JSONResponse:
    return JSONResponse(book.ack(order_id, _actor(who)))


@router.post(
    "/api/orders/{order_id}/cancel",
    openapi_extra=contract.json_body(contract.cancel_schema(), required=False),
)
def cancel_order(
    book: OrdersDep,
    order_id: str,
    who: Principal = Depends(commanders),
    data: Any = Depends(json_or_empty),
) -> JSONResponse:
    reason = data.get("reason") if isinstance(data, dict) else None
    return JSONResponse(book.cancel(order_id, actor=who.name, reason=_reason(reason)))


def _reason(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 500 or "\x00" in value:
        raise InvalidInput("reason must be text of at most 500 characters", field="reason")
    return value


@router.get("/api/orders/{order_id}/cap")
def order_cap(book: OrdersDep, order_id: str, who: Principal = Depends(require_user)) -> Response:
    book.get(order_id, _actor(who))  # the same visibility as the order itself
    return Response(book.cap(order_id), media_type=CAP_MEDIA_TYPE)


@router.get("/api/alerts.atom")
def alerts_feed(
    request: Request, book: OrdersDep, who: Principal = Depends(require_user)
) -> Response:
    body = book.atom(str(request.base_url))
    return Response(body, media_type=ATOM_MEDIA_TYPE)
