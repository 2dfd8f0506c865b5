"""GCJ-02 / BD-09 conversion against published reference pairs, plus round-trip accuracy."""

from __future__ import annotations

import geopandas
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import Point, Polygon

from floodpost.geo import gcj02

GEOD = Geod(ellps="WGS84")

# (wgs_lon, wgs_lat, gcj_lon, gcj_lat) from googollee/eviltransform python/test.py (TESTS:
# Shanghai, Shenzhen, Beijing), and wandergis/coordtransform test/app.js (wgs84togcj02 of
# 116.404, 39.915). Both implement the same published forward transform.
WGS_GCJ_PAIRS = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
]
# wandergis/coordtransform test/app.js: bd09togcj02 and gcj02tobd09 of (116.404, 39.915).
BD_TO_GCJ = (116.404, 39.915, 116.39762729119315, 39.90865673957631)
GCJ_TO_BD = (116.404, 39.915, 116.41036949371029, 39.92133699351021)
# (eviltransform's TESTS_bd pairs are not used: its own bd2wgs lands 10–41 m away from them,
# so they were not produced by the published formula.)


def _dist_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), WGS_GCJ_PAIRS)
def test_forward_matches_reference(wlon, wlat, glon, glat):
    lon, lat = gcj02.wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), WGS_GCJ_PAIRS)
def test_inverse_recovers_reference(wlon, wlat, glon, glat):
    lon, lat = gcj02.gcj02_to_wgs84(glon, glat)
    assert _dist_m(lon, lat, wlon, wlat) < 0.01


def test_bd09_reference_pairs():
    lon, lat = gcj02.bd09_to_gcj02(BD_TO_GCJ[0], BD_TO_GCJ[1])
    assert (float(lon), float(lat)) == pytest.approx(BD_TO_GCJ[2:], abs=1e-9)
    lon, lat = gcj02.gcj02_to_bd09(GCJ_TO_BD[0], GCJ_TO_BD[1])
    assert (float(lon), float(lat)) == pytest.approx(GCJ_TO_BD[2:], abs=1e-9)


def test_round_trip_under_one_metre_over_china():
    rng = np.random.default_rng(7)
    lon = rng.uniform(75, 134, 20000)
    lat = rng.uniform(5, 53, 20000)
    back_lon, back_lat = gcj02.gcj02_to_wgs84(*gcj02.wgs84_to_gcj02(lon, lat))
    assert _dist_m(lon, lat, back_lon, back_lat).max() < 1e-3  # far below the 1 m required
    blon, blat = gcj02.bd09_to_wgs84(*gcj02.wgs84_to_bd09(lon, lat))
    assert _dist_m(lon, lat, blon, blat).max() < 1.0


def test_inverse_converges_tightly():
    glon, glat = gcj02.wgs84_to_gcj02(110.2, 26.7)
    wlon, wlat = gcj02.gcj02_to_wgs84(glon, glat)
    flon, flat = gcj02.wgs84_to_gcj02(wlon, wlat)
    assert abs(flon - glon) < 1e-9 and abs(flat - glat) < 1e-9


def test_suining_centroid_shift_from_sources():
    # SOURCES.md: the outline's centroid moves from ~110.1991,26.7071 (GCJ-02) to
    # ~110.1944,26.7105 (WGS-84), an offset of about 600 m.
    lon, lat = gcj02.gcj02_to_wgs84(110.1991, 26.7071)
    assert float(lon) == pytest.approx(110.1944, abs=2e-4)
    assert float(lat) == pytest.approx(26.7105, abs=2e-4)
    assert 500 < _dist_m(110.1991, 26.7071, lon, lat) < 700


def test_no_offset_outside_china():
    for lon, lat in [(-0.1276, 51.5072), (139.69, 35.68), (2.35, 48.85)]:
        assert gcj02.wgs84_to_gcj02(lon, lat) == (lon, lat)
        assert gcj02.gcj02_to_wgs84(lon, lat) == (lon, lat)
        assert gcj02.bd09_to_wgs84(lon, lat) == (lon, lat)


def test_vectorised_shapes_and_empty():
    lon, lat = gcj02.gcj02_to_wgs84(np.array([[110.0, 111.0]]), np.array([[26.0, 27.0]]))
    assert lon.shape == (1, 2)
    lon, lat = gcj02.gcj02_to_wgs84(np.array([]), np.array([]))
    assert lon.size == 0


def test_geometry_and_geodataframe_conversion():
    wgs = Polygon([(110.1, 26.6), (110.2, 26.6), (110.2, 26.7), (110.1, 26.6)])
    shifted = gcj02.geometry_from_wgs84(wgs, "gcj02")
    back = gcj02.geometry_to_wgs84(shifted, "gcj02")
    assert back.equals_exact(wgs, 1e-9)
    assert gcj02.geometry_to_wgs84(wgs, "wgs84") is wgs
    gdf = geopandas.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[gcj02.geometry_from_wgs84(Point(110.1, 26.6), "bd09"), shifted],
        crs="EPSG:4326",
    )
    out = gcj02.to_wgs84(gdf, datum="bd09")
    assert out.crs.to_epsg() == 4326 and list(out["name"]) == ["a", "b"]
    assert _dist_m(out.geometry[0].x, out.geometry[0].y, 110.1, 26.6) < 1.0
    assert gdf.geometry[0].x != pytest.approx(110.1, abs=1e-4)  # input untouched
    with pytest.raises(ValueError):
        gcj02.to_wgs84(gdf, datum="utm")
