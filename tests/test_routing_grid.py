"""The pure-cell grid of ReportRouter answers exactly as the shapely-only path does."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from floodpost.errors import InvalidReport
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.routing import ReportRouter, Routing


@pytest.fixture(scope="module")
def router(catalogue: Catalogue) -> ReportRouter:
    return ReportRouter(catalogue)


def _answer(fn, *args) -> Routing | tuple[str, str]:
    try:
        return fn(*args)
    except InvalidReport as err:
        return (err.field, err.message)


def _reference(router: ReportRouter, lon: float, lat: float) -> Routing | tuple[str, str]:
    m = router.metric
    return _answer(
        router.route_by_tree, (lon - m.lon0) * m.m_per_deg_lon, (lat - m.lat0) * m.m_per_deg_lat
    )


def _assert_same_lonlat(router: ReportRouter, lons, lats) -> None:
    for lon, lat in zip(np.asarray(lons).tolist(), np.asarray(lats).tolist(), strict=True):
        assert _answer(router.route, lon, lat) == _reference(router, lon, lat), (lon, lat)


def _assert_same_xy(router: ReportRouter, xs, ys) -> None:
    for x, y in zip(np.asarray(xs).tolist(), np.asarray(ys).tolist(), strict=True):
        assert _answer(router.route_xy, x, y) == _answer(router.route_by_tree, x, y), (x, y)


def _pure_cells(router: ReportRouter) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = router.grid
    cells = np.frombuffer(g.cells, dtype=np.int32).reshape(g.ny, g.nx)
    row, col = np.nonzero(cells >= 0)
    return row, col, cells[row, col]


def test_pure_cells_lie_whole_in_their_one_village(router: ReportRouter):
    g = router.grid
    row, col, village = _pure_cells(router)
    assert len(village) > 0.25 * g.nx * g.ny  # most of the county: the grid does answer
    x, y = g.x0 + col * g.cell_m, g.y0 + row * g.cell_m
    boxes = shapely.box(x, y, x + g.cell_m, y + g.cell_m)
    geoms = router._village_geoms
    assert shapely.covers(geoms[village], boxes).all()
    box_i, _ = router._vtree.query(boxes, predicate="intersects")
    assert (np.bincount(box_i, minlength=len(boxes)) == 1).all()


def test_random_points_route_as_shapely_does(catalogue: Catalogue, router: ReportRouter):
    # The county's bounding box grown by 0.1° (≈ 10 km): pure cells, boundary cells, slivers,
    # 0-5 km outside (nearest village or township only) and refused points.
    minx, miny, maxx, maxy = catalogue.bounds
    rng = np.random.default_rng(14)
    lons = rng.uniform(minx - 0.1, maxx + 0.1, 20_000)
    lats = rng.uniform(miny - 0.1, maxy + 0.1, 20_000)
    _assert_same_lonlat(router, lons, lats)
    answers = [
        _answer(router.route, lon, lat) for lon, lat in zip(lons[:2000], lats[:2000], strict=True)
    ]
    assert any(isinstance(a, tuple) for a in answers)  # some refused
    assert any(isinstance(a, Routing) and a.outside_county for a in answers)


def test_cell_corners_and_edges_route_as_shapely_does(router: ReportRouter):
    g = router.grid
    row, col, _ = _pure_cells(router)
    pick = np.random.default_rng(5).choice(len(row), 3000, replace=False)
    x, y = g.x0 + col[pick] * g.cell_m, g.y0 + row[pick] * g.cell_m
    for dx, dy in ((0, 0), (1, 1), (0.5, 0), (0, 0.5), (1, 0.5), (0.5, 1)):
        xs, ys = x + dx * g.cell_m, y + dy * g.cell_m
        _assert_same_xy(router, xs, ys)
        _assert_same_xy(router, np.nextafter(xs, -np.inf), np.nextafter(ys, np.inf))
        # The same corners given as lon/lat land within a rounding step of them.
        lon, lat = router.metric.lonlat(xs, ys)
        _assert_same_lonlat(router, lon, lat)
    # The grid's own outer edges, and just beyond them.
    x1, y1 = g.x0 + g.nx * g.cell_m, g.y0 + g.ny * g.cell_m
    along = np.linspace(g.x0, x1, 200)
    _assert_same_xy(router, along, np.full(200, g.y0))
    _assert_same_xy(router, along, np.full(200, y1))
    _assert_same_xy(router, np.full(200, np.nextafter(x1, np.inf)), np.linspace(g.y0, y1, 200))


def test_village_vertices_and_edges_route_as_shapely_does(
    catalogue: Catalogue, router: ReportRouter
):
    # Vertices in the geodata's own lon/lat, and vertices and edge midpoints in metres: shared
    # edges, where two villages tie and the lower index wins.
    vs = catalogue.gdf("villages")
    coords = shapely.get_coordinates(np.asarray(vs.geometry.values))
    _assert_same_lonlat(router, coords[:, 0], coords[:, 1])
    rings = shapely.get_exterior_ring(shapely.get_parts(router._village_geoms))
    xy = shapely.get_coordinates(rings)
    _assert_same_xy(router, xy[:, 0], xy[:, 1])
    mid = (xy[:-1] + xy[1:]) / 2
    _assert_same_xy(router, mid[:, 0], mid[:, 1])
    ties = router._vtree.query(shapely.points(mid), predicate="intersects")[0]
    assert (np.bincount(ties) >= 2).any()


@pytest.mark.parametrize(
    ("lon", "lat", "field"),
    [
        (math.inf, 26.6, "lon"),
        (-math.inf, 26.6, "lon"),
        (110.1, math.nan, "lat"),
        (110.1, -math.inf, "lat"),
        (180.5, 26.6, "lon"),
        (110.1, -90.5, "lat"),
    ],
)
def test_non_finite_and_out_of_range_refused(router: ReportRouter, lon, lat, field):
    with pytest.raises(InvalidReport) as err:
        router.route(lon, lat)
    assert err.value.field == field


def test_grid_is_built_once_per_catalogue(catalogue: Catalogue, router: ReportRouter):
    assert ReportRouter(catalogue, outside_max_m=10_000).grid is router.grid
