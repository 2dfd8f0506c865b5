"""WGS-84 ↔ GCJ-02 ↔ BD-09 conversion, vectorised with numpy.

Chinese web maps (Amap, Tencent: GCJ-02; Baidu: BD-09) publish coordinates shifted by a
deliberately non-linear offset of a few hundred metres. GPS and OpenStreetMap are WGS-84. The
forward transform is the widely published one (Krasovsky ellipsoid constants); there is no closed
inverse, so GCJ-02 → WGS-84 iterates the forward transform to a fixed point, which converges in a
handful of steps because the offset changes by well under 1e-5 per metre.

Points outside China's bounding rectangle are not shifted (the published transform does the same).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

Datum = Literal["wgs84", "gcj02", "bd09"]
DATUMS: tuple[str, ...] = get_args(Datum)

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

# The rectangle used by the common implementations to decide "inside China".
_LON_MIN, _LON_MAX = 73.66, 135.05
_LAT_MIN, _LAT_MAX = 3.86, 53.55

_INVERSE_TOL_DEG = 1e-10
_INVERSE_MAX_ITER = 30

Array = NDArray[np.float64]


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where the point lies in the rectangle in which GCJ-02 applies an offset."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon >= _LON_MIN) & (lon <= _LON_MAX) & (lat >= _LAT_MIN) & (lat <= _LAT_MAX)


def _offset(lon: Array, lat: Array) -> tuple[Array, Array]:
    """GCJ-02 minus WGS-84 in degrees at WGS-84 (lon, lat); zero outside China."""
    x = lon - 105.0
    y = lat - 35.0
    xpi = x * np.pi
    ypi = y * np.pi
    common = (20.0 * np.sin(6.0 * xpi) + 20.0 * np.sin(2.0 * xpi)) * 2.0 / 3.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * sqrt_abs_x
        + common
        + (20.0 * np.sin(ypi) + 40.0 * np.sin(ypi / 3.0)) * 2.0 / 3.0
        + (160.0 * np.sin(ypi / 12.0) + 320.0 * np.sin(ypi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * sqrt_abs_x
        + common
        + (20.0 * np.sin(xpi) + 40.0 * np.sin(xpi / 3.0)) * 2.0 / 3.0
        + (150.0 * np.sin(xpi / 12.0) + 300.0 * np.sin(xpi / 30.0)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Forward transform; accepts scalars or arrays, returns arrays of the same shape."""
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Inverse transform by fixed-point iteration of the forward one (error < 1e-9 degrees)."""
    glon, glat = _arrays(lon, lat)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(_INVERSE_MAX_ITER):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon = wlon - elon
        wlat = wlat - elat
        if elon.size == 0 or max(np.max(np.abs(elon)), np.max(np.abs(elat))) < _INVERSE_TOL_DEG:
            break
    return wlon, wlat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """GCJ-02 → Baidu BD-09 (only applied inside China, like the published transform)."""
    x, y = _arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    inside = in_china(x, y)
    return (
        np.where(inside, z * np.cos(theta) + 0.0065, x),
        np.where(inside, z * np.sin(theta) + 0.006, y),
    )


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """Baidu BD-09 → GCJ-02 (the published closed-form approximate inverse)."""
    bx, by = _arrays(lon, lat)
    x = bx - 0.0065
    y = by - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    inside = in_china(bx, by)
    return np.where(inside, z * np.cos(theta), bx), np.where(inside, z * np.sin(theta), by)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


_TO_WGS84: dict[str, Callable[[ArrayLike, ArrayLike], tuple[Array, Array]]] = {
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}
_FROM_WGS84: dict[str, Callable[[ArrayLike, ArrayLike], tuple[Array, Array]]] = {
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}


def check_datum(datum: str) -> str:
    if datum not in DATUMS:
        raise ValueError(f"unknown datum {datum!r}; expected one of {', '.join(DATUMS)}")
    return datum


def _coords_fn(fn: Callable[[ArrayLike, ArrayLike], tuple[Array, Array]]):
    def apply(coords: Array) -> Array:
        lon, lat = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return apply


def geometry_to_wgs84(geom, datum: str = "gcj02"):
    """Convert a shapely geometry (or array of them) given in `datum` to WGS-84."""
    if check_datum(datum) == "wgs84":
        return geom
    return shapely.transform(geom, _coords_fn(_TO_WGS84[datum]))


def geometry_from_wgs84(geom, datum: str = "gcj02"):
    """Convert a WGS-84 shapely geometry to `datum` (e.g. to overlay on GCJ-02 tiles)."""
    if check_datum(datum) == "wgs84":
        return geom
    return shapely.transform(geom, _coords_fn(_FROM_WGS84[datum]))


def to_wgs84(gdf, datum: str = "gcj02"):
    """Return a copy of a lon/lat GeoDataFrame whose coordinates were in `datum`, in WGS-84."""
    import geopandas  # only needed here; keeps the pure-numpy functions import-light

    out = gdf.copy()
    if check_datum(datum) != "wgs84":
        geoms = geometry_to_wgs84(np.asarray(gdf.geometry.values, dtype=object), datum)
        series = geopandas.GeoSeries(geoms, index=gdf.index, crs="EPSG:4326")
        out = out.set_geometry(series.rename(gdf.geometry.name))
    elif out.crs is None:
        out = out.set_crs("EPSG:4326")
    return out
