"""Route a field report to its township, village and responsibility zone.

Built once from the catalogue. Geometries are projected to local metres (LocalMetric) so that
"3 km from a village" and "5 km outside the county" are plain planar distances, and every
lookup is a shapely STRtree query: no geopandas and no allocation of frames per report.

Most reports land well inside one village, so `route` first looks the point up in a grid of
"pure" cells (PureGrid) with plain arithmetic, and calls shapely only near a boundary.
"""

from __future__ import annotations

import math
import weakref
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import shapely

from floodpost.errors import InvalidReport
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.metric import LocalMetric


@dataclass(frozen=True, slots=True)
class Routing:
    township_code: str | None
    village_code: str | None
    zone_id: str | None
    responsible: str | None  # the zone's owner (party branch or member role)
    outside_county: bool = False
    distance_outside_m: float = 0.0


def _check_coord(value: float | None, name: str, limit: float) -> float:
    if value is None:
        raise InvalidReport(f"{name} is required when no village_code is given", field=name)
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidReport(f"{name} must be a number", field=name) from exc
    if not math.isfinite(v) or abs(v) > limit:
        raise InvalidReport(f"{name} must be between -{limit:g} and {limit:g}", field=name)
    return v


# 200 m cells, measured with bench/bench_routing.py: 84 % of the county's area (96 % of points
# around village seats) lies in pure cells, built in ≈ 100-120 ms once per catalogue; 100 m
# gives 92 % for ≈ 200-250 ms, 400 m 69 % for ≈ 35 ms.
GRID_CELL_M = 200.0
# Cell boxes are grown by 1 mm, far more than the ≈ 1e-11 m rounding of the cell arithmetic
# in `route`, so a point mapped to a cell always lies in the box that was tested.
_GRID_PAD_M = 1e-3


@dataclass(frozen=True, slots=True)
class PureGrid:
    """Square cells over the villages' extent in metric x/y; `cells[row * nx + col]` is the
    index of the one village that covers the whole (closed) cell, or -1 when the cell touches
    a boundary, several villages or none (then only the STRtree answers)."""

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int
    cells: array  # array("i"): 4 bytes a cell, indexing gives a plain int

    @classmethod
    def build(cls, geoms: np.ndarray, tree: shapely.STRtree, cell_m: float) -> PureGrid:
        """Quadtree refinement, vectorised per level: start from cells of about 1/8 of the
        extent and split only the cells that touch a boundary (measured: 44k boxes tested for
        197k cells at 200 m, about a third of the flat grid's build time)."""
        x0, y0, x1, y1 = shapely.total_bounds(geoms)
        levels = max(0, math.ceil(math.log2(max(x1 - x0, y1 - y0) / cell_m / 8)))
        size = cell_m * 2**levels
        todo = -2  # "split further"
        cells = np.full((math.ceil((y1 - y0) / size), math.ceil((x1 - x0) / size)), todo, np.int32)
        shapely.prepare(geoms)
        for level in range(levels + 1):
            if level:
                size /= 2
                cells = cells.repeat(2, axis=0).repeat(2, axis=1)
            row, col = np.nonzero(cells == todo)
            bx, by = x0 + col * size - _GRID_PAD_M, y0 + row * size - _GRID_PAD_M
            boxes = shapely.box(bx, by, bx + size + 2 * _GRID_PAD_M, by + size + 2 * _GRID_PAD_M)
            box_i, geom_i = tree.query(boxes, predicate="intersects")
            hits = np.bincount(box_i, minlength=len(boxes))
            one = hits[box_i] == 1
            box_i, geom_i = box_i[one], geom_i[one]
            covered = shapely.covers(geoms[geom_i], boxes[box_i])
            value = np.where((hits == 0) | (level == levels), -1, todo).astype(np.int32)
            value[box_i[covered]] = geom_i[covered]
            cells[row, col] = value
        ny, nx = cells.shape
        return cls(float(x0), float(y0), cell_m, nx, ny, array("i", cells.tobytes()))

    def pure_share(self) -> float:
        return float(np.mean(np.frombuffer(self.cells, dtype=np.int32) >= 0))


# ReportRouter is built per app (per test), the grid depends only on the catalogue's villages.
_grids: weakref.WeakKeyDictionary[Catalogue, PureGrid] = weakref.WeakKeyDictionary()


