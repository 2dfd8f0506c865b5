"""Routing throughput: ReportRouter.route through its pure-cell grid against the shapely-only
path (measured in the same run), route_many, and a geopandas sjoin baseline.

flock /tmp/bench.lock .venv/bin/python bench/bench_routing.py [N]

Method: the real catalogue (geodata/suining). The grid table builds PureGrid afresh for each
cell size (build time, cells, memory of the array, share of pure cells and of the county's area
they cover). route() is timed per call, best of 3 passes, over N seeded points uniform inside
the county and N around village seats (σ ≈ 500 m, where reports come from), against the
shapely-only path route() took before (the same checks and metric x/y, then Point +
STRtree.query + min); then on N/10 of them, median of 5 passes, beside a thread running Python
as the server's SQLite writer does, where every shapely call waits to get the GIL back (these
figures swing widely from run to run: compare the two columns of one run).
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import geopandas
import numpy as np
import shapely

from floodpost.errors import InvalidReport
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.routing import GRID_CELL_M, PureGrid, ReportRouter, _check_coord
from floodpost.paths import default_geodata


def _per_call_us(fn: Callable, lons: list[float], lats: list[float], median: bool = False) -> float:
    """µs per call: best of 3 passes (the machine is shared), or the median of 5 when another
    thread contends for the GIL (then the waits are the figure, not noise)."""
    passes = []
    for _ in range(5 if median else 3):
        t0 = time.perf_counter()
        for lon, lat in zip(lons, lats, strict=True):
            try:
                fn(lon, lat)
            except InvalidReport:
                pass
        passes.append(time.perf_counter() - t0)
    return (statistics.median(passes) if median else min(passes)) / len(lons) * 1e6


@contextmanager
def _busy_thread() -> Iterator[None]:
    """A thread running Python, as the server's SQLite writer does: a call that releases the
    GIL (shapely) must then wait for it to be handed back."""
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(range(100))

    t = threading.Thread(target=spin)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join()


def _in_county(cat: Catalogue, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = cat.bounds
    lons, lats = rng.uniform(minx, maxx, 3 * n), rng.uniform(miny, maxy, 3 * n)
    inside = shapely.contains_xy(cat.county_geometry, lons, lats)
    return lons[inside][:n], lats[inside][:n]


def _grid_share(router: ReportRouter, lons: np.ndarray, lats: np.ndarray) -> float:
    g = router.grid
    x, y = router.metric.xy(lons, lats)
    col, row = np.floor((x - g.x0) / g.cell_m), np.floor((y - g.y0) / g.cell_m)
    ok = (col >= 0) & (col < g.nx) & (row >= 0) & (row < g.ny)
    cells = np.frombuffer(g.cells, dtype=np.int32)
    return float((cells[(row[ok] * g.nx + col[ok]).astype(int)] >= 0).sum() / len(lons))


def main(n: int = 20_000) -> None:
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}  N={n}")
    cat = Catalogue.load(default_geodata())
    t0 = time.perf_counter()
    router = ReportRouter(cat)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ReportRouter(cat)
    rebuild_s = time.perf_counter() - t0
    m = router.metric
    county_m2 = float(shapely.area(m.to_metric(cat.county_geometry)))

    print("\ngrid cell   build ms   cells   memory KB   pure cells   pure share of county area")
    for cell_m in (100.0, 200.0, 400.0):
        t0 = time.perf_counter()
        g = PureGrid.build(router._village_geoms, router._vtree, cell_m)
        ms = (time.perf_counter() - t0) * 1000
        pure = g.pure_share()
        area = pure * len(g.cells) * cell_m**2 / county_m2
        mark = "  <- GRID_CELL_M" if cell_m == GRID_CELL_M else ""
        print(
            f"{cell_m:7.0f} m {ms:9.1f} {len(g.cells):8d} {len(g.cells) * 4 / 1024:10.0f}"
            f" {pure:11.1%} {area:12.1%}{mark}"
        )
    print(
        f"ReportRouter(catalogue): first {build_s * 1000:.1f} ms, again {rebuild_s * 1000:.1f} ms"
    )

    def reference(lon: float, lat: float):
        """route() as it was: the shapely-only path for every point."""
        x = (_check_coord(lon, "lon", 180.0) - m.lon0) * m.m_per_deg_lon
        y = (_check_coord(lat, "lat", 90.0) - m.lat0) * m.m_per_deg_lat
        return router.route_by_tree(x, y)

    rng = np.random.default_rng(1)
    vs = cat.gdf("villages")
    pick = rng.integers(len(vs), size=n)
    seats = (
        vs["seat_lon"].to_numpy()[pick] + rng.normal(0, 0.005, n),
        vs["seat_lat"].to_numpy()[pick] + rng.normal(0, 0.005, n),
    )
    print("\npoints                     grid answers   route() µs   shapely path µs   ratio")
    for name, (lons, lats) in (
        ("uniform in county", _in_county(cat, rng, n)),
        ("village seats ± 500 m", seats),
    ):
        lon_l, lat_l = lons.tolist(), lats.tolist()
        new = _per_call_us(lambda a, b: router.route(a, b), lon_l, lat_l)
        old = _per_call_us(reference, lon_l, lat_l)
        share = _grid_share(router, lons, lats)
        print(f"{name:26s} {share:11.1%} {new:12.2f} {old:17.2f} {old / new:7.1f}x")
        k = n // 10
        with _busy_thread():
            new = _per_call_us(lambda a, b: router.route(a, b), lon_l[:k], lat_l[:k], True)
            old = _per_call_us(reference, lon_l[:k], lat_l[:k], True)
        print(f"{'  + busy Python thread':26s} {'':11s} {new:12.2f} {old:17.2f} {old / new:7.1f}x")

    lons, lats = seats
    lon_l, lat_l = lons.tolist(), lats.tolist()
    t0 = time.perf_counter()
    router.route_many(lons, lats)
    batch_us = (time.perf_counter() - t0) / n * 1e6
    # The obvious geopandas way, one sjoin per report (what routing must not do).
    k = min(n, 500)
    t0 = time.perf_counter()
    for lon, lat in zip(lon_l[:k], lat_l[:k], strict=True):
        pt = geopandas.GeoDataFrame(geometry=geopandas.points_from_xy([lon], [lat]), crs=4326)
        geopandas.sjoin(pt, vs[["code", "geometry"]], predicate="within")
    sjoin_us = (time.perf_counter() - t0) / k * 1e6
    print(f"\nroute_many() {batch_us:.2f} µs/point, geopandas sjoin per report {sjoin_us:.0f} µs")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
