"""Build geodata/<county>/ from the raw sources: real outline and codes, demo everything else.

Deterministic: the same sources give byte-identical files (fixed seeds, fixed ordering,
coordinates rounded to 6 decimals, compact JSON with one feature per line).
"""

from __future__ import annotations

import json
from pathlib import Path

from floodpost.geo.build_assets import build_reservoirs, build_shelters, build_zones
from floodpost.geo.build_gauges import add_reservoir_stations, build_stations
from floodpost.geo.build_townships import (
    COUNTY_CODE,
    COUNTY_NAME,
    COUNTY_NAME_EN,
    county_feature_props,
    load_county,
    load_townships,
    read_geonames,
    township_cells,
    township_props,
)
from floodpost.geo.build_villages import build_villages
from floodpost.geo.geojson_io import feature, feature_collection_bytes
from floodpost.geo.metric import LocalMetric

SOURCE_FILES = ("county_boundary_gcj02.geojson", "townships.csv", "geonames_places_wgs84.csv")


def _write(path: Path, pairs) -> int:
    data = feature_collection_bytes((feature(g, p) for g, p in pairs), pretty_lines=True)
    path.write_bytes(data)
    return len(data)


def manifest() -> dict:
    return {
        "county": {"code": COUNTY_CODE, "name": COUNTY_NAME, "name_en": COUNTY_NAME_EN},
        "crs": "EPSG:4326",
        "layers": {
            lid: {"datum": "wgs84"}
            for lid in (
                "county",
                "townships",
                "villages",
                "reservoirs",
                "shelters",
                "zones",
                "stations",
            )
        },
        "note": "Built by scripts/build_geodata.py; see geodata/README.md for what is demo data.",
    }


def build_all(sources: Path, out: Path) -> dict[str, int]:
    """Write every layer of the county into `out`; returns {file name: size in bytes}."""
    missing = [f for f in SOURCE_FILES if not (sources / f).is_file()]
    if missing:
        raise FileNotFoundError(f"missing source files in {sources}: {', '.join(missing)}")
    out.mkdir(parents=True, exist_ok=True)
    county = load_county(sources)
    c = county.centroid
    metric = LocalMetric(round(c.x, 3), round(c.y, 3))
    townships = load_townships(sources)
    cells = township_cells(county, townships)
    villages = build_villages(townships, cells, metric)
    # Zones and reservoirs first: the gauges hang off them and set the villages' thresholds.
    zones = build_zones(townships, villages)
    reservoirs = build_reservoirs(villages, metric)
    stations = build_stations(villages, zones, read_geonames(sources))
    stations += add_reservoir_stations(reservoirs)
    sizes = {
        "county.geojson": _write(out / "county.geojson", [(county, county_feature_props())]),
        "townships.geojson": _write(
            out / "townships.geojson",
            [(cell, township_props(t)) for t, cell in zip(townships, cells, strict=True)],
        ),
        "villages.geojson": _write(
            out / "villages.geojson", [(v.geometry, v.properties()) for v in villages]
        ),
        "reservoirs.geojson": _write(out / "reservoirs.geojson", reservoirs),
        "shelters.geojson": _write(out / "shelters.geojson", build_shelters(townships, villages)),
        "zones.geojson": _write(out / "zones.geojson", zones),
        "stations.geojson": _write(out / "stations.geojson", stations),
    }
    text = json.dumps(manifest(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    (out / "manifest.json").write_text(text, encoding="utf-8")
    sizes["manifest.json"] = len(text.encode())
    return sizes
