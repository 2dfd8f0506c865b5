"""Deterministic DEMO villages: Voronoi cells of seeded points inside each township.

Nothing here is real. Village positions, names, populations and flags are generated from a
fixed seed so that the command post has something realistic in shape to show; a county
replaces the layer with its own data (see geodata/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point

from floodpost.geo.build_townships import Township, as_multipolygon, pinyin_title, snap
from floodpost.geo.metric import LocalMetric

SEED = 20170701  # the 2017 Suining flood; any fixed number works
TARGET_VILLAGES = 320
MIN_VILLAGES_PER_TOWNSHIP = 10
TOTAL_POPULATION = 370_000  # county resident population, order of magnitude of the census
LLOYD_ITERATIONS = 3
NEAR_RIVER_M = 1500.0
# Demo "main valley" through the township seats, used only to set near_river / low_lying.
VALLEY_SEAT_ORDER = (
    "430527212",
    "430527203",
    "430527100",
    "430527103",
    "430527101",
    "430527102",
    "430527104",
    "430527107",
)


@dataclass
class Village:
    code: str
    township: Township
    number: int
    geometry: MultiPolygon
    seat: tuple[float, float]
    population: int = 0
    households: int = 0
    low_lying: bool = False
    near_river: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.township.short_name}示例村{self.number:02d}"

    @property
    def name_en(self) -> str:
        return f"{pinyin_title(self.township.pinyin)} demo village {self.number:02d}"

    def properties(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "name_en": self.name_en,
            "township_code": self.township.code,
            "population": self.population,
            "households": self.households,
            "low_lying": self.low_lying,
            "near_river": self.near_river,
            "seat_lon": round(self.seat[0], 6),
            "seat_lat": round(self.seat[1], 6),
            **self.extra,  # rain gauge and thresholds (build_gauges.py)
            "demo": True,
        }


def township_rng(code: str, salt: int = 0) -> np.random.Generator:
    """One generator per township so that changing one township leaves the others alone."""
    return np.random.default_rng([SEED, int(code), salt])


def _random_points(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    found: list[np.ndarray] = []
    count = 0
    while count < n:
        xs = rng.uniform(minx, maxx, 4 * n)
        ys = rng.uniform(miny, maxy, 4 * n)
        ok = shapely.contains_xy(poly, xs, ys)
        pts = np.column_stack([xs[ok], ys[ok]])
        found.append(pts)
        count += len(pts)
    return np.concatenate(found)[:n]


def _cells(poly, pts: np.ndarray, envelope) -> list:
    cells = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=envelope, ordered=True)
    return [c.intersection(poly) for c in cells.geoms]


def _relaxed_seeds(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random points, then a few Lloyd steps so the cells look like villages, not shards."""
    pts = _random_points(poly, n, rng)
    envelope = poly.envelope.buffer(0.2)
    for _ in range(LLOYD_ITERATIONS):
        cells = _cells(poly, pts, envelope)
        moved = []
        for cell, p in zip(cells, pts, strict=True):
            c = cell.centroid
            if cell.is_empty or not poly.contains(c):
                c = Point(p) if cell.is_empty else cell.point_on_surface()
            moved.append((c.x, c.y))
        pts = np.asarray(moved)
    return pts


def village_counts(cells: list, metric: LocalMetric) -> list[int]:
    areas = np.array([metric.to_metric(c).area for c in cells])
    raw = TARGET_VILLAGES * areas / areas.sum()
    return [max(MIN_VILLAGES_PER_TOWNSHIP, int(round(r))) for r in raw]


def build_villages(townships: list[Township], cells: list, metric: LocalMetric) -> list[Village]:
    villages: list[Village] = []
    for t, cell, n in zip(townships, cells, village_counts(cells, metric), strict=True):
        rng = township_rng(t.code)
        pts = _relaxed_seeds(cell, n, rng)
        # Number villages outwards from the township seat: 201 is the seat's village.
        sx, sy = metric.xy(pts[:, 0], pts[:, 1])
        tx, ty = metric.xy(*t.seat)
        pts = pts[np.argsort(np.hypot(sx - tx, sy - ty), kind="stable")]
        vcells = _cells(cell, pts, cell.envelope.buffer(0.2))
        for i, (vcell, p) in enumerate(zip(vcells, pts, strict=True), start=1):
            geom = as_multipolygon(snap(vcell))
            seat = (round(float(p[0]), 6), round(float(p[1]), 6))
            if not geom.contains(Point(seat)):
                rp = geom.point_on_surface()
                seat = (round(rp.x, 6), round(rp.y, 6))
            villages.append(Village(f"{t.code}{200 + i:03d}", t, i, geom, seat))
    _assign_people(villages)
    _assign_flags(villages, townships, metric)
    return villages


def _assign_people(villages: list[Village]) -> None:
    rng = np.random.default_rng([SEED, 1])
    weights = rng.lognormal(mean=0.0, sigma=0.45, size=len(villages))
    for i, v in enumerate(villages):
        if v.number == 1:
            weights[i] *= 3.0  # the township seat's village is the market town
        if v.township.code == "430527100":
            weights[i] *= 2.0  # Changpu is the county seat
    exact = weights / weights.sum() * TOTAL_POPULATION
    pops = np.floor(exact).astype(int)
    # Hand out the rounding remainder to the largest fractions so the total is exact.
    short = TOTAL_POPULATION - int(pops.sum())
    pops[np.argsort(-(exact - pops), kind="stable")[:short]] += 1
    per_household = rng.uniform(2.9, 3.6, size=len(villages))
    for v, pop, ph in zip(villages, pops, per_household, strict=True):
        v.population = int(pop)
        v.households = max(1, int(round(pop / ph)))


def _assign_flags(villages: list[Village], townships: list[Township], metric: LocalMetric):
    seats = {t.code: t.seat for t in townships}
    line = LineString([metric.xy(*seats[c]) for c in VALLEY_SEAT_ORDER])
    rng = np.random.default_rng([SEED, 2])
    draws = rng.random((len(villages), 2))
    for v, (a, b) in zip(villages, draws, strict=True):
        d = line.distance(Point(metric.xy(*v.seat)))
        v.near_river = bool(d <= NEAR_RIVER_M or a < 0.10)
        v.low_lying = bool((v.near_river and b < 0.6) or b < 0.04)
