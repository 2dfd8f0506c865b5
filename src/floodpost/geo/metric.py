"""Local equirectangular metres: fast distances over a county-sized area.

Within a county (±0.5° of its centre) the scale error is well under 1 %, which is all that
"within 3 km of a village" needs; a geodesic per report would cost far more.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray


class LocalMetric:
    """Maps lon/lat degrees to metres east/north of (lon0, lat0) with a fixed scale."""

    def __init__(self, lon0: float, lat0: float) -> None:
        phi = math.radians(lat0)
        # Series for the WGS-84 lengths of one degree of latitude and longitude at phi.
        self.m_per_deg_lat = 111132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
        self.m_per_deg_lon = 111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi)
        self.lon0 = lon0
        self.lat0 = lat0

    def xy(self, lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray, NDArray]:
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        return (lon - self.lon0) * self.m_per_deg_lon, (lat - self.lat0) * self.m_per_deg_lat

    def lonlat(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray, NDArray]:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        return x / self.m_per_deg_lon + self.lon0, y / self.m_per_deg_lat + self.lat0

    def to_metric(self, geom):
        """A shapely geometry (or array) in lon/lat → the same in local metres."""

        def fn(c: NDArray) -> NDArray:
            return np.column_stack(self.xy(c[:, 0], c[:, 1]))

        return shapely.transform(geom, fn)

    def to_lonlat(self, geom):
        def fn(c: NDArray) -> NDArray:
            return np.column_stack(self.lonlat(c[:, 0], c[:, 1]))

        return shapely.transform(geom, fn)
