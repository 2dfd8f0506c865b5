"""Forgiving place names for SMS: a village by full name, short name (without 村), 12-digit code or
a unique prefix; a reservoir or shelter likewise. An ambiguous name is answered with its
candidates, never guessed: an evacuation booked to the wrong village is worse than a question."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Suffixes a short name leaves off (黄土村 -> 黄土, 示例水库01 stays, 红岩水库 -> 红岩).
_SUFFIXES = ("村民委员会", "村委会", "社区", "村", "水库", "安置点")
_TOWNSHIP_SUFFIXES = ("镇", "乡", "街道")
MIN_PREFIX = 2  # one character names half a county


def clean(text: str) -> str:
    """NFKC (full-width letters, digits and spaces to ASCII) without any whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _short(name: str, suffixes: Iterable[str]) -> str | None:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return None


@dataclass(frozen=True)
class Place:
    kind: str  # "village", "reservoir", "shelter"
    key: str  # village code, reservoir or shelter id
    name: str
    township: str = ""  # township name, to tell same-named villages apart
    village_code: str | None = None
    lon: float | None = None
    lat: float | None = None


class PlaceNotFound(LookupError):
    def __init__(self, query: str) -> None:
        super().__init__(query)
        self.query = query


class AmbiguousPlace(LookupError):
    def __init__(self, query: str, candidates: list[Place]) -> None:
        super().__init__(query)
        self.query = query
        self.candidates = candidates


class PlaceMatcher:
    def __init__(self, places: Iterable[Place]) -> None:
        self.places = list(places)
        self._exact: dict[str, list[Place]] = {}
        self._names: list[tuple[str, Place]] = []
        for p in self.places:
            aliases = {clean(p.key).upper(), clean(p.name)}
            short = _short(p.name, _SUFFIXES)
            if short:
                aliases.add(short)
            if p.township:
                # 长铺镇黄土村, 长铺黄土村, 长铺黄土: the township tells same-named villages apart.
                towns = {p.township, _short(p.township, _TOWNSHIP_SUFFIXES) or p.township}
                aliases |= {t + n for t in towns for n in (p.name, short) if n}
            for alias in aliases:
                self._exact.setdefault(alias, []).append(p)
                if alias != clean(p.key).upper():
                    self._names.append((alias, p))

    def match(self, query: str) -> Place:
        """The one place `query` names; PlaceNotFound or AmbiguousPlace (with candidates)."""
        q = clean(query)
        if not q:
            raise PlaceNotFound(query)
        hits = _unique(self._exact.get(q.upper(), []) or self._exact.get(q, []))
        if not hits and len(q) >= MIN_PREFIX:
            hits = _unique(p for alias, p in self._names if alias.startswith(q))
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise AmbiguousPlace(query, sorted(hits, key=lambda p: p.key))
        raise PlaceNotFound(query)

    def __add__(self, other: PlaceMatcher) -> PlaceMatcher:
        return PlaceMatcher([*self.places, *other.places])


def _unique(places: Iterable[Place]) -> list[Place]:
    seen: dict[tuple[str, str], Place] = {}
    for p in places:
        seen.setdefault((p.kind, p.key), p)
    return list(seen.values())


def candidate_names(candidates: list[Place]) -> list[str]:
    """Names to offer in a reply; same-named places carry their township."""
    counts: dict[str, int] = {}
    for p in candidates:
        counts[p.name] = counts.get(p.name, 0) + 1
    return [f"{p.township}{p.name}" if counts[p.name] > 1 else p.name for p in candidates]


@dataclass(frozen=True)
class Gazetteer:
    """The matchers SMS parsing needs, built once from the layer catalogue."""

    villages: PlaceMatcher
    reservoirs: PlaceMatcher
    shelters: PlaceMatcher

    @classmethod
    def from_catalogue(cls, catalogue: Any) -> Gazetteer:
        towns = {code: t["name"] for code, t in catalogue.records("townships").items()}
        villages = [
            Place("village", code, v["name"], towns.get(v["township_code"], ""), code)
            for code, v in catalogue.records("villages").items()
        ]
        return cls(
            PlaceMatcher(villages),
            PlaceMatcher(_points(catalogue, "reservoirs", towns)),
            PlaceMatcher(_points(catalogue, "shelters", towns)),
        )


def _points(catalogue: Any, layer: str, towns: dict[str, str]) -> list[Place]:
    gdf = catalogue.gdf(layer)
    where = {key: (float(g.x), float(g.y)) for key, g in zip(gdf["id"], gdf.geometry, strict=True)}
    out = []
    for key, r in catalogue.records(layer).items():
        lon, lat = where.get(key, (None, None))
        town = towns.get(r["township_code"], "")
        out.append(
            Place(layer.removesuffix("s"), key, r["name"], town, r.get("village_code"), lon, lat)
        )
    return out
