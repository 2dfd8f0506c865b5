"""Route a field report to its township, village and responsibility zone.

Built once from the catalogue. Geometries are projected to local metres (LocalMetric) so that
"3 km from a village" and "5 km outside the county" are plain planar distances, and every
lookup is a shapely STRtree query: no geopandas and no allocation of frames per report.
"""

from __future__ import annotations

import math
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
