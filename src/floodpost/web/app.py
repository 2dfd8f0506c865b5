"""create_app(settings): the one place the web application is assembled.

Read top to bottom: the collaborators (`build_context`), the middleware in order, the routers in
order, and `lifespan` (what starts after the app is up and stops before it goes). Routers only
declare routes; they reach the collaborators through the typed dependencies in web/deps.py.
"""

from __future__ import annotations

import asyncio
import gzip
import importlib
import json
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware

from floodpost import __version__
from floodpost.auth.accounts import UserCache
from floodpost.auth.basic import RecentPasswords
from floodpost.auth.secret import resolve_secret
from floodpost.auth.sessions import SessionGuard
from floodpost.auth.throttle import LoginThrottle
from floodpost.clock import Clock, system_clock
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.privacy import without_contacts
from floodpost.geo.routing import ReportRouter
from floodpost.hydro.network import GaugeNetwork
from floodpost.i18n import LANGUAGES, Translator
from floodpost.live.broker import Broker
from floodpost.live.escalation import Rules
from floodpost.live.follower import WARM_WAIT_S, ChangeFollower
from floodpost.live.places import places_from_catalogue
from floodpost.live.state import LiveState
from floodpost.mapview.command_post import render_command_post
from floodpost.mapview.mbtiles import MBTiles
from floodpost.ogc.providers import warm_layers
from floodpost.orders.rollcall import RollCall
from floodpost.orders.service import OrderBook
from floodpost.orders.sweep import start_sweep
from floodpost.orders.zones import zone_lookup
from floodpost.paths import web_dir
from floodpost.rules import EscalationLimits
from floodpost.settings import Settings, checked, load_settings
from floodpost.sms.notify import start_notifier
from floodpost.stats.rollup import follow
from floodpost.stats.service import ReviewStats
from floodpost.storage import open_store
from floodpost.storage.base import Store
from floodpost.web.deps import Context, Lazy, PageData
from floodpost.web.errors import install_error_handlers
from floodpost.web.gzip_types import GZIP_EXCLUDED
from floodpost.web.headers import SecurityHeaders
from floodpost.web.limits import BodySizeLimit
from floodpost.web.routers.events import EventsFastPath
from floodpost.web.routers.pages_report import build_places
from floodpost.web.routers.reports import IngestFastPath
from floodpost.web.security import USER_CACHE_TTL_S, CSRFCookieMiddleware
from floodpost.web.shutdown import end_streams_on_signal

# One router per resource, included in this order (it decides which of two equal paths wins).
# A new feature adds its module here; the module defines `router` and nothing that runs at import.
ROUTERS = (
    "health",
    "sms",
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
    "readings",
    "warnings",
    "orders",
    "rollcall",
    "ogc",
    "tiles",
    "pages_account",
)

log = logging.getLogger(__name__)


def build_context(
    settings: Settings,
    store: Store,
    clock: Clock,
    catalogue: Catalogue,
    *,
    keep: Context | None = None,
) -> Context:
    """Every long-lived collaborator of the app, each made once here. With `keep` (a reload of
    the layers, POST /api/layers/reload), what does not depend on the catalogue — the event
    broker with its open streams, accounts, sign-in throttle, signing key — is carried over."""
    county: dict[str, Any] = next(iter(catalogue.records("county").values()), {})
    pages = PageData(
        county_names={
            "zh_CN": county.get("name"),
            "en": county.get("name_en") or county.get("name"),
        },
        demo=bool(settings.demo) or any(catalogue.is_demo(lid) for lid in catalogue.layer_ids),
        map_pages={
            lang: Lazy(partial(render_command_post, catalogue, settings, Translator(lang)))
            for lang in LANGUAGES
        },
        places_json=Lazy(partial(_places_json, catalogue)),
        zones_without_contacts=Lazy(lambda: without_contacts(catalogue.geojson_bytes("zones"))),
    )
    # The one follower of the change log, and the report roll-up both screens read from it.
    # Readers through the web answer "warming up" rather than wait for a seed (issue 14 §5).
    follower = ChangeFollower(store, warm_wait_s=WARM_WAIT_S)
    rollup = follow(follower)
    router = ReportRouter(
        catalogue,
        outside_max_m=settings.outside_county_max_m,
        nearest_village_max_m=settings.nearest_village_max_m,
    )
    users = keep.users if keep else UserCache(store, USER_CACHE_TTL_S, clock)
    orders = OrderBook(store, catalogue, zone_of=zone_lookup(catalogue, router), clock=clock)
    return Context(
        settings=settings,
        catalogue=catalogue,
        store=store,
        router=router,
        secret_key=keep.secret_key if keep else resolve_secret(settings),
        clock=clock,
        users=users,
        sessions=keep.sessions if keep else SessionGuard(store, users),
        # Counts in the store: they survive a restart and every worker shares them (issue 13).
        throttle=keep.throttle
        if keep
        else LoginThrottle(settings.login_max_failures, settings.login_window_s, clock, store),
        broker=keep.broker if keep else Broker(store),
        follower=follower,
        rollup=rollup,
        gauges=GaugeNetwork.of(catalogue),
        orders=orders,
        rollcall=RollCall(orders),
        basic_passwords=keep.basic_passwords if keep else RecentPasswords(),
        basemap=keep.basemap if keep else (MBTiles(settings.basemap) if settings.basemap else None),
        live=LiveState(
            store,
            places_from_catalogue(catalogue),
            Rules.from_settings(settings),
            settings.silent_zone_hours,
            follower=follower,
            rollup=rollup,
        ),
        stats=ReviewStats(
            store,
            catalogue,
            limits=EscalationLimits.from_settings(settings),
            clock=clock,
            follower=follower,
            rollup=rollup,
        ),
        pages=pages,
    )


