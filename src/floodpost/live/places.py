"""The fixed places the live map colours (villages, shelters, reservoirs, zones, townships).

Read once from the geodata catalogue into plain records (with a representative lon/lat: the point
itself, or the village's seat), so the live state and the simulator never touch GeoDataFrames per
request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from floodpost.geo.catalogue import Catalogue

# Keyed by the catalogue itself (weakly), never by id(): an id is reused once its object is gone.
_CACHE: WeakKeyDictionary[Catalogue, Places] = WeakKeyDictionary()
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Places:
    villages: dict[str, dict[str, Any]]
    shelters: dict[str, dict[str, Any]]
    reservoirs: dict[str, dict[str, Any]]
    zones: dict[str, dict[str, Any]]
    townships: dict[str, dict[str, Any]]
    # village code -> reservoir ids upstream of it
    upstream: dict[str, list[str]] = field(default_factory=dict)


def _records(catalogue: Catalogue, layer_id: str) -> dict[str, dict[str, Any]]:
    records = {str(k): dict(v) for k, v in catalogue.records(layer_id).items()}
    gdf = catalogue.gdf(layer_id)
    key = "code" if "code" in gdf.columns else "id"
    for k, geom in zip(gdf[key], gdf.geometry, strict=True):
        rec = records.get(str(k))
        if rec is None:
            continue
        if geom is not None and geom.geom_type == "Point":
            rec["lon"], rec["lat"] = float(geom.x), float(geom.y)
        elif rec.get("seat_lon") is not None:
            rec["lon"], rec["lat"] = float(rec["seat_lon"]), float(rec["seat_lat"])
        elif geom is not None:
            pt = geom.representative_point()
            rec["lon"], rec["lat"] = float(pt.x), float(pt.y)
    return records


def places_from_catalogue(catalogue: Catalogue) -> Places:
    """The place records of a catalogue, built once (catalogues are read-only)."""
    with _LOCK:
        cached = _CACHE.get(catalogue)
        if cached is not None:
            return cached
    reservoirs = _records(catalogue, "reservoirs")
    upstream: dict[str, list[str]] = {}
    for rid, res in reservoirs.items():
        for code in res.get("downstream_villages") or []:
            upstream.setdefault(str(code), []).append(rid)
    places = Places(
        villages=_records(catalogue, "villages"),
        shelters=_records(catalogue, "shelters"),
        reservoirs=reservoirs,
        zones=_records(catalogue, "zones"),
        townships=_records(catalogue, "townships"),
        upstream=upstream,
    )
    with _LOCK:
        _CACHE[catalogue] = places
    return places
