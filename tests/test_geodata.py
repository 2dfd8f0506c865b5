"""Invariants of the shipped Suining geodata, and that the build reproduces it byte for byte."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas
import pytest
import shapely
from pyproj import Geod

from floodpost.geo.build import build_all
from floodpost.paths import geodata_dir

GEODATA = geodata_dir() / "suining"
SOURCES = geodata_dir() / "sources" / "suining"
LAYERS = ("county", "townships", "villages", "reservoirs", "shelters", "zones", "stations")
DEMO_LAYERS = ("villages", "reservoirs", "shelters", "zones", "stations")
EQUAL_AREA = "EPSG:6933"


@pytest.fixture(scope="module")
def layers() -> dict[str, geopandas.GeoDataFrame]:
    return {lid: geopandas.read_file(GEODATA / f"{lid}.geojson") for lid in LAYERS}


def test_all_layers_wgs84_and_valid(layers):
    for lid, gdf in layers.items():
        assert gdf.crs.to_epsg() == 4326, lid
        assert len(gdf) > 0, lid
        assert gdf.geometry.is_valid.all(), lid
        assert not gdf.geometry.is_empty.any(), lid


def test_county_area_and_properties(layers):
    county = layers["county"]
    assert len(county) == 1
    props = county.iloc[0]
    assert (props["code"], props["name"], props["datum_converted_from"]) == (
        "430527",
        "绥宁县",
        "gcj02",
    )
    area_geod = abs(Geod(ellps="WGS84").geometry_area_perimeter(county.geometry[0])[0]) / 1e6
    area_ea = county.to_crs(EQUAL_AREA).area.sum() / 1e6
    for area in (area_geod, area_ea):
        assert area == pytest.approx(2921, rel=0.01)


def test_townships_tile_the_county(layers):
    county = layers["county"].to_crs(EQUAL_AREA).geometry[0]
    ts = layers["townships"].to_crs(EQUAL_AREA)
    assert len(ts) == 17
    assert ts["code"].str.fullmatch(r"430527\d{3}").all()
    assert ts["approximate"].all()
    union = shapely.union_all(ts.geometry.values)
    assert union.intersection(county).area >= 0.999 * county.area
    overlaps = sum(ts.geometry.area) - union.area
    assert overlaps < 0.001 * county.area
    assert set(ts["seat_source"]) == {"geonames", "estimated"}
    assert (ts["seat_source"] == "geonames").sum() == 7
    seats = geopandas.points_from_xy(ts["seat_lon"], ts["seat_lat"], crs="EPSG:4326")
    assert layers["townships"].geometry.contains(geopandas.GeoSeries(seats)).all()


def test_villages_nest_in_townships_and_zones(layers):
    vs, ts, zs = layers["villages"], layers["townships"], layers["zones"]
    assert 300 <= len(vs) <= 350
    assert vs["code"].is_unique
    assert all(re.fullmatch(r"\d{12}", c) for c in vs["code"])
    assert all(c.startswith(t) for c, t in zip(vs["code"], vs["township_code"], strict=True))
    assert vs["population"].sum() == pytest.approx(370_000, rel=0.02)
    assert (vs["households"] > 0).all() and (vs["households"] < vs["population"]).all()
    # Each village lies in exactly one township: its own (tested on an interior point).
    pts = geopandas.GeoDataFrame(vs[["code", "township_code"]], geometry=vs.representative_point())
    hits = geopandas.sjoin(pts, ts[["code", "geometry"]], predicate="within")
    assert hits["code_left"].is_unique and len(hits) == len(vs)
    assert (hits["township_code"] == hits["code_right"]).all()
    # ...and in exactly one zone, both by the zone's list and by geometry.
    listed = [c for codes in zs["village_codes"] for c in codes]
    assert sorted(listed) == sorted(vs["code"])
    zhits = geopandas.sjoin(pts, zs[["id", "geometry"]], predicate="within")
    assert zhits["code"].is_unique and len(zhits) == len(vs)
    zone_of = {c: z for z, codes in zip(zs["id"], zs["village_codes"], strict=True) for c in codes}
    assert all(zone_of[c] == z for c, z in zip(zhits["code"], zhits["id"], strict=True))


def test_demo_features_are_labelled(layers):
    for lid in DEMO_LAYERS:
        gdf = layers[lid]
        assert gdf["demo"].astype(bool).all(), lid
        assert gdf["name"].str.contains("示例").all(), lid


def test_reservoirs_shelters_zones_attributes(layers):
    rs, ss, zs = layers["reservoirs"], layers["shelters"], layers["zones"]
    village_codes = set(layers["villages"]["code"])
    assert 30 <= len(rs) <= 50
    assert set(rs["scale"]) == {"中型", "小(1)型", "小(2)型"}
    assert (rs["scale"] == "中型").sum() <= 5
    assert all(set(d) <= village_codes and len(d) > 0 for d in rs["downstream_villages"])
    counts = ss.groupby("township_code").size()
    assert len(counts) == 17 and counts.between(2, 4).all()
    assert set(ss["kind"]) <= {"school", "township_compound", "village_hall"}
    assert (ss["capacity"] > 0).all()
    assert zs["owner"].str.len().gt(0).all() and zs["contact"].str.startswith("示例电话").all()


def test_files_are_small_and_rounded():
    assert (GEODATA / "county.geojson").stat().st_size < 150_000
    total = sum((GEODATA / f"{lid}.geojson").stat().st_size for lid in LAYERS)
    assert total < 600_000
    text = (GEODATA / "villages.geojson").read_text(encoding="utf-8")
    assert not re.search(r"\d\.\d{7,}", text)  # 6 decimals at most


def test_build_is_deterministic(tmp_path: Path):
    out = tmp_path / "suining"
    build_all(SOURCES, out)
    for lid in LAYERS:
        name = f"{lid}.geojson"
        assert (out / name).read_bytes() == (GEODATA / name).read_bytes(), name
    assert json.loads((out / "manifest.json").read_text()) == json.loads(
        (GEODATA / "manifest.json").read_text()
    )


def test_sources_copy_carries_licence_notes():
    notes = (SOURCES / "SOURCES.md").read_text(encoding="utf-8")
    assert "MIT" in notes and "CC BY 4.0" in notes and "GeoNames" in notes
