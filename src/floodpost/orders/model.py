"""What an evacuation order is, as a commander sends it and as the command post keeps it.

    order = parse_order(data, villages)           # OrderCreate, or InvalidOrder naming the field
    stored = build_order(order, issued_by="wang", issued_ts=now)
    same = order.content_hash() == stored_hash    # idempotency: 200 for a resend, 409 otherwise

No web code and no storage here: the same functions serve the API, the CLI and the benchmarks.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from floodpost.errors import InvalidOrder
from floodpost.reports.model import iso_utc

LEVELS = ("prepare", "evacuate")  # 准备转移 / 立即转移
ORDER_STATUSES = ("open", "completed", "cancelled")
MAX_VILLAGES = 1000
MAX_MESSAGE_CHARS = 2000
MAX_WARNINGS = 200


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


VillageCode = Annotated[str, Field(pattern=r"^\d{12}$")]
WarningId = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_no_nul)]
Message = Annotated[
    str, Field(max_length=MAX_MESSAGE_CHARS), AfterValidator(_no_nul), AfterValidator(_not_blank)
]


class OrderCreate(BaseModel):
    """An order as the commander's client sends it (OrderCreate); `id` is made by the client so
    that a resend after a lost answer is recognised."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    level: Literal["prepare", "evacuate"]
    villages: list[VillageCode] = Field(min_length=1, max_length=MAX_VILLAGES)
    message: Message
    warning_ids: list[WarningId] = Field(default_factory=list, max_length=MAX_WARNINGS)

    @field_validator("id", mode="before")
    @classmethod
    def _id_is_uuid_text(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("id must be a UUID string made by the client")
        return value

    @field_validator("villages")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for code in value:
            if code in seen:
                raise ValueError(f"{code} is listed twice")
            seen.add(code)
        return value

    def submitted(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def content_hash(self) -> str:
        """Hash of what makes two sends the same order. The order of the village and warning
        lists carries no meaning (a map selection has none), so they are compared sorted."""
        body = self.submitted()
        body["villages"] = sorted(body["villages"])
        body["warning_ids"] = sorted(body["warning_ids"])
        canon = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()


def _invalid(exc: ValidationError) -> InvalidOrder:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "body"
    msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    details = [
        {"field": ".".join(str(p) for p in e.get("loc", ())) or None, "msg": str(e.get("msg"))}
        for e in errors
    ]
    return InvalidOrder(f"{field}: {msg}", field=field, errors=details)


def parse_order(data: Any, villages: Mapping[str, Any], county_code: str) -> OrderCreate:
    """Validate a client payload against the county's villages; InvalidOrder names the field
    (e.g. `villages.3`) for anything wrong, before anything is stored."""
    if not isinstance(data, dict):
        raise InvalidOrder("the body must be a JSON object", field="body")
    try:
        order = OrderCreate.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from None
    for i, code in enumerate(order.villages):
        if not code.startswith(county_code):
            raise InvalidOrder(
                f"villages.{i}: {code} is outside the county ({county_code})",
                field=f"villages.{i}",
            )
        if code not in villages:
            raise InvalidOrder(f"villages.{i}: unknown village {code}", field=f"villages.{i}")
    return order


def build_order(order: OrderCreate, *, issued_by: str | None, issued_ts: float) -> dict[str, Any]:
    """The order's own record (what the store keeps; progress is computed beside it)."""
    body = order.submitted()
    body.update(
        issued_at=iso_utc(issued_ts),
        issued_ts=issued_ts,
        issued_by=issued_by,
        status="open",
        cancelled_at=None,
        cancelled_ts=None,
        cancelled_by=None,
        completed_at=None,
        completed_ts=None,
    )
    return body


def canonical_order_id(order_id: str) -> str | None:
    """The stored spelling of an order UUID, or None if `order_id` is not one."""
    try:
        return str(uuid.UUID(order_id))
    except (ValueError, AttributeError, TypeError):
        return None
