"""The gauge network of a county, built once from the catalogue: who each station warns for.

net = GaugeNetwork.of(catalogue)
net.villages_of("DEMP0001")     # villages whose representative gauge it is
net.reservoir_of("DEMR0001")    # the reservoir record a level station measures
net.village_record(code)        # the fields a village warning carries (name, zone owner…)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from floodpost.hydro.readings import StationInfo, stations_of
from floodpost.hydro.thresholds import WINDOW_KEYS


def _lowest_prepare(catalogue: Any, codes: list[str]) -> dict[int, float]:
    lowest: dict[int, float] = {}
    for code in codes:
        for key, (prepare, _) in catalogue.village(code)["warn_mm"].items():
            w = WINDOW_KEYS[key]
            lowest[w] = min(lowest.get(w, prepare), prepare)
    return lowest


@dataclass
class GaugeNetwork:
    catalogue: Any
    stations: dict[str, dict[str, Any]]
    infos: dict[str, StationInfo]
    villages_by_station: dict[str, list[str]]
    reservoir_by_station: dict[str, str]
    _lowest: dict[str, dict[int, float]] = field(default_factory=dict)

    @classmethod
    def of(cls, catalogue: Any) -> GaugeNetwork:
        by_station: dict[str, list[str]] = {}
        for code, v in catalogue.records("villages").items():
            if v.get("rain_station") and v.get("warn_mm"):
                by_station.setdefault(v["rain_station"], []).append(code)
        reservoirs = {
            r["station"]: rid
            for rid, r in catalogue.records("reservoirs").items()
            if r.get("station")
        }
        return cls(
            catalogue,
            dict(catalogue.records("stations")),
            stations_of(catalogue),
            by_station,
            reservoirs,
        )

    def villages_of(self, station: str) -> list[str]:
        return self.villages_by_station.get(station, [])

    def may_warn(self, station: str, totals_mm: dict[int, float]) -> bool:
        """False when no window reaches the lowest prepare threshold of the station's villages
        (the usual case: most readings raise nothing, so nothing more is looked up)."""
        lowest = self._lowest.get(station)
        if lowest is None:
            lowest = self._lowest[station] = _lowest_prepare(
                self.catalogue, self.villages_of(station)
            )
        return any(totals_mm.get(w, 0.0) >= mm - 1e-9 for w, mm in lowest.items())

    def reservoir_of(self, station: str) -> dict[str, Any] | None:
        rid = self.reservoir_by_station.get(station)
        return self.catalogue.reservoir(rid) if rid else None

    def thresholds_of(self, station: str) -> dict[str, Any]:
        """What a chart of the station draws: for a rain gauge the lowest [prepare, evacuate]
        of its villages per window; for a reservoir station its characteristic levels."""
        reservoir = self.reservoir_of(station)
        if reservoir is not None:
            fields = ("flood_limit_m", "normal_m", "design_flood_m", "check_flood_m", "crest_m")
            return {"levels": {f: reservoir.get(f) for f in fields}}
        windows: dict[str, list[float]] = {}
        for code in self.villages_of(station):
            for key, (prepare, evacuate) in self.catalogue.village(code)["warn_mm"].items():
                old = windows.get(key)
                windows[key] = (
                    [min(old[0], prepare), min(old[1], evacuate)] if old else [prepare, evacuate]
                )
        return {"warn_mm": windows}

    def _zone_fields(self, village_code: str) -> dict[str, Any]:
        zid = self.catalogue.zone_of_village(village_code)
        zone = self.catalogue.zone(zid) if zid else None
        return {
            "zone_id": zid,
            "zone_owner": zone["owner"] if zone else None,
            "zone_contact": (zone.get("contact") if zone else None),
        }

    def village_record(self, code: str) -> dict[str, Any]:
        v = self.catalogue.village(code)
        return {
            "target": "village",
            "code": code,
            "name": v["name"],
            "township_code": v["township_code"],
            "villages": [code],
            "population": int(v.get("population") or 0),
            **self._zone_fields(code),
        }

    def reservoir_record(self, reservoir: dict[str, Any]) -> dict[str, Any]:
        below = list(reservoir.get("downstream_villages") or [])
        host = reservoir.get("village_code")
        population = sum(
            int((self.catalogue.village(c) or {}).get("population") or 0) for c in below
        )
        return {
            "target": "reservoir",
            "code": reservoir["id"],
            "name": reservoir["name"],
            "township_code": reservoir["township_code"],
            "villages": below,
            "population": population,
            **self._zone_fields(host or (below[0] if below else "")),
        }
