"""folium maps whose every script, stylesheet and font comes from floodpost's own /static/vendor.

folium 0.20 links Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers and its plugins from
CDNs through the class attributes ``default_js`` / ``default_css``. ``add_js_link`` appends to
those *shared class lists*, so it would change every map in the process; instead we give each
map (and each plugin element) instance its own lists pointing at the vendored files. folium's
JSCSSMixin.render reads ``self.default_js``, so the instance attribute wins.
"""

from __future__ import annotations

from collections.abc import Iterable

import folium
from branca.element import Element

from floodpost.errors import ConfigError

VENDOR_PREFIX = "/static/vendor"

# Vendored files (see web/static/vendor/README.md and scripts/vendor_assets.sh).
VENDOR_URLS: dict[str, str] = {
    "leaflet_js": f"{VENDOR_PREFIX}/leaflet-1.9.4/leaflet.js",
    "leaflet_css": f"{VENDOR_PREFIX}/leaflet-1.9.4/leaflet.css",
    "jquery_js": f"{VENDOR_PREFIX}/jquery-3.7.1/jquery.min.js",
    "bootstrap_js": f"{VENDOR_PREFIX}/bootstrap-5.3.8/js/bootstrap.bundle.min.js",
    "bootstrap_css": f"{VENDOR_PREFIX}/bootstrap-5.3.8/css/bootstrap.min.css",
    "glyphicons_css": (
        f"{VENDOR_PREFIX}/bootstrap3-glyphicons-1.0.7/css/bootstrap3-glyphicons.min.css"
    ),
    "fontawesome_css": f"{VENDOR_PREFIX}/fontawesome-free-6.7.2/css/all.min.css",
    "awesome_markers_js": (
        f"{VENDOR_PREFIX}/leaflet.awesome-markers-2.0.5/leaflet.awesome-markers.js"
    ),
    "awesome_markers_css": (
        f"{VENDOR_PREFIX}/leaflet.awesome-markers-2.0.5/leaflet.awesome-markers.css"
    ),
    "awesome_rotate_css": f"{VENDOR_PREFIX}/leaflet.awesome.rotate-1.0/leaflet.awesome.rotate.css",
    "markercluster_js": f"{VENDOR_PREFIX}/leaflet.markercluster-1.5.3/leaflet.markercluster.js",
    "markercluster_css": f"{VENDOR_PREFIX}/leaflet.markercluster-1.5.3/MarkerCluster.css",
    "markercluster_default_css": (
        f"{VENDOR_PREFIX}/leaflet.markercluster-1.5.3/MarkerCluster.Default.css"
    ),
    "chartjs_js": f"{VENDOR_PREFIX}/chart.js-4.5.1/chart.umd.min.js",
}

# folium's asset names (the first item of each default_js/default_css pair) → vendored URL.
FOLIUM_ASSETS: dict[str, str] = {
    # folium.Map
    "leaflet": VENDOR_URLS["leaflet_js"],
    "jquery": VENDOR_URLS["jquery_js"],
    "bootstrap": VENDOR_URLS["bootstrap_js"],
    "awesome_markers": VENDOR_URLS["awesome_markers_js"],
    "leaflet_css": VENDOR_URLS["leaflet_css"],
    "bootstrap_css": VENDOR_URLS["bootstrap_css"],
    "glyphicons_css": VENDOR_URLS["glyphicons_css"],
    "awesome_markers_font_css": VENDOR_URLS["fontawesome_css"],
    "awesome_markers_css": VENDOR_URLS["awesome_markers_css"],
    "awesome_rotate_css": VENDOR_URLS["awesome_rotate_css"],
    # folium.plugins.MarkerCluster
    "markerclusterjs": VENDOR_URLS["markercluster_js"],
    "markerclustercss": VENDOR_URLS["markercluster_css"],
    "markerclusterdefaultcss": VENDOR_URLS["markercluster_default_css"],
}


def offline_links(pairs: Iterable[tuple[str, str]], owner: str) -> list[tuple[str, str]]:
    """folium (name, CDN url) pairs → (name, vendored url); an unknown asset is an error.

    Failing loudly here is the point: a plugin added later whose assets are not vendored would
    otherwise quietly reach for a CDN and break the map on an offline laptop.
    """
    out = []
    for name, _cdn_url in pairs:
        if name not in FOLIUM_ASSETS:
            raise ConfigError(f"{owner} needs asset {name!r}, which floodpost does not vendor")
        out.append((name, FOLIUM_ASSETS[name]))
    return out


def make_offline(element: Element) -> Element:
    """Point one folium element's own JS/CSS lists at vendored files (this instance only)."""
    owner = type(element).__name__
    if "default_js" in dir(element):
        element.default_js = offline_links(type(element).default_js, owner)  # type: ignore[attr-defined]
        element.default_css = offline_links(type(element).default_css, owner)  # type: ignore[attr-defined]
    return element


def offline_map(**kwargs) -> folium.Map:
    """A folium.Map that loads nothing from outside floodpost (arguments as folium.Map)."""
    return make_offline(folium.Map(**kwargs))  # type: ignore[return-value]


def make_tree_offline(root: Element) -> None:
    """make_offline() on ``root`` and every descendant (plugins added anywhere in the map)."""
    stack = [root]
    while stack:
        element = stack.pop()
        make_offline(element)
        stack.extend(element._children.values())
