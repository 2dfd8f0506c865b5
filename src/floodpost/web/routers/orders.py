"""Evacuation orders and their CAP alerts (CONTRACT.md "Evacuation orders and roll-call").

Thin: parse, call one OrderBook method, answer. The writes block on the store's single writer,
so the handlers are plain `def` (run in the thread pool).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from floodpost.errors import Unavailable
from floodpost.orders import queries
from floodpost.orders.cap import ATOM_MEDIA_TYPE, CAP_MEDIA_TYPE
from floodpost.orders.rollcall import RollCall
from floodpost.orders.service import Actor, OrderBook, field_entity_filter
from floodpost.orders.zones import zone_lookup
from floodpost.reports.intake import decode_json
from floodpost.web.deps import Context, get_ctx
from floodpost.web.security import Principal, require_role, require_user

router = APIRouter(tags=["orders"])
log = logging.getLogger(__name__)
SETTLE_EVERY_S = 10.0
_MAKING = threading.Lock()
commanders = require_role("commander")


def order_book(ctx: Context) -> OrderBook:
    book = ctx.services.get("orders.book")
    if book is None:
        with _MAKING:
            book = ctx.services.get("orders.book")
            if book is None:
                zone_of = zone_lookup(ctx.catalogue, ctx.router)
                book = OrderBook(ctx.store, ctx.catalogue, zone_of=zone_of, clock=ctx.clock)
                ctx.services["orders.book"] = book
                start_sweep(ctx, book)
    return book


def roll_call(ctx: Context) -> RollCall:
    return ctx.service("orders.rollcall", lambda: RollCall(order_book(ctx)))


def field_entities(ctx: Context, name: str):  # noqa: ANN201 - the filter sse_events takes
    zones = queries.user_zones(ctx.store.read, name)
    return field_entity_filter(zones, order_book(ctx).zone_of)


async def json_or_empty(request: Request) -> Any:
    raw = await request.body()
    return decode_json(raw) if raw.strip() else {}


def _actor(who: Principal) -> Actor:
    return Actor(who.name, who.role)


@router.post("/api/orders", status_code=201)
def issue_order(
    request: Request, who: Principal = Depends(commanders), data: Any = Depends(json_or_empty)
) -> JSONResponse:
    order, created = order_book(get_ctx(request)).issue(data, actor=who.name)
    if created:
        return JSONResponse(order, 201, headers={"location": f"/api/orders/{order['id']}"})
    return JSONResponse(order, 200)


@router.get("/api/orders")
def list_orders(request: Request, who: Principal = Depends(require_user)) -> JSONResponse:
    return JSONResponse({"orders": order_book(get_ctx(request)).list(_actor(who))})


@router.get("/api/orders/{order_id}")
def get_order(
    request: Request, order_id: str, who: Principal = Depends(require_user)
) -> JSONResponse:
    return JSONResponse(order_book(get_ctx(request)).get(order_id, _actor(who)))


@router.post("/api/orders/{order_id}/ack")
def ack_order(
    request: Request, order_id: str, who: Principal = Depends(require_user)
) -> JSONResponse:
    return JSONResponse(order_book(get_ctx(request)).ack(order_id, _actor(who)))


@router.post("/api/orders/{order_id}/cancel")
def cancel_order(
    request: Request,
    order_id: str,
    who: Principal = Depends(commanders),
    data: Any = Depends(json_or_empty),
) -> JSONResponse:
    reason = data.get("reason") if isinstance(data, dict) else None
    book = order_book(get_ctx(request))
    return JSONResponse(book.cancel(order_id, actor=who.name, reason=_reason(reason)))


def _reason(value: Any) -> str | None:
    from floodpost.errors import InvalidInput

    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 500 or "\x00" in value:
        raise InvalidInput("reason must be text of at most 500 characters", field="reason")
    return value


@router.get("/api/orders/{order_id}/cap")
def order_cap(request: Request, order_id: str, who: Principal = Depends(require_user)) -> Response:
    book = order_book(get_ctx(request))
    book.get(order_id, _actor(who))  # the same visibility as the order itself
    return Response(book.cap(order_id), media_type=CAP_MEDIA_TYPE)


@router.get("/api/alerts.atom")
def alerts_feed(request: Request, who: Principal = Depends(require_user)) -> Response:
    body = order_book(get_ctx(request)).atom(str(request.base_url))
    return Response(body, media_type=ATOM_MEDIA_TYPE)


def start_sweep(ctx: Context, book: OrderBook) -> None:
    """Evacuation reports can finish an order with no order write: a background sweep completes
    such orders every SETTLE_EVERY_S seconds (stored, logged, streamed as `event: order`).
    Started with the app's order book, i.e. on the first orders request; it ends when the app
    shuts down or its store is closed."""
    stop = threading.Event()

    def sweep() -> None:
        while not stop.wait(SETTLE_EVERY_S):
            try:
                book.settle_open()
            except Unavailable:
                return
            except Exception:  # noqa: BLE001 - a lost connection: the next round tries again
                log.debug("order sweep failed", exc_info=True)

    threading.Thread(target=sweep, name="floodpost-order-sweep", daemon=True).start()

    async def stop_sweep() -> None:
        stop.set()

    ctx.services.setdefault("on_shutdown", []).append(stop_sweep)
