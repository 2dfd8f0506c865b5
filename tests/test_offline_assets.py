"""Every script, stylesheet and font of the map is served by floodpost (web/static/vendor)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import folium
import folium.plugins
import pytest
from folium.elements import JSCSSMixin

from floodpost.errors import ConfigError
from floodpost.i18n import Translator
from floodpost.mapview.assets import FOLIUM_ASSETS, VENDOR_URLS, make_offline, offline_map
from floodpost.mapview.command_post import build_command_post_map
from floodpost.paths import web_dir
from floodpost.settings import Settings

STATIC = web_dir() / "static"
VENDOR = STATIC / "vendor"
OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def _all_jscss_classes() -> list[type]:
    seen: list[type] = []
    stack = [JSCSSMixin]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return seen


def _snapshot() -> dict[type, tuple]:
    return {
        cls: (list(cls.__dict__.get("default_js", [])), list(cls.__dict__.get("default_css", [])))
        for cls in _all_jscss_classes()
    }


def _local_file(url: str) -> Path:
    assert url.startswith("/static/"), url
    return STATIC / url.removeprefix("/static/")


def test_every_vendored_url_exists():
    for name, url in {**VENDOR_URLS, **FOLIUM_ASSETS}.items():
        assert _local_file(url).is_file(), (name, url)


def test_every_vendor_folder_has_a_licence_and_is_listed():
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    folders = [p for p in VENDOR.iterdir() if p.is_dir()]
    assert len(folders) >= 9
    for folder in folders:
        assert re.fullmatch(r".+-\d+(\.\d+)+", folder.name), folder.name
        licences = [
            p for p in folder.iterdir() if re.match(r"(LICEN[CS]E|MIT-LICEN|README)", p.name)
        ]
        assert licences, f"{folder.name} has no licence file"
        assert f"`{folder.name}/`" in readme


def test_urls_inside_vendored_css_resolve_locally():
    for css in VENDOR.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", text):
            if ref.startswith(("data:", "#")):  # inline data; IE behaviour refs
                continue
            assert not re.match(r"(https?:)?//", ref), (css, ref)
            target = (css.parent / ref.split("?")[0].split("#")[0]).resolve()
            assert target.is_file(), (css, ref)


def test_offline_map_leaves_folium_class_lists_alone(catalogue):
    before = _snapshot()
    offline_map(location=[26.6, 110.1])
    cluster = make_offline(folium.plugins.MarkerCluster())
    build_command_post_map(catalogue, Settings(tile_url=OSM), Translator("zh_CN"))
    assert _snapshot() == before
    assert folium.Map.default_js[0][1].startswith("https://")  # still folium's own default
    assert all(url.startswith("/static/vendor/") for _, url in cluster.default_js)


def test_unvendored_plugin_is_refused():
    with pytest.raises(ConfigError, match="does not vendor"):
        make_offline(folium.plugins.Draw())


def _src_and_href(html: str) -> list[str]:
    return re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)=[\"']([^\"']+)", html)


@pytest.mark.parametrize("tile_url", [OSM, ""])
def test_rendered_map_loads_nothing_from_outside(catalogue, tile_url):
    m = build_command_post_map(catalogue, Settings(tile_url=tile_url), Translator("zh_CN"))
    cluster = folium.plugins.MarkerCluster().add_to(m)
    make_offline(cluster)
    html = m.get_root().render()
    links = _src_and_href(html)
    assert len(links) >= 13  # folium's 10 defaults + markercluster's 3
    for url in links:
        assert url.startswith("/static/vendor/"), url
        assert _local_file(url).is_file(), url
    outside = set(re.findall(r"https?://[^\s\"'<>)]+", html))
    assert outside <= ({tile_url} if tile_url else set()), outside


def test_map_has_every_layer_control_scale_and_popups(catalogue):
    m = build_command_post_map(catalogue, Settings(tile_url=""), Translator("en"))
    html = m.get_root().render()
    assert "L.control.layers" in html
    assert "L.control.scale" in html
    assert "bindPopup" in html
    assert "L.tileLayer" not in html  # no basemap configured: county and townships are the base
    assert set(m.floodpost_layers) == {
        "county",
        "townships",
        "villages",
        "reservoirs",
        "shelters",
        "zones",
    }


def test_gcj02_basemap_shifts_overlays(catalogue):
    from floodpost.mapview.command_post import _collections

    wgs = _collections(catalogue, Translator("zh_CN"), "wgs84")
    gcj = _collections(catalogue, Translator("zh_CN"), "gcj02")
    a = wgs["reservoirs"]["features"][0]["geometry"]["coordinates"]
    b = gcj["reservoirs"]["features"][0]["geometry"]["coordinates"]
    # GCJ-02 is a few hundred metres east/north of WGS-84 in Hunan.
    assert 0.001 < b[0] - a[0] < 0.01 and 0.001 < abs(b[1] - a[1]) < 0.01


def test_vendor_script_pins_every_package():
    script = (web_dir().parent / "scripts" / "vendor_assets.sh").read_text(encoding="utf-8")
    pinned = re.findall(r'"(@?[\w./-]+@\d[\w.]*) (sha512-[A-Za-z0-9+/=]+)"', script)
    assert {name.rsplit("@", 1)[0] for name, _ in pinned} >= {
        "leaflet",
        "jquery",
        "bootstrap",
        "@fortawesome/fontawesome-free",
        "leaflet.awesome-markers",
        "@neos21/bootstrap3-glyphicons",
        "leaflet.markercluster",
        "chart.js",
    }
    if shutil.which("bash"):
        subprocess.run(
            ["bash", "-n", str(web_dir().parent / "scripts" / "vendor_assets.sh")], check=True
        )


def test_no_route_serves_a_page_that_loads_from_a_cdn(client):
    # FastAPI's interactive docs pull swagger-ui from jsdelivr: they must not be served.
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200
