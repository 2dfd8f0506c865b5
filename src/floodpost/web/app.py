"""create_app(settings): the one place the web application is assembled."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from floodpost import __version__
from floodpost.auth.secret import resolve_secret
from floodpost.clock import Clock, system_clock
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.routing import ReportRouter
from floodpost.paths import web_dir
from floodpost.settings import Settings
from floodpost.storage import open_store
from floodpost.storage.base import Store
from floodpost.web.deps import Context
from floodpost.web.errors import install_error_handlers
from floodpost.web.headers import SecurityHeaders

# One router per resource. A module may also define `setup(app, ctx)` for start-up work
# (an event broker, a background task) so that features never need to edit this file.
ROUTERS = (
    "health",
    "layers",
    "auth",
    "reports",
    "events",
    "requests",
    "stats",
    "export",
    "pages_map",
    "pages_report",
    "pages_review",
    "pages_account",
)


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock = system_clock,
    catalogue: Catalogue | None = None,
) -> FastAPI:
    """Assemble the app. `store` and `catalogue` may be passed in (the demo, tests) to share
    ones already open or loaded; otherwise they come from the settings."""
    catalogue = catalogue or Catalogue.load(settings.geodata_dir)
    ctx = Context(
        settings=settings,
        catalogue=catalogue,
        store=store or open_store(settings.db_url, **settings.store_limits()),
        router=ReportRouter(
            catalogue,
            outside_max_m=settings.outside_county_max_m,
            nearest_village_max_m=settings.nearest_village_max_m,
        ),
        secret_key=resolve_secret(settings),
        clock=clock,
    )
    owns_store = store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        for stop in ctx.services.get("on_shutdown", []):
            await stop()
        if owns_store:
            ctx.store.close()

    # FastAPI's /docs and /redoc pages load their scripts from a CDN, which the command post cannot
    # reach; the API description stays at /openapi.json and in docs/API.md.
    app = FastAPI(
        title="floodpost", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    # Phones on poor links and the big screen's first load both pay for every byte; Starlette's
    # gzip leaves text/event-stream alone, so the live stream is not buffered.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.add_middleware(SecurityHeaders, settings=settings)  # CSP, nosniff, … (issue 13)
    app.mount("/static", StaticFiles(directory=web_dir() / "static"), name="static")
    for name in ROUTERS:
        module = importlib.import_module(f"floodpost.web.routers.{name}")
        app.include_router(module.router)
        setup = getattr(module, "setup", None)
        if setup is not None:
            setup(app, ctx)
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (several workers): settings come from FLOODPOST_* env."""
    return create_app(Settings())
