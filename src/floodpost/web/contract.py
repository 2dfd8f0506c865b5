"""The published API contract (issue 13): one error model for every status, declared in
/openapi.json, and the JSON request bodies that routes read themselves declared too.

FastAPI's generated document says a 422 carries `detail` as an array of validation errors and
knows nothing of the other error statuses; floodpost answers every error, whatever its status,
with one JSON object (`error`, `detail`, optional `field`, `code`, `errors`, `retry_after_s`,
`reason`, `request_id`, …). The document is rewritten once, on first request, to say exactly that.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from floodpost.reports.corrections import CORRECTABLE
from floodpost.reports.model import ReportCreate


class ErrorItem(BaseModel):
    field: str | None = None
    msg: str


class ErrorBody(BaseModel):
    """Every error floodpost answers, whatever its status (docs/API.md, Errors)."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="the error code, e.g. invalid_report, not_found, unavailable")
    detail: str = Field(description="a message for people, naming the field where there is one")
    field: str | None = Field(None, description="the offending field or parameter")
    code: str | None = Field(None, description="a finer reason, e.g. id_conflict, csrf")
    errors: list[ErrorItem] | None = Field(None, description="every validation problem")
    retry_after_s: int | None = Field(None, description="429/503: seconds until a retry")
    reason: str | None = Field(None, description="503: what is wrong with the store")
    request_id: str | None = Field(None, description="500: the id the error was logged under")
    progress: dict[str, Any] | None = Field(
        None, description="503 warming_up: state, step, done, total, fraction of the roll-ups"
    )


_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_ERROR_RESPONSE = {
    "description": "Error (one JSON object for every status)",
    "content": {"application/json": {"schema": _ERROR_REF}},
}


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its JSON body itself (not through a model)."""
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": schema}},
        }
    }


def report_schema() -> dict[str, Any]:
    return ReportCreate.model_json_schema()


def correction_schema() -> dict[str, Any]:
    """PATCH /api/reports/{id}: a reason and the fields to change (any of the report's but id)."""
    props = {k: v for k, v in report_schema()["properties"].items() if k in CORRECTABLE}
    return {
        "type": "object",
        "title": "ReportCorrection",
        "properties": {"reason": reason_schema()["properties"]["reason"], **props},
        "required": ["reason"],
        "additionalProperties": False,
        "minProperties": 2,
    }


def reason_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "title": "Reason",
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 500}},
        "required": ["reason"],
    }


def order_schema() -> dict[str, Any]:
    """POST /api/orders (checked by floodpost.orders.model, which names the field on a 422)."""
    return {
        "type": "object",
        "title": "OrderCreate",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "level": {"type": "string", "enum": ["prepare", "evacuate"]},
            "villages": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[0-9]{12}$"},
                "minItems": 1,
                "maxItems": 1000,
                "uniqueItems": True,
            },
            "message": {"type": "string", "minLength": 1, "maxLength": 2000},
            "warning_ids": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["id", "level", "villages", "message"],
    }


def cancel_schema() -> dict[str, Any]:
    """POST /api/orders/{id}/cancel: an optional reason (the body itself may be left out)."""
    return {
        "type": "object",
        "title": "OrderCancel",
        "properties": {"reason": {"type": "string", "maxLength": 500}},
    }


def household_mark_schema() -> dict[str, Any]:
    """POST /api/rollcall/{household_id}."""
    return {
        "type": "object",
        "title": "HouseholdMark",
        "properties": {
            "status": {"type": "string", "enum": ["evacuated", "safe", "unreachable", "missing"]},
            "note": {"type": "string", "maxLength": 500},
        },
        "required": ["status"],
    }


def _error_schemas() -> dict[str, Any]:
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {"Error": schema, **defs}


def published_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document with floodpost's own error model on every operation."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(_error_schemas())
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses["422"] = {**_ERROR_RESPONSE, "description": "Invalid input, naming the field"}
            responses["4XX"] = _ERROR_RESPONSE
            responses["5XX"] = {**_ERROR_RESPONSE, "description": "503 with Retry-After; 500"}
    app.openapi_schema = doc
    return doc


def install_contract(app: FastAPI) -> None:
    app.openapi = lambda: published_openapi(app)  # type: ignore[method-assign]
