"""The command-post page `/` in real headless Chromium with every request off 127.0.0.1 blocked."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from pathlib import Path

import pytest

from floodpost.geo.gcj02 import wgs84_to_gcj02
from floodpost.paths import default_geodata
from tests.live_support import add_server_user, bearer_for, sign_in

pytestmark = pytest.mark.browser
# Fixtures: server_factory, live_server, browser, offline_page (see tests/browser_support.py).
pytest_plugins = ["tests.browser_support"]

SCREENSHOT = Path("/tmp/floodpost_map_1920x1080.png")
ASSET_TYPES = {"script", "stylesheet", "font"}


def open_map(page, server, path: str = "/") -> None:
    """Sign in through the /login form as a staff member, then open `path`."""
    name = f"staff{abs(hash(server.url)) % 10**6}"
    if not getattr(server, "_has_staff", False):
        add_server_user(server, name, "staff")
        server._has_staff = True
    sign_in(page, server, name)
    if path != "/":
        page.goto(server.url + path)


def layer_counts(server) -> dict[str, int]:
    name = f"viewer{abs(hash(server.url)) % 10**6}"
    add_server_user(server, name, "viewer")
    req = urllib.request.Request(server.url + "/api/layers", headers=bearer_for(server, name))
    with urllib.request.urlopen(req, timeout=10) as resp:
        return {row["id"]: row["count"] for row in json.load(resp)["layers"]}


def drawn(page) -> dict:
    return page.evaluate(
        """() => ({
            counts: window.floodpost.commandPost.counts,
            onMap: Object.fromEntries(Object.entries(window.floodpost.commandPost.layers)
                .map(([id, layer]) => [id, window.floodpost.commandPost.map.hasLayer(layer)])),
            svgPaths: document.querySelectorAll('.leaflet-overlay-pane svg path').length,
            markers: document.querySelectorAll('.leaflet-marker-pane .awesome-marker').length,
            tiles: document.querySelectorAll('.leaflet-tile').length,
        })"""
    )


def test_map_draws_its_layers_offline(live_server, offline_page):
    expected = layer_counts(live_server)
    open_map(offline_page, live_server, "/")
    offline_page.wait_ready()
    state = drawn(offline_page)

    assert state["counts"]["county"] >= 1
    assert state["counts"]["townships"] == expected["townships"] == 17
    assert state["counts"]["villages"] == expected["villages"] > 0
    assert state["counts"]["reservoirs"] == expected["reservoirs"]
    assert state["counts"]["shelters"] == expected["shelters"]
    assert all(state["onMap"][lid] for lid in ("county", "townships", "villages"))
    # Zones start hidden; everything else shown draws one SVG path per polygon part at least.
    min_paths = state["counts"]["county"] + expected["townships"] + expected["villages"]
    assert state["svgPaths"] >= min_paths
    assert state["markers"] == expected["reservoirs"] + expected["shelters"]
    assert state["tiles"] == 0  # no basemap configured

    assert offline_page.page_errors == []
    assert offline_page.console_errors == []
    assert offline_page.blocked == []
    hosts = {re.sub(r"^https?://([^/]+)/.*$", r"\1", url) for url, _ in offline_page.requests}
    assert hosts <= {live_server.url.removeprefix("http://")}
    # The demo badge and the layer control are on screen.
    assert offline_page.locator("#demo-badge").is_visible()
    # (Live features may add their own layer control; ours is the one listing the county.)
    assert offline_page.locator(".leaflet-control-layers", has_text="县界").is_visible()
    offline_page.screenshot(path=str(SCREENSHOT))


def test_with_default_osm_tiles_only_tile_images_leave_the_machine(server_factory, offline_page):
    server = server_factory()  # the default basemap: OpenStreetMap tiles
    open_map(offline_page, server, "/")
    offline_page.wait_ready()
    assert offline_page.page_errors == []
    assert offline_page.blocked, "the map should at least try to fetch its basemap tiles"
    for url, kind in offline_page.blocked:
        assert kind == "image", (url, kind)
        assert re.fullmatch(r"https://tile\.openstreetmap\.org/\d+/\d+/\d+\.png", url), url
    local_assets = [u for u, kind in offline_page.requests if kind in ASSET_TYPES]
    assert local_assets and all(u.startswith(server.url + "/static/") for u in local_assets)


def test_english_page(live_server, offline_page):
    open_map(offline_page, live_server, "/?lang=en")
    offline_page.wait_ready()
    assert offline_page.locator("html").get_attribute("lang") == "en"
    assert offline_page.locator(".fp-nav").inner_text().split()[0:2] == ["Command", "map"]
    control = offline_page.locator(".leaflet-control-layers", has_text="County boundary")
    assert "Villages" in control.inner_text()
    # The choice is remembered in a cookie: the next page without ?lang= is English too.
    open_map(offline_page, live_server, "/")
    offline_page.wait_ready()
    assert offline_page.locator("html").get_attribute("lang") == "en"
    assert offline_page.page_errors == [] and offline_page.blocked == []


def test_gcj02_port_matches_python(live_server, offline_page):
    open_map(offline_page, live_server, "/")
    offline_page.wait_ready()
    points = [(110.155, 26.581), (109.9, 26.4), (116.391, 39.907), (2.35, 48.85)]
    got = offline_page.evaluate(
        "pts => pts.map(([lon, lat]) => window.floodpost.gcj02.wgs84ToGcj02(lon, lat))", points
    )
    for (lon, lat), (jlon, jlat) in zip(points, got, strict=True):
        plon, plat = wgs84_to_gcj02(lon, lat)
        assert abs(jlon - float(plon)) < 1e-9 and abs(jlat - float(plat)) < 1e-9


HOSTILE = '<img src=x onerror="window.__pwned=1">${window.__pwned=2}`x`'


def test_hostile_names_in_geodata_stay_text(server_factory, offline_page, tmp_path):
    """A county's own files could carry markup; popups and tooltips must show it as text."""
    geodata = tmp_path / "geodata"
    shutil.copytree(default_geodata(), geodata)
    path = geodata / "villages.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    target = data["features"][0]["properties"]
    target["name"] = HOSTILE
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    zones = geodata / "zones.geojson"
    zdata = json.loads(zones.read_text(encoding="utf-8"))
    zdata["features"][0]["properties"]["owner"] = HOSTILE
    zones.write_text(json.dumps(zdata, ensure_ascii=False), encoding="utf-8")

    server = server_factory("--geodata", str(geodata), FLOODPOST_TILE_URL="")
    open_map(offline_page, server, "/")
    offline_page.wait_ready()
    texts = offline_page.evaluate(
        """code => {
            // folium binds tooltips and popups on the whole GeoJson group; firing the events a
            // pointer would fire on one feature (propagated to the group) opens them for it.
            const out = [];
            const F = window.floodpost.commandPost;
            const show = (group, layer) => {
                const latlng = layer.getCenter ? layer.getCenter() : layer.getLatLng();
                layer.fire("mouseover", {latlng: latlng}, true);
                if (group.getTooltip()) out.push(group.getTooltip().getElement().textContent);
                layer.fire("click", {latlng: latlng}, true);
                out.push(group.getPopup().getElement().textContent);
            };
            F.layers.villages.eachLayer(l => {
                if (l.feature.properties.code === code) show(F.layers.villages, l);
            });
            F.map.addLayer(F.layers.zones);
            let first = null;
            F.layers.zones.eachLayer(l => { if (!first) first = l; });
            show(F.layers.zones, first);
            return out;
        }""",
        target["code"],
    )
    assert len(texts) == 4
    for text in texts:
        assert HOSTILE in text
    assert offline_page.evaluate("() => window.__pwned") is None
    assert offline_page.locator(".leaflet-popup-pane img").count() == 0
    assert offline_page.page_errors == []