class ReportRouter:
    """`route(lon, lat, village_code)` → Routing; raises InvalidReport for unusable input."""

    def __init__(
        self,
        catalogue: Catalogue,
        outside_max_m: float = 5000.0,
        nearest_village_max_m: float = 3000.0,
    ) -> None:
        self.catalogue = catalogue
        self.outside_max_m = float(outside_max_m)
        self.nearest_village_max_m = float(nearest_village_max_m)
        county = catalogue.county_geometry
        c = county.centroid
        self.metric = m = LocalMetric(c.x, c.y)
        self._county = m.to_metric(county)
        shapely.prepare(self._county)

        villages = catalogue.gdf("villages")
        self._village_codes = list(villages["code"])
        self._village_geoms = m.to_metric(np.asarray(villages.geometry.values, dtype=object))
        self._vtree = shapely.STRtree(self._village_geoms)
        grid = _grids.get(catalogue)
        if grid is None:
            grid = _grids[catalogue] = PureGrid.build(self._village_geoms, self._vtree, GRID_CELL_M)
        self.grid = grid
        townships = catalogue.gdf("townships")
        self._township_codes = list(townships["code"])
        self._ttree = shapely.STRtree(m.to_metric(np.asarray(townships.geometry.values)))
        zones = catalogue.gdf("zones")
        self._zone_ids = list(zones["id"])
        self._ztree = shapely.STRtree(m.to_metric(np.asarray(zones.geometry.values)))

        # A report in a village always routes the same way: build those answers once.
        self._by_index: list[Routing] = []
        for code, geom in zip(self._village_codes, self._village_geoms, strict=True):
            v = catalogue.village(code)
            assert v is not None
            zone_id = catalogue.zone_of_village(code) or self._zone_at(geom.point_on_surface())
            self._by_index.append(Routing(v["township_code"], code, zone_id, self._owner(zone_id)))
        self._by_code = {r.village_code: r for r in self._by_index}

    def _owner(self, zone_id: str | None) -> str | None:
        z = self.catalogue.zone(zone_id) if zone_id else None
        return z["owner"] if z else None

    def _zone_at(self, pt) -> str | None:
        hits = self._ztree.query(pt, predicate="intersects")
        return self._zone_ids[int(hits.min())] if len(hits) else None

    def _township_at(self, pt) -> str | None:
        hits = self._ttree.query(pt, predicate="intersects")
        if not len(hits):
            hits = self._ttree.query_nearest(pt)
        return self._township_codes[int(hits.min())] if len(hits) else None

    # ---- one report ----------------------------------------------------------------------
    def route(
        self, lon: float | None, lat: float | None, village_code: str | None = None
    ) -> Routing:
        """Where a report belongs. A village code wins over coordinates (it was chosen by hand)."""
        if village_code is not None:
            r = self._by_code.get(village_code)
            if r is None:
                raise InvalidReport("unknown village code", field="village_code")
            return r
        x = (_check_coord(lon, "lon", 180.0) - self.metric.lon0) * self.metric.m_per_deg_lon
        y = (_check_coord(lat, "lat", 90.0) - self.metric.lat0) * self.metric.m_per_deg_lat
        return self.route_xy(x, y)

    def route_xy(self, x: float, y: float) -> Routing:
        """`route` for a point in the router's metric x/y (metres from the county's centre)."""
        # Pure cell: ≈ 1.5-3 µs of Python instead of Point + STRtree.query + min: ≈ 12 µs alone,
        # 50-110 µs beside a busy Python thread (the SQLite writer), since both calls release
        # the GIL and must wait to get it back.
        g = self.grid
        col = (x - g.x0) / g.cell_m
        row = (y - g.y0) / g.cell_m
        if 0.0 <= col < g.nx and 0.0 <= row < g.ny:
            i = g.cells[int(row) * g.nx + int(col)]
            if i >= 0:
                return self._by_index[i]
        return self.route_by_tree(x, y)

    def route_by_tree(self, x: float, y: float) -> Routing:
        """The reference answer for metric x/y (shapely only); `route` agrees with it."""
        pt = shapely.Point(x, y)
        hits = self._vtree.query(pt, predicate="intersects")
        if len(hits):
            return self._by_index[int(hits.min())]
        return self._route_off_village(pt)

    def _route_off_village(self, pt) -> Routing:
        """Outside every village polygon: just outside the county, or in a sliver between."""
        d = float(self._county.distance(pt))
        if d > self.outside_max_m:
            raise InvalidReport(
                f"location is {d / 1000:.1f} km outside the county "
                f"(limit {self.outside_max_m / 1000:g} km)",
                field="lon",
            )
        outside = d > 0.0
        dist = round(d, 1)
        near = self._vtree.query_nearest(pt, max_distance=self.nearest_village_max_m)
        if len(near):
            return replace(
                self._by_index[int(near.min())], outside_county=outside, distance_outside_m=dist
            )
        zone_id = self._zone_at(pt)
        return Routing(self._township_at(pt), None, zone_id, self._owner(zone_id), outside, dist)

    # ---- many reports --------------------------------------------------------------------
    def route_many(
        self,
        lons: Sequence[float] | np.ndarray,
        lats: Sequence[float] | np.ndarray,
        village_codes: Sequence[str | None] | None = None,
    ) -> list[Routing | None]:
        """Route a batch in one STRtree query; None where `route` would raise InvalidReport."""
        lon = np.asarray(lons, dtype=float)
        lat = np.asarray(lats, dtype=float)
        n = len(lon)
        x, y = self.metric.xy(lon, lat)
        ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
        pts = shapely.points(np.where(ok, x, 0.0), np.where(ok, y, 0.0))
        inp, idx = self._vtree.query(pts, predicate="intersects")
        # Lowest village index per point, as in route() (a point on a shared edge hits two).
        first = np.full(n, len(self._by_index), dtype=np.int64)
        np.minimum.at(first, inp, idx)
        first[first == len(self._by_index)] = -1
        out: list[Routing | None] = []
        for i in range(n):
            code = village_codes[i] if village_codes is not None else None
            if code is not None:
                out.append(self._by_code.get(code))
            elif not ok[i]:
                out.append(None)
            elif first[i] >= 0:
                out.append(self._by_index[int(first[i])])
            else:
                try:
                    out.append(self._route_off_village(pts[i]))
                except InvalidReport:
                    out.append(None)
        return out
