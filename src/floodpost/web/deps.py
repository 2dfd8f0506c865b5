"""What every request handler can reach: the app's collaborators, built once by create_app.

A router never builds a collaborator and never imports another router's getter: it declares
the ones it needs as typed dependencies and FastAPI hands them over::

    from floodpost.web.deps import CatalogueDep, ClockDep, SettingsDep, StoreDep

    router = APIRouter(tags=["things"])

    @router.get("/api/things")
    def things(store: StoreDep, clock: ClockDep) -> dict[str, Any]:
        return domain.things(store, now=clock())

Then add the module's name to ``ROUTERS`` in web/app.py. Available: ``CtxDep`` (the whole
Context), ``SettingsDep``, ``StoreDep``, ``CatalogueDep``, ``ClockDep``, ``RouterDep`` (report
routing), ``LiveDep`` (live state), ``StatsDep`` (review statistics), ``BrokerDep`` (change
stream), ``FollowerDep`` (the change-log follower), ``GaugesDep`` (gauges and thresholds), ``OrdersDep``
and ``RollCallDep`` (evacuation orders and household roll-call). A new long-lived service is a field of Context built in create_app, with a getter and
an ``Annotated`` alias here.

The getters are ``async def`` that only read ``request.app.state.ctx``: FastAPI runs a plain
``def`` dependency in its thread pool, a measurable hop per request on the ingest path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Request

from floodpost.auth.accounts import UserCache
from floodpost.auth.basic import RecentPasswords
from floodpost.auth.sessions import SessionGuard
from floodpost.auth.throttle import LoginThrottle
from floodpost.clock import Clock
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.routing import ReportRouter
from floodpost.hydro.network import GaugeNetwork
from floodpost.live.broker import Broker
from floodpost.live.follower import ChangeFollower
from floodpost.live.state import LiveState
from floodpost.mapview.command_post import MapPage
from floodpost.mapview.mbtiles import MBTiles
from floodpost.orders.rollcall import RollCall
from floodpost.orders.service import OrderBook
from floodpost.settings import Settings
from floodpost.stats.rollup import Rollup
from floodpost.stats.service import ReviewStats
from floodpost.storage.base import Store

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value made on first use, once, by one thread (others wait for it): for work too slow
    to do at start-up that a request may never need (a folium map, the form's place lists)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make: Callable[[], T] | None = make
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        if self._make is not None:
            with self._lock:
                if self._make is not None:
                    self._value = self._make()
                    self._make = None
        return self._value  # type: ignore[return-value]  # set above, T may include None


@dataclass(frozen=True)
class PageData:
    """What every page shows beside its own content, fixed for the life of the app."""

    county_names: Mapping[str, str | None]  # language -> the county's name in it
    demo: bool  # demo mode, or a layer of demo data: the badge on every page
    map_pages: Mapping[str, Lazy[MapPage]]  # language -> the rendered command-post map
    places_json: Lazy[tuple[bytes, bytes]]  # the form's place lists: (plain, gzipped) JSON
    # The zones layer without owners' phone numbers, for field members (issue 13).
    zones_without_contacts: Lazy[bytes]


@dataclass(frozen=True)
class Context:
    settings: Settings
    catalogue: Catalogue
    store: Store
    router: ReportRouter
    secret_key: str
    clock: Clock
    users: UserCache
    # Whether a genuine token's session is still admitted (revocation; issue 13).
    sessions: SessionGuard
    # Sign-in throttling, its counts in the store (they survive a restart; issue 13).
    throttle: LoginThrottle
    broker: Broker
    # The one follower of the change log; every in-memory projection subscribes to it.
    follower: ChangeFollower
    rollup: Rollup  # the report roll-up both screens read (live panel and review)
    gauges: GaugeNetwork  # the stations layer and the thresholds of what they watch (issue 9)
    orders: OrderBook  # evacuation orders, their progress and CAP alerts (issue 10)
    rollcall: RollCall  # the household roster and its roll-call (issue 10)
    basic_passwords: RecentPasswords  # HTTP Basic on /ogc: passwords verified a moment ago
    basemap: MBTiles | None  # the offline basemap file (FLOODPOST_BASEMAP), served at /tiles
    live: LiveState
    stats: ReviewStats
    pages: PageData


def ctx_of(request: Request) -> Context:
    """The app's Context, for code that has a request but is not a route (middleware, render)."""
    ctx: Context = request.app.state.ctx
    return ctx


async def get_ctx(request: Request) -> Context:
    return ctx_of(request)


async def get_settings(request: Request) -> Settings:
    return ctx_of(request).settings


async def get_store(request: Request) -> Store:
    return ctx_of(request).store


async def get_catalogue(request: Request) -> Catalogue:
    return ctx_of(request).catalogue


async def get_clock(request: Request) -> Clock:
    return ctx_of(request).clock


async def get_router(request: Request) -> ReportRouter:
    return ctx_of(request).router


async def get_live(request: Request) -> LiveState:
    return ctx_of(request).live


async def get_stats(request: Request) -> ReviewStats:
    return ctx_of(request).stats


async def get_broker(request: Request) -> Broker:
    return ctx_of(request).broker


async def get_gauges(request: Request) -> GaugeNetwork:
    return ctx_of(request).gauges


async def get_orders(request: Request) -> OrderBook:
    return ctx_of(request).orders


async def get_rollcall(request: Request) -> RollCall:
    return ctx_of(request).rollcall


async def get_follower(request: Request) -> ChangeFollower:
    return ctx_of(request).follower


CtxDep = Annotated[Context, Depends(get_ctx)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
ClockDep = Annotated[Clock, Depends(get_clock)]
RouterDep = Annotated[ReportRouter, Depends(get_router)]
LiveDep = Annotated[LiveState, Depends(get_live)]
StatsDep = Annotated[ReviewStats, Depends(get_stats)]
BrokerDep = Annotated[Broker, Depends(get_broker)]
GaugesDep = Annotated[GaugeNetwork, Depends(get_gauges)]
OrdersDep = Annotated[OrderBook, Depends(get_orders)]
RollCallDep = Annotated[RollCall, Depends(get_rollcall)]
FollowerDep = Annotated[ChangeFollower, Depends(get_follower)]
