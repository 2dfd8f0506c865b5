"""GeoJSON for the command-post map: display properties escaped once, geometry in the basemap datum.

folium's GeoJsonPopup / GeoJsonTooltip put property values (and their labels) into the page with
``innerHTML``, and folium.Popup puts its text inside a JavaScript template literal where ``${…}``
is evaluated. So every text that reaches the map goes through ``safe_text`` here, and the
features embedded in the page carry *only* escaped text: whatever a county's own layer files
contain, it cannot become markup or script on the command-post screen.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from floodpost.geo.gcj02 import geometry_from_wgs84
from floodpost.i18n import Translator

# ~1 m at this latitude: plenty for a county map, and it keeps the page small.
COORD_DECIMALS = 5


def safe_text(value: Any) -> str:
    """HTML-escaped text with ``$`` and backticks neutralised (inert in innerHTML and `${}`)."""
    if value is None:
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("$", "&#36;").replace("`", "&#96;")


def display_geometries(geoms: Iterable[Any], datum: str) -> list[dict[str, Any]]:
    """WGS-84 shapely geometries → GeoJSON geometry dicts in ``datum`` (rounded)."""
    arr = np.asarray(list(geoms), dtype=object)
    if arr.size == 0:
        return []
    if datum != "wgs84":
        arr = geometry_from_wgs84(arr, datum)
    arr = shapely.transform(arr, lambda coords: np.round(coords, COORD_DECIMALS))
    return [mapping(g) for g in arr]


def feature_collection(
    gdf: Any,
    key: str,
    properties: Callable[[dict[str, Any]], dict[str, Any]],
    datum: str,
    records: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One GeoJSON FeatureCollection; ``properties(row)`` must return escaped values only.

    ``records`` are the layer's plain-Python rows in the GeoDataFrame's order (the catalogue
    keeps them: a GeoDataFrame turns an int column with a gap into floats).
    """
    rows = (
        records if records is not None else gdf.drop(columns=gdf.geometry.name).to_dict("records")
    )
    geometries = display_geometries(gdf.geometry.values, datum)
    features = []
    for row, geometry in zip(rows, geometries, strict=True):
        features.append(
            {
                "type": "Feature",
                "id": safe_text(row[key]),
                "geometry": geometry,
                "properties": {"key": safe_text(row[key]), **properties(row)},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _name(row: dict[str, Any], t: Translator) -> str:
    if t.lang == "en" and row.get("name_en"):
        return safe_text(row["name_en"])
    return safe_text(row.get("name"))


def _yes_no(value: Any, t: Translator) -> str:
    return safe_text(t.gettext("map.yes") if value else t.gettext("map.no"))


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return safe_text(f"{value:,}" if isinstance(value, int) else value)


def _codes(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [c.strip() for c in value.split(",") if c.strip()]
    return [str(c) for c in value]


class PropertyBuilder:
    """Escaped popup/tooltip properties per layer, in one language."""

    def __init__(
        self, t: Translator, township_names: dict[str, str], village_names: dict[str, str]
    ):
        self.t = t
        self.township_names = township_names
        self.village_names = village_names

    def label(self, key: str) -> str:
        return safe_text(self.t.gettext(key))

    def _township(self, row: dict[str, Any]) -> str:
        return safe_text(self.township_names.get(str(row.get("township_code")), ""))

    def _demo(self, row: dict[str, Any]) -> str:
        return _yes_no(bool(row.get("demo")), self.t)

    def township(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": _name(row, self.t),
            "code": safe_text(row.get("code")),
            "pinyin": safe_text(row.get("pinyin") or ""),
            "approximate": _yes_no(bool(row.get("approximate")), self.t),
        }

    def village(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": _name(row, self.t),
            "code": safe_text(row.get("code")),
            "township": self._township(row),
            "township_code": safe_text(row.get("township_code")),
            "population": _number(row.get("population")),
            "households": _number(row.get("households")),
            "low_lying": _yes_no(row.get("low_lying"), self.t),
            "near_river": _yes_no(row.get("near_river"), self.t),
            "demo": self._demo(row),
        }

    def reservoir(self, row: dict[str, Any]) -> dict[str, Any]:
        downstream = [self.village_names.get(c, c) for c in _codes(row.get("downstream_villages"))]
        return {
            "name": _name(row, self.t),
            "scale": safe_text(self.t.gettext(f"map.scale.{row.get('scale')}")),
            "capacity": _number(row.get("capacity_10k_m3")),
            "dam_type": safe_text(row.get("dam_type") or ""),
            "township": self._township(row),
            "downstream": safe_text("、".join(downstream) if downstream else "—"),
            "demo": self._demo(row),
        }

    def shelter(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": _name(row, self.t),
            "kind": safe_text(self.t.gettext(f"map.shelter_kind.{row.get('kind')}")),
            "capacity": _number(row.get("capacity")),
            "township": self._township(row),
            "demo": self._demo(row),
        }

    def zone(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": _name(row, self.t),
            "owner": safe_text(row.get("owner")),
            "contact": safe_text(row.get("contact") or ""),
            "township": self._township(row),
            "villages": _number(len(_codes(row.get("village_codes")))),
            "demo": self._demo(row),
        }


# Popup rows per layer: (property, translation key of its label).
POPUP_FIELDS: dict[str, list[tuple[str, str]]] = {
    "townships": [
        ("name", "map.field.name"),
        ("code", "map.field.code"),
        ("pinyin", "map.field.pinyin"),
        ("approximate", "map.field.approximate"),
    ],
    "villages": [
        ("name", "map.field.name"),
        ("code", "map.field.code"),
        ("township", "map.field.township"),
        ("population", "map.field.population"),
        ("households", "map.field.households"),
        ("low_lying", "map.field.low_lying"),
        ("near_river", "map.field.near_river"),
        ("demo", "map.field.demo"),
    ],
    "reservoirs": [
        ("name", "map.field.name"),
        ("scale", "map.field.scale"),
        ("capacity", "map.field.capacity_10k_m3"),
        ("dam_type", "map.field.dam_type"),
        ("township", "map.field.township"),
        ("downstream", "map.field.downstream"),
        ("demo", "map.field.demo"),
    ],
    "shelters": [
        ("name", "map.field.name"),
        ("kind", "map.field.kind"),
        ("capacity", "map.field.capacity_people"),
        ("township", "map.field.township"),
        ("demo", "map.field.demo"),
    ],
    "zones": [
        ("name", "map.field.name"),
        ("owner", "map.field.owner"),
        ("contact", "map.field.contact"),
        ("township", "map.field.township"),
        ("villages", "map.field.village_count"),
        ("demo", "map.field.demo"),
    ],
}
