"""What every request handler can reach: the app's context, built once at start-up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request

from floodpost.clock import Clock, system_clock
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.routing import ReportRouter
from floodpost.live.follower import ChangeFollower
from floodpost.settings import Settings
from floodpost.stats.rollup import Rollup, follow
from floodpost.storage.base import Store

T = TypeVar("T")


@dataclass
class Context:
    settings: Settings
    catalogue: Catalogue
    store: Store
    router: ReportRouter
    secret_key: str
    clock: Clock = system_clock
    # Per-feature services (event broker, throttles...) registered by their modules at start-up.
    services: dict[str, Any] = field(default_factory=dict)
    _making: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def service(self, name: str, make: Callable[[], T]) -> T:
        """The app's one `name` service, made by `make` on first use, once: making one may
        subscribe a projection to the change follower, which must not happen twice."""
        found = self.services.get(name)
        if found is None:
            with self._making:  # re-entrant: one service's make may need another
                found = self.services.get(name)
                if found is None:
                    found = self.services.setdefault(name, make())
        return found


def change_follower(ctx: Context) -> ChangeFollower:
    """The app's one follower of the change log: every in-memory projection subscribes here."""
    return ctx.service("change_follower", lambda: ChangeFollower(ctx.store))


def report_rollup(ctx: Context) -> Rollup:
    """The report roll-up both screens read (live panel and review), on the app's follower."""
    return ctx.service("report_rollup", lambda: follow(change_follower(ctx)))


def get_ctx(request: Request) -> Context:
    return request.app.state.ctx