def reload_layers(app: FastAPI, catalogue: Catalogue) -> Context:
    """Serve `catalogue` from now on: every collaborator built from the layers is made anew and
    swapped in at once (requests already running finish with the old ones)."""
    old: Context = app.state.ctx
    app.state.ctx = build_context(old.settings, old.store, old.clock, catalogue, keep=old)
    return app.state.ctx


def _places_json(catalogue: Catalogue) -> tuple[bytes, bytes]:
    plain = json.dumps(
        build_places(catalogue.geojson_bytes), ensure_ascii=False, separators=(",", ":")
    ).encode()
    return plain, gzip.compress(plain, compresslevel=9, mtime=0)


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock = system_clock,
    catalogue: Catalogue | None = None,
) -> FastAPI:
    """Assemble the app. `store` and `catalogue` may be passed in (the demo, tests) to share
    ones already open or loaded; otherwise they come from the settings."""
    settings = checked(settings)
    ctx = build_context(
        settings,
        store or open_store(settings.db_url, clock=clock, **settings.store_limits()),
        clock,
        catalogue or Catalogue.load(settings.geodata_dir),
    )
    owns_store = store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Build the live aggregates and the statistics roll-up now (≈ 16 s over a million
        # events, bench_startup.py) on a thread of their own; until they are ready the live
        # picture and the statistics answer 503 warming_up with the progress (issue 14 §5).
        ctx.follower.warm(
            then=(lambda: ctx.live.snapshot(ctx.clock()), lambda: ctx.stats.summary())
        )
        # The layers encoded for GIS clients, so the first /ogc request finds them ready.
        _in_background("floodpost-ogc-warm", lambda: warm_layers(ctx.catalogue))
        restore_signals = end_streams_on_signal(ctx.broker, asyncio.get_running_loop())
        # The sweep follows the app's current order book (a layers reload replaces it).
        stop_sweep = start_sweep(lambda: app.state.ctx.orders)
        # Orders and warnings texted to the zones' responsible members (floodpost.sms.notify).
        stop_notify = start_notifier(ctx.store, settings, lambda: app.state.ctx.orders)
        try:
            yield
        finally:
            stop_notify()
            stop_sweep()
            restore_signals()
            await ctx.broker.stop()
            if owns_store:
                ctx.store.close()

    # Outermost first. SecurityHeaders puts CSP (with this response's nonce), nosniff & co. on
    # every response, the fast path's and the error pages' included (issue 13); BodySizeLimit
    # bounds every body, the ingest fast path's included; IngestFastPath answers POST
    # /api/reports before routing (bench/README.md), EventsFastPath GET /api/events (its chunks
    # skip the inner wrappers); the CSRF cookie goes on every HTML page;
    # gzip last, on what the routes answer (Starlette's gzip leaves text/event-stream alone, so
    # the live stream is not buffered).
    middleware = [
        Middleware(SecurityHeaders, settings=settings),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        Middleware(IngestFastPath),
        Middleware(EventsFastPath),
        Middleware(CSRFCookieMiddleware, ctx=ctx),
        Middleware(
            GZipMiddleware,
            minimum_size=1024,
            compresslevel=6,
            exclude_content_types=GZIP_EXCLUDED,  # not the zipped XLSX again (web/gzip_types.py)
        ),
    ]
    # FastAPI's /docs and /redoc pages load their scripts from a CDN, which the command post cannot
    # reach; the API description stays at /openapi.json and in docs/API.md.
    app = FastAPI(
        title="floodpost",
        version=__version__,
        lifespan=lifespan,
        middleware=middleware,
        docs_url=None,
        redoc_url=None,
        # FastAPI's OpenTelemetry hooks: the command post exports no traces or metrics, and the
        # check whether any provider is configured ran on every request (≈ 20 µs of the event
        # loop per report posted: environment lookups in opentelemetry's get_tracer_provider).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.ctx = ctx
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=web_dir() / "static"), name="static")
    for name in ROUTERS:
        app.include_router(importlib.import_module(f"floodpost.web.routers.{name}").router)
    return app


def _in_background(name: str, work: Callable[[], object]) -> None:
    """Run `work` on a daemon thread: only a head start, the first request does it otherwise."""

    def run() -> None:
        try:
            work()
        except Exception:  # noqa: BLE001
            log.warning("%s failed", name, exc_info=True)

    threading.Thread(target=run, name=name, daemon=True).start()


# The GIL switch interval of a serving process (CPython's default: 5 ms). The event loop and the
# store's writer thread hand the GIL to each other several times per report: every SQLite step,
# fsync and shapely call releases it, and a thread that wants it back waits up to the interval
# for the busy one to let go — with the writer holding SQLite's write lock meanwhile. Measured
# with bench/bench_ingest.py (SQLite, 1 worker, 32 clients, quiet machine, same run): 5 ms
# 1,083 reports/s at 0.93 ms CPU each; 1 ms 1,325; 0.5 ms 1,462 at 0.73 ms; 0.2 ms 1,439;
# 0.05 ms 1,328 (switching costs more than it saves). Since SQLite writes a batch of creates in
# one call without the GIL (storage/sqlite_batch.py) intake no longer tells 0.5 from 5 ms
# apart (2,340-2,705 vs 2,527-2,585 /s); the writer's other operations (corrections,
# roll-call marks, PostgreSQL's batches) still hand the GIL over per statement.
SERVE_SWITCH_INTERVAL_S = 0.0005


def tune_serving_process() -> None:
    """Process settings for a process that serves the app (`serve`, its workers, `demo`)."""
    sys.setswitchinterval(SERVE_SWITCH_INTERVAL_S)


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (several workers): settings come from FLOODPOST_* env."""
    tune_serving_process()
    return create_app(load_settings())
