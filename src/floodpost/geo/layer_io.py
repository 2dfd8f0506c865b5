"""Read one layer file (GeoJSON or GeoPackage), validate it and bring it to WGS-84."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from floodpost.errors import LayerError
from floodpost.geo.gcj02 import DATUMS, bd09_to_wgs84, gcj02_to_wgs84, geometry_to_wgs84
from floodpost.geo.schemas import COMMON_FIELDS, FieldProblem, LayerSchema, coerce

# GeoJSON (RFC 7946) is always lon/lat WGS-84; older files may still name it, or CGCS2000,
# which differs from WGS-84 by centimetres and is what Chinese survey offices deliver.
_LONLAT_CRS_NAMES = {
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "urn:ogc:def:crs:EPSG::4326",
    "EPSG:4326",
    "urn:ogc:def:crs:EPSG::4490",
    "EPSG:4490",
}
EXTENSIONS = (".geojson", ".gpkg")


def _err(path: Path, message: str, field: str | None = None, feature: Any = None) -> LayerError:
    where = f"{path.name}"
    if feature is not None:
        where += f", feature {feature}"
    text = f"{where}: {message}" if field is None else f"{where}: field '{field}' {message}"
    return LayerError(text, field=field, file=str(path))


def _read_geojson(path: Path) -> tuple[list[dict], list[Any]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _err(path, f"is not readable GeoJSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise _err(path, "must be a GeoJSON FeatureCollection", field="type")
    crs = doc.get("crs")
    if crs is not None:
        name = (crs.get("properties") or {}).get("name") if isinstance(crs, dict) else None
        if name not in _LONLAT_CRS_NAMES:
            raise _err(path, f"CRS {name!r} is not lon/lat WGS-84 (EPSG:4326)", field="crs")
    props, geoms = [], []
    for i, feat in enumerate(doc.get("features") or []):
        if not isinstance(feat, dict) or not isinstance(feat.get("properties"), dict):
            raise _err(path, "has no properties object", field="properties", feature=i + 1)
        try:
            geom = shape(feat["geometry"]) if feat.get("geometry") else None
        except (
            KeyError,
            TypeError,
            ValueError,
            AttributeError,
            shapely.errors.GEOSException,
        ) as exc:
            raise _err(path, f"is not a GeoJSON geometry ({exc})", "geometry", i + 1) from exc
        props.append(feat["properties"])
        geoms.append(geom)
    return props, geoms


def _read_gpkg(path: Path) -> tuple[list[dict], list[Any]]:
    import geopandas

    try:
        gdf = geopandas.read_file(path)
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds; all mean "unreadable"
        raise _err(path, f"is not a readable GeoPackage ({exc})") from exc
    if gdf.crs is None:
        raise _err(path, "has no CRS; declare EPSG:4326 (or another CRS to convert from)", "crs")
    if not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    props = gdf[cols].to_dict(orient="records")
    return props, list(gdf.geometry.values)


def find_layer_file(directory: Path, layer_id: str, declared: str | None) -> Path | None:
    if declared:
        return directory / declared
    for ext in EXTENSIONS:
        if (directory / f"{layer_id}{ext}").is_file():
            return directory / f"{layer_id}{ext}"
    return None


def _convert_seat(record: dict, datum: str) -> None:
    # Seat coordinates are in the same datum as the geometry they describe.
    lon, lat = record.get("seat_lon"), record.get("seat_lat")
    if isinstance(lon, (int, float)) and isinstance(lat, (int, float)):
        fn = gcj02_to_wgs84 if datum == "gcj02" else bd09_to_wgs84
        x, y = fn(lon, lat)
        record["seat_lon"], record["seat_lat"] = round(float(x), 6), round(float(y), 6)


def read_layer(path: Path, schema: LayerSchema, datum: str = "wgs84") -> tuple[list[dict], list]:
    """Validated (records, WGS-84 geometries) of one layer file, in file order."""
    if datum not in DATUMS:
        raise _err(path, f"datum {datum!r} is not one of {', '.join(DATUMS)}", field="datum")
    if not path.is_file():
        raise _err(path, "does not exist")
    if path.suffix.lower() == ".gpkg":
        raw_props, geoms = _read_gpkg(path)
    else:
        raw_props, geoms = _read_geojson(path)
    fields = schema.fields + COMMON_FIELDS
    known = {f.name for f in fields}
    records: list[dict] = []
    seen: set[str] = set()
    for i, (raw, geom) in enumerate(zip(raw_props, geoms, strict=True)):
        label: Any = raw.get(schema.key) or i + 1
        rec: dict[str, Any] = {}
        for f in fields:
            try:
                rec[f.name] = coerce(f, raw.get(f.name))
            except FieldProblem as exc:
                raise _err(path, str(exc), f.name, label) from exc
        # Extra columns are kept: a county's own attributes show up in popups and exports.
        for k, v in raw.items():
            if k not in known:
                rec[k] = _plain_value(v)
        if schema.check is not None:
            try:
                schema.check(rec)
            except FieldProblem as exc:
                raise _err(path, str(exc), exc.field, label) from exc
        if rec[schema.key] in seen:
            raise _err(path, f"repeats {rec[schema.key]!r}", schema.key, label)
        seen.add(rec[schema.key])
        _check_geometry(path, schema, geom, label)
        if datum != "wgs84":
            _convert_seat(rec, datum)
        records.append(rec)
    if datum != "wgs84" and geoms:
        geoms = list(geometry_to_wgs84(np.asarray(geoms, dtype=object), datum))
    return records, geoms


def _plain_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and v != v:  # NaN from an empty GeoPackage cell
        return None
    return v


def _check_geometry(path: Path, schema: LayerSchema, geom, label: Any) -> None:
    if geom is None or geom.is_empty:
        raise _err(path, "is empty", "geometry", label)
    if geom.geom_type not in schema.geometry_types:
        want = " or ".join(schema.geometry_types)
        raise _err(path, f"must be {want}, got {geom.geom_type}", "geometry", label)
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise _err(path, f"is not a valid geometry ({reason})", "geometry", label)
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise _err(
            path, "has coordinates outside lon/lat range (projected data?)", "geometry", label
        )
