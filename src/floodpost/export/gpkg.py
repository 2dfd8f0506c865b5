"""GeoPackage export: layers reports, villages and zones (with their totals), EPSG:4326.

Written with pyogrio (GDAL) a page of reports at a time, appending to the layer, so a million
reports never sit in memory together; QGIS opens the file as three layers.
"""

from __future__ import annotations

from typing import Any

import geopandas
import pandas
import shapely
from pyogrio import write_dataframe

from floodpost.export.columns import REPORT_FIELDS, iter_reports, report_values
from floodpost.stats.breakdowns import METRICS
from floodpost.stats.service import ReviewStats

_DTYPES = {"str": "object", "int": "Int64", "float": "float64", "bool": "boolean"}


def _reports_frame(page: list[dict[str, Any]]) -> geopandas.GeoDataFrame:
    rows = [report_values(r) for r in page]
    columns = [name for name, _ in REPORT_FIELDS]
    df = pandas.DataFrame(rows, columns=columns)
    for name, kind in REPORT_FIELDS:
        df[name] = df[name].astype(_DTYPES[kind])
    geoms = [
        shapely.Point(lon, lat) if lon is not None and lat == lat else None
        for lon, lat in zip(df["lon"], df["lat"], strict=True)
    ]
    return geopandas.GeoDataFrame(df, geometry=geoms, crs="EPSG:4326")


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


def write_gpkg(stats: ReviewStats, path: str) -> None:
    first = True
    for page in iter_reports(stats.store):
        write_dataframe(
            _reports_frame(page),
            path,
            layer="reports",
            driver="GPKG",
            append=not first,
            geometry_type="Point",
        )
        first = False
    if first:  # no reports yet: an empty layer with the right fields
        write_dataframe(
            _reports_frame([]), path, layer="reports", driver="GPKG", geometry_type="Point"
        )
    write_dataframe(
        _area_layer(stats, "villages", "village_code", "village"),
        path,
        layer="villages",
        driver="GPKG",
        promote_to_multi=True,
    )
    write_dataframe(
        _area_layer(stats, "zones", "zone_id", "zone"),
        path,
        layer="zones",
        driver="GPKG",
        promote_to_multi=True,
    )
