"""The command-post map: the county's static layers as a folium map that works offline.

``build_command_post_map`` makes the folium.Map; ``render_command_post`` splits it into the parts
our page template embeds (header links and styles, the map div, the script) plus a JSON config
for ``web/static/js/map.js``. Geodata is static, so the page router renders this once per
language and caches it.

Layers are one folium GeoJson each (never a folium marker per feature), with popups and tooltips
built from escaped properties only (see features.py). Overlays are drawn in the basemap's datum:
with GCJ-02 tiles (Amap, Tencent) every geometry is shifted WGS-84 → GCJ-02 here, and the page
config tells the live JavaScript layers to do the same (web/static/js/gcj02.js).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import folium
from branca.element import Figure, MacroElement

from floodpost.errors import ConfigError
from floodpost.geo.gcj02 import check_datum
from floodpost.i18n import Translator
from floodpost.mapview.assets import make_tree_offline, offline_map
from floodpost.mapview.features import (
    POPUP_FIELDS,
    PropertyBuilder,
    feature_collection,
    safe_text,
)

# Overlays in drawing order (later ones on top) and whether each shows at first.
LAYER_ORDER: tuple[tuple[str, bool], ...] = (
    ("townships", True),
    ("villages", True),
    ("zones", False),
    ("county", True),
    ("reservoirs", True),
    ("shelters", True),
)

# Soft fills so neighbouring townships read apart when there is no basemap.
TOWNSHIP_FILLS = ("#dfe9d3", "#efe3c8", "#d5e4ee", "#e9dbe8", "#e8e8d2")
NO_BASEMAP_BACKGROUND = "#cfd8e3"

STYLE = {
    "county": {"color": "#b3261e", "weight": 4, "fill": False, "interactive": False},
    "township_line": {"color": "#3d4f73", "weight": 2, "dashArray": "8 6"},
    "village_line": {"color": "#6f7d92", "weight": 0.8},
    "zone": {"color": "#7b3fa0", "weight": 2, "dashArray": "2 6", "fillOpacity": 0.0},
}
VILLAGE_FILL = {"low_lying": "#f6b26b", "near_river": "#7fb3e0", "other": "#ffffff"}
RESERVOIR_COLOUR = {"大(1)型": "darkblue", "大(2)型": "darkblue", "中型": "darkblue"}
SHELTER_ICON = {"school": "school", "township_compound": "building-flag", "village_hall": "house"}


class MetricScale(MacroElement):
    """Leaflet's scale bar in metres only (folium's control_scale adds miles too)."""

    _template = folium.template.Template(
        """{% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 240}).addTo({{ this._parent.get_name() }});
        {% endmacro %}"""
    )


@dataclass(frozen=True)
class MapPage:
    """What the page template embeds: folium's <head> part, the map div and its script."""

    header: str
    html: str
    script: str
    config: dict[str, Any] = field(default_factory=dict)


def _village_fill(props: dict[str, Any]) -> str:
    if props.get("low_lying_raw"):
        return VILLAGE_FILL["low_lying"]
    if props.get("near_river_raw"):
        return VILLAGE_FILL["near_river"]
    return VILLAGE_FILL["other"]


def _popup(layer_id: str, t: Translator) -> folium.GeoJsonPopup:
    fields = POPUP_FIELDS[layer_id]
    return folium.GeoJsonPopup(
        fields=[f for f, _ in fields],
        aliases=[safe_text(t.gettext(k)) for _, k in fields],
        labels=True,
        class_name="fp-popup",
    )


def _tooltip(fields: list[str], class_name: str = "fp-tooltip", **kwargs: Any):
    return folium.GeoJsonTooltip(fields=fields, labels=False, class_name=class_name, **kwargs)


def _collections(catalogue: Any, t: Translator, datum: str) -> dict[str, dict[str, Any]]:
    records = {lid: list(catalogue.records(lid).values()) for lid in catalogue.layer_ids}
    township_names = {
        r["code"]: (r.get("name_en") if t.lang == "en" and r.get("name_en") else r["name"])
        for r in records["townships"]
    }
    village_names = {
        r["code"]: (r.get("name_en") if t.lang == "en" and r.get("name_en") else r["name"])
        for r in records["villages"]
    }
    props = PropertyBuilder(t, township_names, village_names)
    builders = {
        "county": lambda r: {"name": safe_text(r.get("name"))},
        "townships": props.township,
        "villages": lambda r: {
            **props.village(r),
            # Booleans for styling only; they are not shown as text.
            "low_lying_raw": bool(r.get("low_lying")),
            "near_river_raw": bool(r.get("near_river")),
        },
        "reservoirs": lambda r: {**props.reservoir(r), "large": r.get("scale") in RESERVOIR_COLOUR},
        "shelters": lambda r: {**props.shelter(r), "kind_raw": safe_text(r.get("kind"))},
        "zones": props.zone,
    }
    out = {}
    for lid, build in builders.items():
        gdf = catalogue.gdf(lid)
        keys = list(catalogue.records(lid))
        if gdf.empty:
            continue
        key_field = "code" if "code" in gdf.columns else "id"
        if list(gdf[key_field].astype(str)) != [str(k) for k in keys]:
            raise ConfigError(f"layer {lid}: records and geometries are out of step")
        out[lid] = feature_collection(gdf, key_field, build, datum, records=records[lid])
    return out


