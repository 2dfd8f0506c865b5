"""Reloading the layer catalogue while serving (after `floodpost import`): all or nothing.

The new folder is loaded and checked in full before anything changes; a folder that does not
load is refused with the reason and the catalogue in use keeps serving. Each reload is appended
to a short log in the store's meta table (who, when, which folder, counts before → after).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from floodpost.errors import InvalidInput, LayerError
from floodpost.geo.catalogue import Catalogue
from floodpost.storage.base import Store

LOG_KEY = "layers.reload_log"
LOG_KEEP = 100


def load_replacement(directory: Path) -> Catalogue:
    try:
        return Catalogue.load(directory)
    except LayerError as exc:
        raise InvalidInput(
            f"geodata folder refused, the layers in use keep serving: {exc.message}",
            field=exc.field or "geodata",
            file=exc.extra.get("file"),
        ) from exc


def record_reload(
    store: Store, old: Catalogue, new: Catalogue, *, actor: str, at_ts: float
) -> dict[str, Any]:
    """Append the reload to the log and return its entry."""
    entry = {
        "at_ts": at_ts,
        "actor": actor,
        "directory": str(new.directory),
        "layers": {lid: [old.count(lid), new.count(lid)] for lid in new.layer_ids},
    }
    log = reload_log(store)
    log.append(entry)
    store.set_meta(LOG_KEY, json.dumps(log[-LOG_KEEP:], ensure_ascii=False))
    return entry


def reload_log(store: Store) -> list[dict[str, Any]]:
    text = store.get_meta(LOG_KEY)
    return json.loads(text) if text else []
