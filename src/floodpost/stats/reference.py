"""What the statistics need from the geodata: names, populations and risk by place, capacities.

Computed once per catalogue (the layers never change while the service runs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from floodpost import rules

UNASSIGNED = ""


@dataclass
class Reference:
    township_names: dict[str, str] = field(default_factory=dict)
    village_names: dict[str, str] = field(default_factory=dict)
    village_township: dict[str, str] = field(default_factory=dict)
    village_zone: dict[str, str] = field(default_factory=dict)
    zone_names: dict[str, str] = field(default_factory=dict)
    zone_owner: dict[str, str] = field(default_factory=dict)
    zone_township: dict[str, str] = field(default_factory=dict)
    village_population: dict[str, int] = field(default_factory=dict)
    # What the population-at-risk rule needs (rules.RiskPlaces), from the same records.
    risk: rules.RiskPlaces = field(
        default_factory=lambda: rules.RiskPlaces(population={}, by_place=frozenset(), downstream={})
    )
    shelter_capacity: dict[str, int] = field(default_factory=dict)
    shelter_names: dict[str, str] = field(default_factory=dict)
    reservoir_names: dict[str, str] = field(default_factory=dict)
    # Where things are (lon, lat): village seats, shelters, reservoirs — for flows and the map.
    village_point: dict[str, tuple[float, float]] = field(default_factory=dict)
    shelter_point: dict[str, tuple[float, float]] = field(default_factory=dict)
    reservoir_point: dict[str, tuple[float, float]] = field(default_factory=dict)

    def at_risk_of(self, level: str, key: str, at_risk: dict[str, int]) -> int:
        """Population at risk of one township, zone or village, given it per village."""
        if level == "village_code":
            return at_risk.get(key, 0)
        lookup = self.village_township if level == "township_code" else self.village_zone
        return sum(n for code, n in at_risk.items() if lookup.get(code) == key)


_CACHE: WeakKeyDictionary[Any, Reference] = WeakKeyDictionary()


def reference_for(catalogue: Any) -> Reference:
    """The (cached) reference data of a `floodpost.geo.catalogue.Catalogue`."""
    ref = _CACHE.get(catalogue)
    if ref is None:
        ref = _build(catalogue)
        _CACHE[catalogue] = ref
    return ref


def _build(catalogue: Any) -> Reference:
    ref = Reference()
    for code, t in catalogue.records("townships").items():
        ref.township_names[code] = t["name"]
    reservoirs = catalogue.records("reservoirs")
    villages = catalogue.records("villages")
    ref.risk = rules.RiskPlaces.of(villages, reservoirs)
    for rid, r in reservoirs.items():
        ref.reservoir_names[rid] = r["name"]
    for code, v in villages.items():
        ref.village_names[code] = v["name"]
        ref.village_township[code] = v["township_code"]
        ref.village_population[code] = int(v["population"])
    for zid, z in catalogue.records("zones").items():
        ref.zone_names[zid] = z["name"]
        ref.zone_owner[zid] = z.get("owner") or ""
        ref.zone_township[zid] = z["township_code"]
        for code in z.get("village_codes") or []:
            ref.village_zone[code] = zid
    for sid, s in catalogue.records("shelters").items():
        ref.shelter_capacity[sid] = int(s["capacity"])
        ref.shelter_names[sid] = s["name"]
    ref.shelter_point = _points(catalogue, "shelters", "id")
    ref.reservoir_point = _points(catalogue, "reservoirs", "id")
    villages = catalogue.gdf("villages")
    for code, seat_lon, seat_lat, geom in zip(
        villages["code"],
        villages.get("seat_lon"),
        villages.get("seat_lat"),
        villages.geometry,
        strict=True,
    ):
        if seat_lon is not None and seat_lat is not None and seat_lon == seat_lon:
            ref.village_point[code] = (float(seat_lon), float(seat_lat))
        else:  # no seat recorded: a point guaranteed inside the village area
            p = geom.representative_point()
            ref.village_point[code] = (p.x, p.y)
    return ref


def _points(catalogue: Any, layer_id: str, key: str) -> dict[str, tuple[float, float]]:
    gdf = catalogue.gdf(layer_id)
    return {k: (float(g.x), float(g.y)) for k, g in zip(gdf[key], gdf.geometry, strict=True)}
