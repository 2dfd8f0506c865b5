"""Routing a report to township, village and responsibility zone."""

from __future__ import annotations

import math

import numpy as np
import pytest

from floodpost.errors import InvalidReport
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.routing import ReportRouter, Routing
from floodpost.paths import default_geodata


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return Catalogue.load(default_geodata())


@pytest.fixture(scope="module")
def router(cat: Catalogue) -> ReportRouter:
    return ReportRouter(cat)


def _north_of_county(cat: Catalogue, router: ReportRouter, metres: float) -> tuple[float, float]:
    """A point `metres` due north of the county's northernmost vertex (so exactly that far out)."""
    coords = np.concatenate([np.asarray(p.exterior.coords) for p in cat.county_geometry.geoms])
    lon, lat = coords[np.argmax(coords[:, 1])]
    return float(lon), float(lat + metres / router.metric.m_per_deg_lat)


def test_point_in_village(cat: Catalogue, router: ReportRouter):
    for code in ("430527100201", "430527217205", "430527201210"):
        v = cat.village(code)
        r = router.route(v["seat_lon"], v["seat_lat"], None)
        assert isinstance(r, Routing)
        assert (r.village_code, r.township_code) == (code, v["township_code"])
        assert r.zone_id == cat.zone_of_village(code)
        assert r.responsible == cat.zone(r.zone_id)["owner"]
        assert (r.outside_county, r.distance_outside_m) == (False, 0.0)


def test_every_village_seat_routes_to_its_village(cat: Catalogue, router: ReportRouter):
    vs = cat.gdf("villages")
    routed = router.route_many(vs["seat_lon"], vs["seat_lat"])
    assert [r.village_code for r in routed] == list(vs["code"])


def test_village_code_wins(cat: Catalogue, router: ReportRouter):
    r = router.route(None, None, "430527203202")
    assert (r.village_code, r.township_code) == ("430527203202", "430527203")
    assert r.zone_id is not None and r.responsible
    # Coordinates elsewhere do not override a village chosen by hand.
    assert router.route(110.40778, 26.91528, "430527203202") == r


def test_unknown_village_code_refused(router: ReportRouter):
    with pytest.raises(InvalidReport) as err:
        router.route(110.1, 26.6, "430527100999")
    assert err.value.field == "village_code" and err.value.message == "unknown village code"


def test_just_outside_county_flagged(cat: Catalogue, router: ReportRouter):
    lon, lat = _north_of_county(cat, router, 1000)
    r = router.route(lon, lat, None)
    assert r.outside_county is True
    assert r.distance_outside_m == pytest.approx(1000, abs=5)
    assert r.village_code is not None and r.zone_id is not None
    assert r.village_code.startswith(r.township_code)


def test_between_3_and_5_km_outside_gets_township_only(cat: Catalogue, router: ReportRouter):
    lon, lat = _north_of_county(cat, router, 4000)
    r = router.route(lon, lat, None)
    assert r.outside_county and r.distance_outside_m == pytest.approx(4000, abs=5)
    assert r.village_code is None and r.township_code is not None


def test_far_outside_refused(cat: Catalogue, router: ReportRouter):
    lon, lat = _north_of_county(cat, router, 6000)
    with pytest.raises(InvalidReport) as err:
        router.route(lon, lat, None)
    assert err.value.field == "lon" and "outside the county" in err.value.message
    with pytest.raises(InvalidReport):
        router.route(116.4, 39.9, None)  # Beijing


@pytest.mark.parametrize(
    ("lon", "lat", "field"),
    [
        (None, 26.6, "lon"),
        (110.1, None, "lat"),
        (math.nan, 26.6, "lon"),
        (110.1, 91.0, "lat"),
        ("x", 26.6, "lon"),
    ],
)
def test_bad_coordinates_refused(router: ReportRouter, lon, lat, field):
    with pytest.raises(InvalidReport) as err:
        router.route(lon, lat, None)
    assert err.value.field == field


def test_limits_are_configurable(cat: Catalogue):
    lon, lat = _north_of_county(cat, ReportRouter(cat), 6000)
    r = ReportRouter(cat, outside_max_m=10_000, nearest_village_max_m=7000).route(lon, lat, None)
    assert r.outside_county and r.village_code is not None


def test_route_many_matches_route(cat: Catalogue, router: ReportRouter):
    minx, miny, maxx, maxy = cat.bounds
    rng = np.random.default_rng(3)
    lons = rng.uniform(minx - 0.1, maxx + 0.1, 2000)
    lats = rng.uniform(miny - 0.1, maxy + 0.1, 2000)
    lons[0] = math.nan
    batch = router.route_many(lons, lats)
    for lon, lat, got in zip(lons, lats, batch, strict=True):
        try:
            want = router.route(lon, lat, None)
        except InvalidReport:
            want = None
        assert got == want
    assert batch[0] is None and any(b is None for b in batch[1:]) and any(batch)
    codes = [None, "430527100201", "nope"]
    out = router.route_many([110.10785] * 3, [26.57584] * 3, codes)
    assert out[1].village_code == "430527100201" and out[2] is None
