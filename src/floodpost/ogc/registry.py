"""Which collections /ogc serves: every catalogue layer, then the entries of EXTRA.

To add a collection (e.g. `warnings`, `orders`), write a Provider (see providers.py) and add
one line here:  EXTRA["warnings"] = WarningsProvider   (called as WarningsProvider(catalogue,
store)). Providers are made per request: they are cheap, and a reloaded catalogue is then
picked up at once.
"""

from __future__ import annotations

from collections.abc import Callable

from floodpost.geo.catalogue import Catalogue
from floodpost.ogc.providers import LayerProvider, Provider, ReportsProvider
from floodpost.storage.base import Store

ProviderFactory = Callable[[Catalogue, Store], Provider]

EXTRA: dict[str, ProviderFactory] = {
    "reports": ReportsProvider,
}


def providers(catalogue: Catalogue, store: Store) -> dict[str, Provider]:
    found: dict[str, Provider] = {lid: LayerProvider(catalogue, lid) for lid in catalogue.layer_ids}
    for cid, make in EXTRA.items():
        found[cid] = make(catalogue, store)
    return found
