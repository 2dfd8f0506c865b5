"""One handler renders every floodpost error: JSON for /api/*, a page for HTML."""

from __future__ import annotations

import html
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

from floodpost.errors import FloodpostError, InvalidInput
from floodpost.web.templating import render

log = logging.getLogger(__name__)
# Statuses with their own sentence in the catalogues (common.json, "error.status.<n>").
EXPLAINED = frozenset({400, 401, 403, 404, 409, 413, 422, 429})


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/ogc")) or "text/html" not in request.headers.get(
        "accept", ""
    )


def render_error(request: Request, exc: FloodpostError) -> Response:
    headers = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = getattr(exc, "challenge", "Bearer")
    if exc.status == 429 and "retry_after_s" in exc.extra:
        headers["Retry-After"] = str(int(exc.extra["retry_after_s"]))
    if _wants_json(request):
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)
    try:
        response = _error_page(request, exc)
    except Exception:  # noqa: BLE001 - an error page must never fail: fall back to plain HTML
        log.warning("error page could not be rendered", exc_info=True)
        body = (
            "<!doctype html><meta charset=utf-8><title>floodpost</title>"
            f"<h1>{exc.status}</h1><p>{html.escape(exc.message)}</p><p><a href='/'>floodpost</a></p>"
        )
        response = HTMLResponse(body, status_code=exc.status)
    response.headers.update(headers)
    return response


def _error_page(request: Request, exc: FloodpostError) -> Response:
    key = f"error.status.{exc.status if exc.status in EXPLAINED else 'other'}"
    return render(
        request,
        "error.html",
        status_code=exc.status,
        status=exc.status,
        explain_key=key,
        detail=exc.message,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FloodpostError)
    async def _floodpost_error(request: Request, exc: FloodpostError) -> Response:
        return render_error(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "form")]
        field = ".".join(loc) or "body"
        err = InvalidInput(f"{field}: {first.get('msg', 'invalid')}", field=field)
        return render_error(request, err)
