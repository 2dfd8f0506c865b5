"""One handler renders every floodpost error: JSON for /api/*, a page for HTML."""

from __future__ import annotations

import html
import logging
import secrets

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from floodpost.errors import FloodpostError, InvalidInput, WarmingUp
from floodpost.storage import faults
from floodpost.web.contract import install_contract
from floodpost.web.templating import render

log = logging.getLogger("floodpost.web")
# Statuses with their own sentence in the catalogues (common.json, "error.status.<n>").
EXPLAINED = frozenset({400, 401, 403, 404, 409, 413, 422, 429})


class InternalError(FloodpostError):
    """An unexpected exception: answered as JSON with a request id that is also in the log."""

    status = 500
    code = "internal"


class HTTPError(FloodpostError):
    """Starlette's own errors (unknown route, method not allowed, malformed request) in
    floodpost's one error model, instead of a bare {"detail": …}."""

    CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = self.CODES.get(status, f"http_{status}")


def _record_fault(request: Request, exc: FloodpostError) -> None:
    """Remember a store fault for /healthz ("degraded" with the reason while it lasts)."""
    state = getattr(getattr(request.app.state, "ctx", None), "store", None)
    fault_state = getattr(state, "faults", None)
    if isinstance(fault_state, faults.FaultState):
        fault_state.record(str(exc.extra.get("reason") or "closed"))


def unexpected(request: Request, exc: BaseException) -> Response:
    """The answer to an exception nothing else handled: a store fault (disk full, database
    locked or gone) is 503 with Retry-After (storage/faults.py); anything else a JSON 500,
    logged with a request id the client sees too, so a report from the field can be matched to
    its traceback."""
    fault = faults.classify(exc)
    if fault is not None:
        log.warning("store fault on %s %s: %r", request.method, request.url.path, exc)
        return render_error(request, fault)
    request_id = secrets.token_hex(8)
    log.error(
        "unexpected error, request id %s: %s %s",
        request_id,
        request.method,
        request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    err = InternalError("unexpected server error", request_id=request_id)
    return render_error(request, err)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/ogc")) or "text/html" not in request.headers.get(
        "accept", ""
    )


def render_error(request: Request, exc: FloodpostError) -> Response:
    headers = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = getattr(exc, "challenge", "Bearer")
    if exc.status in (429, 503) and "retry_after_s" in exc.extra:
        headers["Retry-After"] = str(int(exc.extra["retry_after_s"]))
    if exc.status == 503:
        headers.setdefault("Retry-After", str(faults.RETRY_AFTER_S["closed"]))
        if not isinstance(exc, WarmingUp):  # roll-ups warming up: not a fault of the store
            _record_fault(request, exc)
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
    # /openapi.json declares exactly these error bodies (web/contract.py).
    install_contract(app)

    @app.exception_handler(FloodpostError)
    async def _floodpost_error(request: Request, exc: FloodpostError) -> Response:
        return render_error(request, exc)

    # Store faults are answered here (ExceptionMiddleware), not by the catch-all below, which
    # Starlette runs in ServerErrorMiddleware and which re-raises after answering.
    for fault_type in faults.FAULT_TYPES:

        @app.exception_handler(fault_type)
        async def _fault(request: Request, exc: Exception) -> Response:
            return unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        return unexpected(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code < 400:  # the pages' redirect to /login
            return Response(status_code=exc.status_code, headers=exc.headers)
        response = render_error(request, HTTPError(exc.status_code, str(exc.detail)))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "form")]
        field = ".".join(loc) or "body"
        err = InvalidInput(f"{field}: {first.get('msg', 'invalid')}", field=field)
        return render_error(request, err)
