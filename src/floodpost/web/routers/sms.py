"""SMS on the command post (#11): the messages list staff read, and a commander's extra numbers
for an order. Thin: parse, call one function in floodpost.sms, answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from floodpost.errors import InvalidInput
from floodpost.sms.messages import listed
from floodpost.sms.notify import notify_numbers
from floodpost.sms.outgoing import SmsSender
from floodpost.web import contract
from floodpost.web.bodies import json_or_empty
from floodpost.web.deps import OrdersDep, SettingsDep, StoreDep
from floodpost.web.security import Principal, require_role

router = APIRouter(tags=["sms"])
readers = require_role("staff", "commander")
commanders = require_role("commander")


@router.get("/api/sms")
def list_sms(
    store: StoreDep, who: Principal = Depends(readers), limit: int = 200, unread: bool = False
) -> JSONResponse:
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be 1 to 1000", field="limit")
    return JSONResponse({"messages": listed(store, limit=limit, attention=unread)})


@router.post(
    "/api/orders/{order_id}/notify",
    openapi_extra=contract.json_body(
        {
            "type": "object",
            "title": "OrderNotify",
            "properties": {
                "numbers": {
                    "type": "array",
                    "items": {"type": "string", "maxLength": 32},
                    "minItems": 1,
                    "maxItems": 50,
                }
            },
            "required": ["numbers"],
        }
    ),
)
def notify_order(
    store: StoreDep,
    settings: SettingsDep,
    book: OrdersDep,
    order_id: str,
    who: Principal = Depends(commanders),
    data: Any = Depends(json_or_empty),
) -> JSONResponse:
    numbers = data.get("numbers") if isinstance(data, dict) else None
    if not isinstance(numbers, list):
        raise InvalidInput("numbers must be a list of phone numbers", field="numbers")
    sender = SmsSender.from_settings(settings)
    return JSONResponse({"sent": notify_numbers(store, sender, book, order_id, numbers)})
