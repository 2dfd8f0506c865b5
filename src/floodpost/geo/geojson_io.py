"""Compact, deterministic GeoJSON writing (rounded coordinates, one feature per line)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

COORD_DECIMALS = 6  # ~0.1 m: far below what a township map or a phone GPS can tell apart


def _round_coords(obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [_clean_number(round(float(v), COORD_DECIMALS)) for v in obj]
        return [_round_coords(v) for v in obj]
    return obj


def _clean_number(v: float) -> float | int:
    # -0.0 and 12.0 print as "-0.0"/"12.0"; keep floats as floats so readers see coordinates.
    return 0.0 if v == 0 else v


def jsonable(value: Any) -> Any:
    """Turn numpy/pandas scalars and containers into plain JSON values (NaN → null)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if value is None:
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas ships with geopandas
        pass
    return value


def geometry_json(geom) -> dict[str, Any] | None:
    if geom is None or shapely.is_empty(geom):
        return None
    gj = dict(mapping(geom))
    if gj["type"] == "GeometryCollection":
        gj["geometries"] = [geometry_json(g) for g in geom.geoms]
    else:
        gj["coordinates"] = _round_coords(gj["coordinates"])
    return gj


def feature(geom, properties: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": jsonable(properties), "geometry": geometry_json(geom)}


def feature_collection_bytes(features: Iterable[Mapping[str, Any]], *, pretty_lines: bool) -> bytes:
    """Serialise features; with pretty_lines each feature sits on its own line (readable diffs)."""
    dump = json.dumps
    kw: dict[str, Any] = {"ensure_ascii": False, "separators": (",", ":"), "allow_nan": False}
    if not pretty_lines:
        body = ",".join(dump(f, **kw) for f in features)
        return ('{"type":"FeatureCollection","features":[' + body + "]}").encode()
    lines = ",\n".join(dump(f, **kw) for f in features)
    return ('{"type":"FeatureCollection","features":[\n' + lines + "\n]}\n").encode()


def gdf_features(gdf) -> list[dict[str, Any]]:
    """Features of a GeoDataFrame, properties in column order."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    records = gdf[cols].to_dict(orient="records")
    return [feature(g, r) for g, r in zip(gdf.geometry.values, records, strict=True)]
