"""Request-body dependencies shared by routers that take an optional JSON body."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from floodpost.reports.intake import decode_json


async def json_or_empty(request: Request) -> Any:
    """The body as JSON, or {} when there is none (POST .../ack and .../cancel may be empty)."""
    raw = await request.body()
    return decode_json(raw) if raw.strip() else {}
