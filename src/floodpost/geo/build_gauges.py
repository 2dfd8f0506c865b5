"""Deterministic DEMO gauges (SL 323 stations), village rain thresholds and reservoir levels.

- One rain gauge (PP) per responsibility zone (a few adjacent villages), at the seat of the
  zone's first village; every village of the zone takes it as `rain_station`. Three gauges stand
  for the real stations named in the 2017 press report (寨市乡上翁, 河口乡岩坡村, 竹舟江) so the
  replay can give them the recorded totals; they are still demo gauges, not their real positions
  (竹舟江 sits at its GeoNames point, the other two at a village of their township).
- One reservoir station (RR) per reservoir, at the dam.
- Village thresholds follow the 江华瑶族自治县 山洪地质灾害临界雨量参考表 (Yongzhou, Hunan; cited in
  geodata/README.md): four colour levels for 1/3/6/24 h. Low-lying or riverside villages prepare
  at 四级 (blue) and evacuate at 三级 (yellow); the other villages prepare at 三级 and evacuate at
  二级 (orange). These are illustrations, not Suining's official indicators.
- Reservoir levels are made up from the dam height in the usual order (汛限 ≤ 正常 ≤ 设计 < 校核 <
  坝顶), with a main flood season (0401–0715), a later season and the rest of the year.
"""

from __future__ import annotations

import numpy as np
from shapely.geometry import Point

from floodpost.geo.build_villages import SEED, Village

# 江华县 临界雨量 (mm): level → (1 h, 3 h, 6 h, 24 h)
JIANGHUA_MM: dict[str, tuple[int, int, int, int]] = {
    "blue": (35, 55, 70, 100),
    "yellow": (45, 75, 95, 130),
    "orange": (60, 100, 120, 160),
    "red": (80, 120, 150, 200),
}
JIANGHUA_WINDOWS = ("1h", "3h", "6h", "24h")
# (real station name, township code, GeoNames place or None) of the 2017 press report.
NAMED_GAUGES: tuple[tuple[str, str, str | None], ...] = (
    ("寨市乡上翁", "430527203", None),
    ("河口乡岩坡村", "430527212", None),
    ("竹舟江", "", "Zhuzhoujiang Miaozuxiang"),
)
SEASONS = (("0401", "0715"), ("0716", "0930"), ("1001", "0331"))


def warn_mm(village: Village) -> dict[str, list[int]]:
    low, high = (
        ("blue", "yellow") if village.low_lying or village.near_river else ("yellow", "orange")
    )
    return {w: [JIANGHUA_MM[low][i], JIANGHUA_MM[high][i]] for i, w in enumerate(JIANGHUA_WINDOWS)}


def _zone_at(zones: list[tuple], lon: float, lat: float) -> int:
    p = Point(lon, lat)
    for i, (geom, _) in enumerate(zones):
        if geom.covers(p):
            return i
    raise ValueError(f"no zone covers {lon}, {lat}")


def build_stations(
    villages: list[Village], zones: list[tuple], places: dict[str, tuple[float, float]]
) -> list[tuple]:
    """(Point, properties) of every rain gauge; sets rain_station and warn_mm on the villages."""
    by_code = {v.code: v for v in villages}
    named: dict[int, tuple[str, tuple[float, float] | None]] = {}
    for name, township, place in NAMED_GAUGES:
        if place:
            lon, lat = places[place]
            named[_zone_at(zones, lon, lat)] = (name, (round(lon, 6), round(lat, 6)))
        else:
            # The township's zone numbered 2 (not the town seat's): a hill village, like the
            # real 上翁 and 岩坡村.
            idx = [i for i, (_, z) in enumerate(zones) if z["township_code"] == township]
            named[idx[min(1, len(idx) - 1)]] = (name, None)
    out = []
    for n, (_, zone) in enumerate(zones, start=1):
        first = by_code[zone["village_codes"][0]]
        sid = f"DEMP{n:04d}"
        name, at = named.get(n - 1, (f"示例雨量站{n:02d}", None))
        if name in {g[0] for g in NAMED_GAUGES}:
            name = f"{name}(示例站)"
        lon, lat = at or first.seat
        township = zone["township_code"]
        for code in zone["village_codes"]:
            by_code[code].extra["rain_station"] = sid
            by_code[code].extra["warn_mm"] = warn_mm(by_code[code])
        props = {"id": sid, "name": name, "kind": "PP", "township_code": township, "demo": True}
        out.append((Point(lon, lat), props))
    return out


def reservoir_levels(props: dict, rng: np.random.Generator) -> dict:
    """Characteristic levels (m above a local datum) for one demo reservoir, in order."""
    height = float(props.get("dam_height_m") or 10.0)
    foot = round(float(rng.uniform(220, 620)), 1)
    crest = foot + height
    check = crest - max(0.5, round(height * float(rng.uniform(0.04, 0.08)), 2))
    design = check - max(0.3, round(height * float(rng.uniform(0.03, 0.06)), 2))
    normal = design - max(0.8, round(height * float(rng.uniform(0.06, 0.12)), 2))
    limit = normal - max(0.5, round(height * float(rng.uniform(0.05, 0.10)), 2))
    later = limit + (normal - limit) / 2
    return {
        "flood_limit_m": round(limit, 2),
        "normal_m": round(normal, 2),
        "design_flood_m": round(design, 2),
        "check_flood_m": round(check, 2),
        "crest_m": round(crest, 2),
        "flood_limit_seasons": [
            {"bgmd": bg, "edmd": ed, "level_m": round(v, 2)}
            for (bg, ed), v in zip(SEASONS, (limit, later, normal), strict=True)
        ],
    }


def add_reservoir_stations(reservoirs: list[tuple]) -> list[tuple]:
    """One RR station per reservoir (at the dam); sets `station` and the levels on each."""
    rng = np.random.default_rng([SEED, 11])
    out = []
    for n, (point, props) in enumerate(reservoirs, start=1):
        sid = f"DEMR{n:04d}"
        demo = props.pop("demo", True)  # keep `demo` the last property, as on every layer
        props.update(station=sid, **reservoir_levels(props, rng), demo=demo)
        out.append(
            (
                point,
                {
                    "id": sid,
                    "name": f"{props['name']}站",
                    "kind": "RR",
                    "township_code": props["township_code"],
                    "reservoir_id": props["id"],
                    "demo": True,
                },
            )
        )
    return out
