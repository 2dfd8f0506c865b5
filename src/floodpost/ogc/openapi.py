"""The OpenAPI 3.0 document of /ogc (conformance class oas30), written by hand.

FastAPI's generated document is OpenAPI 3.1 (nullable parameters as `anyOf … null`), which 3.0
clients misread; this one is plain 3.0.3. GDAL reads the `limit` default and maximum from it.
"""

from __future__ import annotations

from typing import Any

from floodpost.ogc.params import DEFAULT_LIMIT, MAX_LIMIT
from floodpost.ogc.providers import Provider

ERROR = {"$ref": "#/components/responses/Error"}


def _param(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": False,
        **extra,
    }


def _json(description: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"type": "object"}}}}


LIMIT = _param(
    "limit",
    f"Features per page. Minimum 1, default {DEFAULT_LIMIT}, maximum {MAX_LIMIT} "
    "(a larger value is served as the maximum; follow the `next` link for more).",
    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
)
BBOX = _param(
    "bbox",
    "min lon, min lat, max lon, max lat in CRS84 (4 numbers; 6 with heights).",
    {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
)
DATETIME = _param(
    "datetime",
    "RFC 3339 instant or interval (`start/end`, `..` for open). Filters `reports` by "
    "occurred_at; ignored by layers, which have no time.",
    {"type": "string"},
)
COLLECTION_ID = {
    "name": "collectionId",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}


def _items_params(provider: Provider | None) -> list[dict[str, Any]]:
    params = [LIMIT, BBOX, DATETIME]
    if provider is None:
        return params
    paging = _param(
        provider.paging,
        "Position of the next page; use the `next` link rather than building it.",
        {"type": "string" if provider.paging == "cursor" else "integer", "minimum": 0},
    )
    if provider.paging == "cursor":
        paging["schema"] = {"type": "string", "pattern": r"^\d+$"}
    params.append(paging)
    for name, q in provider.queryables.items():
        schema: dict[str, Any] = {"type": q.type}
        if q.choices:
            schema["enum"] = list(q.choices)
        if q.pattern:
            schema["pattern"] = q.pattern
        params.append(_param(name, q.description, schema))
    return params


def _items_op(op_id: str, provider: Provider | None, extra: list[dict[str, Any]]) -> dict:
    return {
        "get": {
            "operationId": op_id,
            "summary": "features of the collection",
            "parameters": extra + _items_params(provider),
            "responses": {
                "200": _json("a page of features", "application/geo+json"),
                "400": ERROR,
                "401": ERROR,
                "404": ERROR,
            },
        }
    }


def openapi_document(base: str, title: str, providers: dict[str, Provider]) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/": {
            "get": {"operationId": "getLandingPage", "responses": {"200": _json("landing page")}}
        },
        "/api": {"get": {"operationId": "getAPI", "responses": {"200": _json("this document")}}},
        "/conformance": {
            "get": {"operationId": "getConformance", "responses": {"200": _json("conformance")}}
        },
        "/collections": {
            "get": {"operationId": "getCollections", "responses": {"200": _json("collections")}}
        },
        "/collections/{collectionId}": {
            "get": {
                "operationId": "describeCollection",
                "parameters": [COLLECTION_ID],
                "responses": {"200": _json("one collection"), "404": ERROR},
            }
        },
        "/collections/{collectionId}/items": _items_op("getFeatures", None, [COLLECTION_ID]),
        "/collections/{collectionId}/items/{featureId}": {
            "get": {
                "operationId": "getFeature",
                "parameters": [
                    COLLECTION_ID,
                    {
                        "name": "featureId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],  # fmt: skip
                "responses": {"200": _json("a feature", "application/geo+json"), "404": ERROR},
            }
        },
    }
    # Per-collection paths too, so a client sees each collection's own filters and paging.
    for cid, p in providers.items():
        paths[f"/collections/{cid}/items"] = _items_op(f"getFeatures_{cid}", p, [])
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": "1.0.0"},
        "servers": [{"url": base}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "responses": {
                "Error": {
                    "description": "error, with a message naming the parameter",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "error": {"type": "string"},
                                    "detail": {"type": "string"},
                                    "field": {"type": "string"},
                                },
                            }
                        }
                    },
                }
            },
        },
    }
