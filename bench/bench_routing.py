"""Routing throughput: ReportRouter.route / route_many against a geopandas sjoin baseline.

.venv/bin/python bench/bench_routing.py [N]
"""

from __future__ import annotations

import sys
import time

import geopandas
import numpy as np

from floodpost.errors import InvalidReport
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.routing import ReportRouter
from floodpost.paths import default_geodata


def main(n: int = 20_000) -> None:
    cat = Catalogue.load(default_geodata())
    t0 = time.perf_counter()
    router = ReportRouter(cat)
    build_s = time.perf_counter() - t0
    vs = cat.gdf("villages")
    rng = np.random.default_rng(1)
    # Points where reports come from: inside villages, plus 5 % just around the county.
    pick = rng.integers(len(vs), size=n)
    lons = vs["seat_lon"].to_numpy()[pick] + rng.normal(0, 0.005, n)
    lats = vs["seat_lat"].to_numpy()[pick] + rng.normal(0, 0.005, n)
    minx, miny, maxx, maxy = cat.bounds
    k = n // 20
    lons[:k] = rng.uniform(minx - 0.05, maxx + 0.05, k)
    lats[:k] = rng.uniform(miny - 0.05, maxy + 0.05, k)
    lon_l, lat_l = lons.tolist(), lats.tolist()

    t0 = time.perf_counter()
    for lon, lat in zip(lon_l, lat_l, strict=True):
        try:
            router.route(lon, lat)
        except InvalidReport:
            pass
    single = n / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    router.route_many(lons, lats)
    batch = n / (time.perf_counter() - t0)

    # Baseline: the obvious geopandas way, one sjoin per report (what routing must not do).
    m = min(n, 500)
    t0 = time.perf_counter()
    for lon, lat in zip(lon_l[:m], lat_l[:m], strict=True):
        pt = geopandas.GeoDataFrame(geometry=geopandas.points_from_xy([lon], [lat]), crs=4326)
        geopandas.sjoin(pt, vs[["code", "geometry"]], predicate="within")
    baseline = m / (time.perf_counter() - t0)

    print(f"router build            {build_s * 1000:8.1f} ms")
    print(f"route()                 {single:10.0f} routes/s  ({single / baseline:.0f}x baseline)")
    print(f"route_many()            {batch:10.0f} routes/s  ({batch / baseline:.0f}x baseline)")
    print(f"baseline sjoin per call {baseline:10.0f} routes/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