def build_command_post_map(catalogue: Any, settings: Any, translator: Translator) -> folium.Map:
    """The county's layers with layer control, scale bar, popups; no asset from outside."""
    t = translator
    datum = check_datum(getattr(settings, "tile_crs", "wgs84") or "wgs84")
    collections = _collections(catalogue, t, datum)
    has_basemap = bool(settings.tile_url)

    west, south, east, north = catalogue.bounds
    m = offline_map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=10,
        tiles=None,
        control_scale=False,
        zoom_control="bottomright",
        font_size="1rem",
        # Fractional zoom lets the county fill a wall screen instead of half of it.
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    MetricScale().add_to(m)
    m.floodpost_layers = {}  # type: ignore[attr-defined]
    if has_basemap:
        folium.TileLayer(
            tiles=settings.tile_url,
            attr=safe_text(settings.tile_attribution),
            name=safe_text(t.gettext("map.basemap")),
            overlay=False,
            control=False,
            max_zoom=18,
        ).add_to(m)

    def add(layer_id: str, layer: folium.GeoJson) -> None:
        layer.add_to(m)
        m.floodpost_layers[layer_id] = layer.get_name()  # type: ignore[attr-defined]

    def title(layer_id: str) -> str:
        return safe_text(t.gettext(f"layer.{layer_id}"))

    for layer_id, show in LAYER_ORDER:
        data = collections.get(layer_id)
        if data is None:
            continue
        name = (
            safe_text(t.gettext("map.layer.townships_approximate"))
            if layer_id == "townships"
            else title(layer_id)
        )
        options = _layer_options(layer_id, data, t, has_basemap)
        add(layer_id, folium.GeoJson(data, name=name, show=show, **options))
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    m.fit_bounds([[south, west], [north, east]], padding=(10, 10))
    make_tree_offline(m)
    return m


def _layer_options(
    layer_id: str, data: dict[str, Any], t: Translator, has_basemap: bool
) -> dict[str, Any]:
    """Style, markers, tooltip and popup of one layer (every text in them escaped)."""
    if layer_id == "townships":
        fills = {
            f["id"]: TOWNSHIP_FILLS[i % len(TOWNSHIP_FILLS)] for i, f in enumerate(data["features"])
        }
        return {
            "style_function": lambda f: {
                **STYLE["township_line"],
                "fillColor": fills[f["id"]],
                "fillOpacity": 0.15 if has_basemap else 1.0,
            },
            # Name labels are per-feature permanent tooltips, added by map.js: folium binds one
            # tooltip to the whole group, which shows one label only.
            "popup": _popup(layer_id, t),
        }
    if layer_id == "villages":
        return {
            "style_function": lambda f: {
                **STYLE["village_line"],
                "fillColor": _village_fill(f["properties"]),
                # Unflagged villages let the township colour show through.
                "fillOpacity": 0.0 if _village_fill(f["properties"]) == "#ffffff" else 0.65,
            },
            "highlight_function": lambda f: {"weight": 3, "color": "#1f3b73"},
            "tooltip": _tooltip(["name"]),
            "popup": _popup(layer_id, t),
        }
    if layer_id == "zones":
        return {
            "style_function": lambda f: dict(STYLE["zone"]),
            "tooltip": _tooltip(["name", "owner"]),
            "popup": _popup(layer_id, t),
        }
    if layer_id == "county":
        return {"style_function": lambda f: dict(STYLE["county"])}
    if layer_id == "reservoirs":
        return {
            "marker": folium.Marker(icon=folium.Icon(color="blue", icon="water", prefix="fa")),
            "style_function": lambda f: {
                "markerColor": "darkblue" if f["properties"]["large"] else "blue"
            },
            "tooltip": _tooltip(["name", "scale"]),
            "popup": _popup(layer_id, t),
        }
    if layer_id == "shelters":
        return {
            "marker": folium.Marker(icon=folium.Icon(color="green", icon="house", prefix="fa")),
            "style_function": lambda f: {
                "icon": SHELTER_ICON.get(f["properties"]["kind_raw"], "house")
            },
            "tooltip": _tooltip(["name", "capacity"]),
            "popup": _popup(layer_id, t),
        }
    raise ValueError(f"no map style for layer {layer_id!r}")


def render_command_post(catalogue: Any, settings: Any, translator: Translator) -> MapPage:
    """Build and render the map once; returns the parts our page template embeds."""
    m = build_command_post_map(catalogue, settings, translator)
    # get_root() is typed as any Element; a folium Map's root is always its Figure.
    figure = cast(Figure, m.get_root())
    figure.render()  # populates the figure's header/html/script from every element
    datum = check_datum(getattr(settings, "tile_crs", "wgs84") or "wgs84")
    demo_layers = [lid for lid in catalogue.layer_ids if catalogue.is_demo(lid)]
    config = {
        "map": m.get_name(),
        "layers": dict(m.floodpost_layers),  # type: ignore[attr-defined]
        "datum": datum,
        "basemap": bool(settings.tile_url),
        "background": None if settings.tile_url else NO_BASEMAP_BACKGROUND,
        "lang": translator.lang,
        "demo_layers": demo_layers,
        "texts": translator.subset("map.js."),
    }
    return MapPage(
        header=figure.header.render(),
        html=figure.html.render(),
        script=figure.script.render(),
        config=config,
    )
