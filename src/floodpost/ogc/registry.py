"""Which collections /ogc serves: every catalogue layer, then the entries of EXTRA.

To add a collection, write a Provider (see providers.py) and add one line here:
EXTRA["things"] = lambda s: ThingsProvider(s.catalogue, s.store), where `s` is a Sources.
Providers are made per request: they are cheap, and a reloaded catalogue is then picked up at
once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from floodpost.geo.catalogue import Catalogue
from floodpost.ogc.alerts import OrdersProvider, WarningsProvider
from floodpost.ogc.providers import LayerProvider, Provider, ReportsProvider
from floodpost.orders.service import OrderBook
from floodpost.storage.base import Store


@dataclass(frozen=True)
class Sources:
    """What providers read: the layers, the store and the app's order book."""

    catalogue: Catalogue
    store: Store
    orders: OrderBook


ProviderFactory = Callable[[Sources], Provider]

EXTRA: dict[str, ProviderFactory] = {
    "reports": lambda s: ReportsProvider(s.catalogue, s.store),
    "warnings": lambda s: WarningsProvider(s.catalogue, s.store),
    "orders": lambda s: OrdersProvider(s.catalogue, s.store, s.orders),
}


def providers(catalogue: Catalogue, store: Store, orders: OrderBook) -> dict[str, Provider]:
    found: dict[str, Provider] = {lid: LayerProvider(catalogue, lid) for lid in catalogue.layer_ids}
    sources = Sources(catalogue, store, orders)
    for cid, make in EXTRA.items():
        found[cid] = make(sources)
    return found
