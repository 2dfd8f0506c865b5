"""Reloading the layer catalogue while serving (after `floodpost import`): all or nothing.

The new folder is loaded and checked in full before anything changes; a folder that does not
load is refused with the reason and the catalogue in use keeps serving. Each reload is a change
in the audit log (entity `layers`, id `geodata`, action `reload`: who, when, which folder, counts
before → after), so it is also pushed to open screens as `event: layers`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from floodpost.errors import InvalidInput, LayerError
from floodpost.geo.catalogue import Catalogue
from floodpost.storage.base import Store, WriteTx

ENTITY = "layers"
ENTITY_ID = "geodata"


def load_replacement(directory: Path) -> Catalogue:
    try:
        return Catalogue.load(directory)
    except LayerError as exc:
        raise InvalidInput(
            f"geodata folder refused, the layers in use keep serving: {exc.message}",
            field=exc.field or "geodata",
            file=exc.extra.get("file"),
        ) from exc


def record_reload(store: Store, old: Catalogue, new: Catalogue, *, actor: str) -> dict[str, Any]:
    """Write the reload to the audit log and return its entry."""
    entry = {
        "directory": str(new.directory),
        "layers": {lid: [old.count(lid), new.count(lid)] for lid in new.layer_ids},
    }

    def work(tx: WriteTx) -> dict[str, Any]:
        at_ts = tx.now()
        tx.log(ENTITY, ENTITY_ID, "reload", {**entry, "at_ts": at_ts}, actor=actor)
        return {**entry, "at_ts": at_ts, "actor": actor}

    return store.transact(work)


def reload_log(store: Store) -> list[dict[str, Any]]:
    """Every reload, oldest first."""
    return [
        {**c.report, "actor": c.actor} for c in store.audit_log(ENTITY_ID) if c.entity == ENTITY
    ]
