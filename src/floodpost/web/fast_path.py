"""One route answered before routing, with the route's own checks and code.

FastAPI's router and dependency solver cost ≈ 0.3 ms of CPU per request, a third of the ingest
path (bench/README.md, bench_ingest), and every middleware inside this one wraps each chunk of a
stream (bench_push). `POST /api/reports` and `GET /api/events` are therefore served by a
`FastPath` subclass listed among the app's middleware (web/app.py); the FastAPI routes stay the
documented definitions and serve whenever the fast path is absent. Errors are rendered exactly as
the app's handlers render them (one error model, never a plain-text 500).
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from floodpost.errors import FloodpostError
from floodpost.web.errors import render_error, unexpected


class FastPath:
    method: ClassVar[str]
    path: ClassVar[str]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["method"] == self.method
            and scope["path"] == self.path
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response: Any = await self.answer(request)
        except FloodpostError as exc:
            response = render_error(request, exc)
        except Exception as exc:  # noqa: BLE001 - never a plain-text 500 (issue 13)
            response = unexpected(request, exc)
        await response(scope, receive, send)

    async def answer(self, request: Request) -> Any:
        """The route's response (an ASGI app), built with the route's own checks."""
        raise NotImplementedError
