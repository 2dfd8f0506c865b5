"""What every request handler can reach: the app's context, built once at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request

from floodpost.clock import Clock, system_clock
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.routing import ReportRouter
from floodpost.live.follower import ChangeFollower
from floodpost.settings import Settings
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

    def service(self, name: str, make: Callable[[], T]) -> T:
        """The app's one `name` service, made by `make` on first use. Two threads racing here
        may both call `make`, but setdefault keeps one, so everyone shares the same object."""
        found = self.services.get(name)
        if found is None:
            found = self.services.setdefault(name, make())
        return found


def change_follower(ctx: Context) -> ChangeFollower:
    """The app's one follower of the change log: every in-memory projection subscribes here."""
    return ctx.service("change_follower", lambda: ChangeFollower(ctx.store))


def get_ctx(request: Request) -> Context:
    return request.app.state.ctx
