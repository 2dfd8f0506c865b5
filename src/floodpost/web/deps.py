"""What every request handler can reach: the app's context, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from floodpost.clock import Clock, system_clock
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.routing import ReportRouter
from floodpost.settings import Settings
from floodpost.storage.base import Store


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


def get_ctx(request: Request) -> Context:
    return request.app.state.ctx
