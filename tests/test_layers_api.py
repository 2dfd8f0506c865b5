"""GET /api/layers and /api/layers/{id}: the catalogue as GeoJSON in EPSG:4326, for signed-in users."""

from __future__ import annotations

import pytest


@pytest.fixture
def headers(bearer):
    return bearer("viewer")


def test_layer_list_names_every_layer_with_counts(client, headers):
    body = client.get("/api/layers", headers=headers).json()
    ids = [layer["id"] for layer in body["layers"]]
    assert ids[:6] == ["county", "townships", "villages", "reservoirs", "shelters", "zones"]
    counts = {layer["id"]: layer["count"] for layer in body["layers"]}
    assert counts["county"] == 1 and counts["townships"] == 17 and counts["villages"] > 300


def test_layer_titles_follow_the_language(client, headers):
    zh = client.get("/api/layers", headers=headers).json()["layers"]
    en = client.get("/api/layers?lang=en", headers=headers).json()["layers"]
    assert zh[1]["title"] != en[1]["title"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh[1]["title"])


def test_townships_geojson_carries_codes(client, headers):
    r = client.get("/api/layers/townships", headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 17
    props = fc["features"][0]["properties"]
    assert len(props["code"]) == 9 and props["name"]
    lon, lat = fc["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 109 < lon < 111 and 26 < lat < 27.5  # longitude first, WGS-84


def test_villages_carry_twelve_digit_codes_under_their_township(client, headers):
    fc = client.get("/api/layers/villages", headers=headers).json()
    for f in fc["features"]:
        p = f["properties"]
        assert len(p["code"]) == 12 and p["code"].startswith(p["township_code"])


def test_unknown_layer_is_404_json(client, headers):
    r = client.get("/api/layers/rivers", headers=headers)
    assert r.status_code == 404 and r.json()["field"] == "layer_id"


def test_layers_need_sign_in(client):
    assert client.get("/api/layers").status_code == 401
    assert client.get("/api/layers/zones").status_code == 401
