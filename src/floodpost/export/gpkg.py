"""GeoPackage export: layers reports, villages and zones (with their totals), EPSG:4326.

pyogrio (GDAL) creates the file and its three layers, and writes the villages and zones whole
(a few thousand features). The reports are then added a page at a time with SQLite's own bulk
insert into the table GDAL made: appending through pyogrio cost about 45 µs a report (each
append reopens the file and sets 30 OGR fields per feature; bench/README.md), this about 5 µs.
The values go in as the store gives them: the columns' SQLite affinity (INTEGER, REAL, BOOLEAN)
stores them as typed() would, without a conversion per cell in Python.
GDAL's triggers on that table (R-tree and feature count; they call GDAL's ST_* SQL functions,
which plain sqlite3 lacks) are set aside during the load and put back unchanged after the
feature count and the layer extent are filled in one statement each and the R-tree is packed
whole (export/rtree.py) — so the file is what GDAL itself would have written, and QGIS opens it
as three layers with a spatial index.

The body is sent only once the file is complete: a SQLite file's first page (header, page
count) and every b-tree's root and interior pages are rewritten until the last row is in
(measured: bench/README.md), so no prefix of a file being built is a prefix of the result.
"""

from __future__ import annotations

import sqlite3
import struct
from typing import Any

import geopandas
import numpy as np
import numpy.typing as npt
import pandas
from pyogrio import write_dataframe

from floodpost.export.columns import ALL, FIELD_NAMES, REPORT_FIELDS, ExportFilter, iter_rows
from floodpost.export.rtree import bulk_load
from floodpost.stats.breakdowns import METRICS
from floodpost.stats.service import ReviewStats

_DTYPES = {"str": "object", "int": "Int64", "float": "float64", "bool": "boolean"}


def _empty_reports() -> geopandas.GeoDataFrame:
    """No rows, the report columns typed: pyogrio makes the layer's fields from the dtypes."""
    df = pandas.DataFrame(
        {name: pandas.array([], dtype=_DTYPES[kind]) for name, kind in REPORT_FIELDS}
    )
    return geopandas.GeoDataFrame(df, geometry=geopandas.GeoSeries([]), crs="EPSG:4326")


def _area_layer(stats: ReviewStats, layer: str, key: str, level: str) -> geopandas.GeoDataFrame:
    gdf = stats.catalogue.gdf(layer)
    rows = {r[key]: r for r in stats.by_area(level)["rows"]}
    keycol = "code" if layer == "villages" else "id"
    out = geopandas.GeoDataFrame(
        {
            keycol: gdf[keycol].astype(str),
            "name": gdf["name"].astype(str),
            "township_code": gdf["township_code"].astype(str),
        },
        geometry=gdf.geometry.values,
        crs="EPSG:4326",
    )
    if layer == "zones":
        out["owner"] = gdf["owner"].astype(str)
    out["population_at_risk"] = [rows.get(k, {}).get("population_at_risk", 0) for k in out[keycol]]
    for metric in METRICS:
        out[metric] = [int(rows.get(k, {}).get(metric, 0)) for k in out[keycol]]
    return out


def write_gpkg(stats: ReviewStats, path: str, where: ExportFilter = ALL) -> None:
    write_dataframe(_empty_reports(), path, layer="reports", driver="GPKG", geometry_type="Point")
    for layer, key, level in (
        ("villages", "village_code", "village"),
        ("zones", "zone_id", "zone"),
    ):
        write_dataframe(
            _area_layer(stats, layer, key, level),
            path,
            layer=layer,
            driver="GPKG",
            promote_to_multi=True,
        )
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # A temporary file served once: no journal, no fsync.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        # 64 MB of page cache while building (bounded, freed after), for the inserts and the
        # sort of the points by longitude for the R-tree (export/rtree.py).
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute("BEGIN")
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'reports'"
        ).fetchall()
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        names = ", ".join(f'"{name}"' for name, _ in REPORT_FIELDS)
        insert = f"INSERT INTO reports ({names}, geom) VALUES ({'?, ' * len(REPORT_FIELDS)}?)"
        lon: list[npt.NDArray[np.float64]] = []
        lat: list[npt.NDArray[np.float64]] = []
        for page in iter_rows(stats.store, where):
            _add_geometry(page)
            conn.executemany(insert, page)
            lon.append(np.array([v[_LON] for v in page], dtype=np.float64))
            lat.append(np.array([v[_LAT] for v in page], dtype=np.float64))
        count = sum(len(a) for a in lon)
        # fid = rowid, given in insertion order from 1 into the empty table: index + 1.
        assert conn.execute("SELECT COALESCE(MAX(fid), 0) FROM reports").fetchone()[0] == count
        bulk_load(conn, "rtree_reports_geom", _joined(lon), _joined(lat))
        del lon, lat
        conn.execute(
            "UPDATE gpkg_ogr_contents SET feature_count = (SELECT COUNT(*) FROM reports) "
            "WHERE table_name = 'reports'"
        )
        conn.execute(
            "UPDATE gpkg_contents SET (min_x, min_y, max_x, max_y) = "
            "(SELECT MIN(lon), MIN(lat), MAX(lon), MAX(lat) FROM reports WHERE geom IS NOT NULL), "
            "last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE table_name = 'reports'"
        )
        for _, sql in triggers:
            conn.execute(sql)
        conn.execute("COMMIT")
    finally:
        conn.close()


# A GeoPackage point: "GP", version 0, flags (little-endian, no envelope), srs_id 4326, then
# the ISO WKB of the point (little-endian, type 1).
_GP_HEADER = b"GP\x00\x01" + struct.pack("<i", 4326)
_WKB_POINT = struct.Struct("<BIdd")


def _add_geometry(page: list[list[Any]]) -> None:
    """Appends each row's GeoPackage point (None without both coordinates)."""
    for values in page:
        lon, lat = values[_LON], values[_LAT]
        values.append(
            _GP_HEADER + _WKB_POINT.pack(1, 1, lon, lat)
            if lon is not None and lat is not None and lon == lon and lat == lat
            else None
        )


def _joined(parts: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)


_LON = FIELD_NAMES.index("lon")
_LAT = FIELD_NAMES.index("lat")
