"""Deterministic DEMO reservoirs, shelters and party-member responsibility zones.

Built on the demo villages (build_villages.py). Names, capacities and contacts are
placeholders that cannot pass for real ones (示例…, 0000- numbers).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import shapely
from shapely.geometry import Point

from floodpost.geo.build_townships import Township, as_multipolygon, snap
from floodpost.geo.build_villages import SEED, Village, township_rng
from floodpost.geo.metric import LocalMetric

N_RESERVOIRS = 40
N_MEDIUM = 3  # 中型 (10–100 million m³) are rare in a mountain county
N_SMALL1 = 12  # 小(1)型 (1–10 million m³); the rest 小(2)型 (0.1–1 million m³)
DAM_TYPES = ("土坝", "土坝", "土坝", "堆石坝", "浆砌石坝", "混凝土重力坝")
DOWNSTREAM_MAX_M = 8000.0


def _rounded(x: float, y: float) -> tuple[float, float]:
    return round(float(x), 6), round(float(y), 6)


def _point_in(geom, rng: np.random.Generator) -> tuple[float, float]:
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(1000):
        x, y = _rounded(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if geom.contains(Point(x, y)):
            return x, y
    p = geom.point_on_surface()
    return _rounded(p.x, p.y)


def build_reservoirs(villages: list[Village], metric: LocalMetric) -> list[tuple]:
    """(Point, properties) pairs; reservoirs sit in hill villages, away from the valley."""
    rng = np.random.default_rng([SEED, 3])
    hill = [v for v in villages if not v.near_river]
    chosen = sorted(rng.choice(len(hill), size=N_RESERVOIRS, replace=False))
    scales = ["中型"] * N_MEDIUM + ["小(1)型"] * N_SMALL1
    scales += ["小(2)型"] * (N_RESERVOIRS - len(scales))
    scales = [scales[i] for i in rng.permutation(N_RESERVOIRS)]
    vx, vy = metric.xy([v.seat[0] for v in villages], [v.seat[1] for v in villages])
    out = []
    for n, (idx, scale) in enumerate(zip(chosen, scales, strict=True), start=1):
        host = hill[idx]
        x, y = _point_in(host.geometry, rng)
        if scale == "中型":
            capacity = round(rng.uniform(1000, 4000), 1)
            height, k = round(rng.uniform(30, 60), 1), 8
        elif scale == "小(1)型":
            capacity = round(rng.uniform(100, 900), 1)
            height, k = round(rng.uniform(15, 35), 1), 5
        else:
            capacity = round(rng.uniform(10, 95), 1)
            height, k = round(rng.uniform(6, 20), 1), 3
        px, py = metric.xy(x, y)
        dist = np.hypot(vx - px, vy - py)
        # Downstream: the nearest villages other than the host, valley villages first.
        order = [
            i
            for i in np.argsort(dist, kind="stable")
            if dist[i] <= DOWNSTREAM_MAX_M and villages[i].code != host.code
        ]
        order.sort(key=lambda i: (not villages[i].near_river, dist[i]))
        props = {
            "id": f"R{n:03d}",
            "name": f"示例水库{n:02d}",
            "scale": scale,
            "capacity_10k_m3": capacity,
            "dam_type": DAM_TYPES[int(rng.integers(len(DAM_TYPES)))],
            "dam_height_m": height,
            "township_code": host.township.code,
            "village_code": host.code,
            "downstream_villages": sorted(villages[i].code for i in order[:k]),
            "demo": True,
        }
        out.append((Point(x, y), props))
    return out


def build_shelters(townships: list[Township], villages: list[Village]) -> list[tuple]:
    """2–4 shelters per township: the township compound, a school, village halls."""
    by_township: dict[str, list[Village]] = defaultdict(list)
    for v in villages:
        by_township[v.township.code].append(v)
    out = []
    n = 0
    for t in townships:
        rng = township_rng(t.code, salt=5)
        vs = by_township[t.code]
        kinds = ["township_compound", "school"] + ["village_hall"] * int(rng.integers(0, 3))
        hosts = [vs[0]] + [vs[int(i)] for i in rng.choice(range(1, len(vs)), len(kinds) - 1, False)]
        for kind, host in zip(kinds, hosts, strict=True):
            n += 1
            if kind == "township_compound":
                capacity = int(rng.integers(20, 61)) * 10
            elif kind == "school":
                capacity = int(rng.integers(30, 151)) * 10
            else:
                capacity = int(rng.integers(6, 26)) * 10
            inner = host.geometry.buffer(-0.001)  # keep shelters off village edges
            x, y = _point_in(host.geometry if inner.is_empty else inner, rng)
            label = {"township_compound": "乡镇驻地", "school": "学校", "village_hall": "村部"}
            out.append(
                (
                    Point(x, y),
                    {
                        "id": f"S{n:03d}",
                        "name": f"示例安置点{n:02d}({label[kind]})",
                        "kind": kind,
                        "capacity": capacity,
                        "township_code": t.code,
                        "village_code": host.code,
                        "demo": True,
                    },
                )
            )
    return out


def _adjacency(vs: list[Village]) -> dict[str, set[str]]:
    geoms = [v.geometry for v in vs]
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    adj: dict[str, set[str]] = {v.code: set() for v in vs}
    for i, j in zip(left, right, strict=True):
        if i < j and shapely.intersection(geoms[i].boundary, geoms[j].boundary).length > 1e-6:
            adj[vs[i].code].add(vs[j].code)
            adj[vs[j].code].add(vs[i].code)
    return adj


def _group(vs: list[Village], rng: np.random.Generator) -> list[list[str]]:
    """Grow zones of 3–5 adjacent villages from the lowest free code; merge stragglers."""
    adj = _adjacency(vs)
    seat = {v.code: v.seat for v in vs}
    free = [v.code for v in vs]
    groups: list[list[str]] = []
    while free:
        start = free[0]
        group = [start]
        free.remove(start)
        target = int(rng.integers(3, 6))
        while len(group) < target:
            cand = sorted(
                {c for g in group for c in adj[g] if c in free},
                key=lambda c: (
                    np.hypot(seat[c][0] - seat[start][0], seat[c][1] - seat[start][1]),
                    c,
                ),
            )
            if not cand:
                break
            group.append(cand[0])
            free.remove(cand[0])
        groups.append(group)
    # A lone village joins its smallest neighbouring zone (zones should be a few villages).
    for g in [g for g in groups if len(g) == 1]:
        neighbours = [h for h in groups if h is not g and adj[g[0]] & set(h)]
        if neighbours:
            min(neighbours, key=len).extend(g)
            groups.remove(g)
    return [sorted(g) for g in groups]


def build_zones(townships: list[Township], villages: list[Village]) -> list[tuple]:
    by_code = {v.code: v for v in villages}
    out = []
    n = 0
    for t in townships:
        vs = [v for v in villages if v.township.code == t.code]
        groups = sorted(_group(vs, township_rng(t.code, salt=7)))
        for k, codes in enumerate(groups, start=1):
            n += 1
            first = by_code[codes[0]]
            owner = f"{first.name}党支部" if k % 2 else f"驻村第一书记(示例,{first.name})"
            geom = as_multipolygon(snap(shapely.union_all([by_code[c].geometry for c in codes])))
            props = {
                "id": f"Z{n:03d}",
                "name": f"{t.short_name}示例责任区{k:02d}",
                "owner": owner,
                "contact": f"示例电话 0000-{n:07d}",
                "township_code": t.code,
                "village_codes": codes,
                "demo": True,
            }
            out.append((geom, props))
    return out
