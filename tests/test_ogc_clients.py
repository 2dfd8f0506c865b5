"""/ogc read by the real clients QGIS users and scripts use: GDAL's OAPIF driver (through
pyogrio; QGIS uses the same driver) and OWSLib, against `floodpost serve` in a subprocess (GDAL
holds the GIL while it waits for HTTP, so the server cannot share this process)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from floodpost.storage import open_store
from tests.browser_support import LiveServer, start_server
from tests.live_support import PASSWORD, add_server_user, bearer_for

pyogrio = pytest.importorskip("pyogrio")
EVENTS = 2500


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    srv = start_server(tmp_path_factory.mktemp("ogc"), {"FLOODPOST_TILE_URL": ""})
    try:
        cmd = [sys.executable, "-m", "floodpost", "simulate", "--db", srv.db_url]
        subprocess.run(
            [*cmd, "--events", str(EVENTS)], check=True, capture_output=True, env=srv.env
        )
        add_server_user(srv, "gis", "viewer")
        add_server_user(srv, "boss", "commander")
        add_server_user(srv, "rain", "gauge")
        _warnings_and_orders(srv)
        yield srv
    finally:
        srv.stop()


def _warnings_and_orders(srv: LiveServer) -> None:
    """Heavy rain at three gauges (warnings) and two orders, through the HTTP API."""
    import uuid

    from floodpost.geo.catalogue import Catalogue
    from floodpost.paths import default_geodata

    villages = Catalogue.load(default_geodata()).records("villages")
    gauges = list(
        dict.fromkeys(v["rain_station"] for v in villages.values() if v.get("rain_station"))
    )
    readings = [
        {"station": g, "time": f"2017-06-24T0{h}:00:00+08:00", "rain_mm": 80.0, "interval_h": 1}
        for h, g in enumerate(gauges[:3], start=1)
    ]
    r = httpx.post(srv.url + "/api/readings", json={"readings": readings},
                   headers=bearer_for(srv, "rain"), timeout=30)  # fmt: skip
    assert r.status_code == 200, r.text
    codes = list(villages)
    boss = bearer_for(srv, "boss")
    for level, chosen in (("evacuate", codes[:3]), ("prepare", codes[10:11])):
        body = {"id": str(uuid.uuid4()), "level": level, "villages": chosen, "message": "转移"}
        r = httpx.post(srv.url + "/api/orders", json=body, headers=boss, timeout=30)
        assert r.status_code == 201, r.text


def _api(server: LiveServer, path: str, user: str = "boss") -> Any:
    return httpx.get(server.url + path, headers=bearer_for(server, user), timeout=30).json()


@pytest.fixture(scope="module")
def stored(server: LiveServer) -> list[dict[str, Any]]:
    store = open_store(server.db_url)
    try:
        reports, _ = store.list_reports(limit=100_000)
    finally:
        store.close()
    return reports


def _oapif(server: LiveServer) -> str:
    return "OAPIF:" + server.url + "/ogc"


def _gdal_auth(user: str = "gis") -> dict[str, str]:
    # The OAPIF open option USERPWD: sent on every request, links followed included (a
    # user:pass@ in the URL is dropped by GDAL once it follows the service's absolute links).
    return {"USERPWD": f"{user}:{PASSWORD}"}


def test_gdal_lists_every_collection(server: LiveServer) -> None:
    # The other way to give GDAL a password: configuration options, as for any HTTP driver.
    pyogrio.set_gdal_config_options(
        {"GDAL_HTTP_USERPWD": f"gis:{PASSWORD}", "GDAL_HTTP_AUTH": "BASIC"}
    )
    try:
        names = [row[0] for row in pyogrio.list_layers(_oapif(server))]
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_USERPWD": None, "GDAL_HTTP_AUTH": None})
    assert names == [
        "county", "townships", "villages", "reservoirs", "shelters", "zones", "stations",
        "reports", "warnings", "orders",
    ]  # fmt: skip


def test_gdal_reads_warnings_and_orders(server: LiveServer) -> None:
    warnings = _api(server, "/api/warnings")["warnings"]
    orders = _api(server, "/api/orders")["orders"]
    assert len(warnings) >= 3 and len(orders) == 2
    df = pyogrio.read_dataframe(_oapif(server), layer="warnings", PAGE_SIZE=2, **_gdal_auth())
    assert sorted(df["id"]) == sorted(w["id"] for w in warnings)
    assert set(df.geometry.geom_type) == {"Point"}
    assert "lifted_by" not in df.columns  # a viewer reads no account names
    by_code = {w["id"]: w for w in warnings}
    assert all(by_code[i]["code"] == c for i, c in zip(df["id"], df["code"], strict=True))
    od = pyogrio.read_dataframe(_oapif(server), layer="orders", **_gdal_auth("boss"))
    assert sorted(od["id"]) == sorted(o["id"] for o in orders)
    assert set(od.geometry.geom_type) == {"MultiPolygon"} and od.geometry.is_valid.all()
    assert set(od["level"]) == {"evacuate", "prepare"} and set(od["issued_by"]) == {"boss"}
    info = pyogrio.read_info(_oapif(server), layer="orders", **_gdal_auth())
    assert info["features"] == 2


def test_owslib_reads_warnings_and_orders(owslib_api: Any, server: LiveServer) -> None:
    ids = [c["id"] for c in owslib_api.collections()["collections"]]
    assert ids[-2:] == ["warnings", "orders"]
    page = owslib_api.collection_items("orders", level="prepare")
    assert page["numberMatched"] == 1
    order = page["features"][0]
    assert order["properties"]["level"] == "prepare" and "issued_by" not in order["properties"]
    one = owslib_api.collection_item("orders", order["id"])
    assert one["geometry"]["type"] == "MultiPolygon"
    warnings = owslib_api.collection_items("warnings", datetime_="2017-06-24T00:00:00+08:00/..")
    assert warnings["numberMatched"] == len(_api(server, "/api/warnings")["warnings"])


def test_gdal_reads_all_reports_through_next_links(server: LiveServer, stored: list) -> None:
    # PAGE_SIZE below the report count: GDAL must follow `next` links to the end.
    df = pyogrio.read_dataframe(_oapif(server), layer="reports", PAGE_SIZE=700, **_gdal_auth())
    assert str(df.crs) == "EPSG:4326"
    assert len(df) == len(stored)
    assert df["id"].is_unique
    assert set(df["id"]) == {r["id"] for r in stored}
    by_id = {r["id"]: r for r in stored}
    for rid, geom in zip(df["id"].head(200), df.geometry.head(200), strict=True):
        assert abs(geom.x - by_id[rid]["lon"]) < 1e-7  # CRS84: x is longitude
        assert abs(geom.y - by_id[rid]["lat"]) < 1e-7
    # A viewer reads no phone numbers (the column may exist: other kinds carry a null contact).
    assert "contact" not in df.columns or df["contact"].isna().all()
    boss = pyogrio.read_dataframe(_oapif(server), layer="reports", **_gdal_auth("boss"))
    assert boss["contact"].notna().any()


def test_gdal_feature_count_is_number_matched(server: LiveServer, stored: list) -> None:
    info = pyogrio.read_info(_oapif(server), layer="reports", **_gdal_auth())
    assert info["features"] == len(stored)


def test_gdal_bbox_with_float_noise_selects_the_villages_inside(server: LiveServer) -> None:
    from floodpost.geo.catalogue import Catalogue
    from floodpost.paths import default_geodata

    bbox = (110.15, 26.58, 110.2, 26.63)  # GDAL sends 110.15000000000001,26.579999999999998,…
    df = pyogrio.read_dataframe(_oapif(server), layer="villages", bbox=bbox, **_gdal_auth())
    villages = Catalogue.load(default_geodata()).gdf("villages")
    import shapely

    expected = villages[villages.intersects(shapely.box(*bbox))]["code"]
    assert len(df) > 0
    assert sorted(df["code"]) == sorted(expected)


def test_gdal_reads_zone_contacts_only_for_a_commander(server: LiveServer) -> None:
    viewer = pyogrio.read_dataframe(_oapif(server), layer="zones", **_gdal_auth())
    boss = pyogrio.read_dataframe(_oapif(server), layer="zones", **_gdal_auth("boss"))
    assert len(viewer) == len(boss) > 0
    assert "contact" not in viewer.columns
    assert boss["contact"].notna().all()


def test_gdal_without_credentials_is_refused(server: LiveServer) -> None:
    with pytest.raises(Exception, match="401"):
        pyogrio.read_dataframe(_oapif(server), layer="villages")


# -- OWSLib ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def owslib_api(server: LiveServer) -> Any:
    from owslib.ogcapi.features import Features
    from owslib.util import Authentication

    return Features(server.url + "/ogc", auth=Authentication("gis", PASSWORD))


def test_owslib_conformance_and_collections(owslib_api: Any) -> None:
    classes = owslib_api.conformance()["conformsTo"]
    for part in ("core", "geojson", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{part}" in classes
    ids = [c["id"] for c in owslib_api.collections()["collections"]]
    assert "reports" in ids and "villages" in ids
    reports = owslib_api.collection("reports")
    assert reports["itemType"] == "feature"
    assert len(reports["extent"]["spatial"]["bbox"][0]) == 4


def test_owslib_walks_next_links_to_the_end(owslib_api: Any, server: LiveServer) -> None:
    first = owslib_api.collection_items("reports", limit=400, kind="rescue")
    matched = first["numberMatched"]
    assert matched > 400
    seen = [f["id"] for f in first["features"]]
    page = first
    auth = ("gis", PASSWORD)
    while True:
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        assert "kind=rescue" in nxt[0] and "limit=400" in nxt[0]  # filters kept in next
        page = httpx.get(nxt[0], auth=auth, timeout=30).json()
        assert page["numberReturned"] > 0  # never a next link to an empty page
        assert page["numberMatched"] == matched  # independent of the page
        seen += [f["id"] for f in page["features"]]
        assert all(f["properties"]["kind"] == "rescue" for f in page["features"])
    assert len(seen) == len(set(seen)) == matched


def test_owslib_one_feature(owslib_api: Any, stored: list) -> None:
    rid = stored[0]["id"]
    feature = owslib_api.collection_item("reports", rid)
    assert feature["id"] == rid
    assert feature["geometry"]["coordinates"] == [stored[0]["lon"], stored[0]["lat"]]
    with pytest.raises(RuntimeError):
        owslib_api.collection_item("villages", "000000000000")


def test_owslib_datetime_interval(owslib_api: Any, stored: list) -> None:
    page = owslib_api.collection_items("reports", datetime_="../2017-06-30T00:00:00Z", limit=1)
    from datetime import UTC, datetime

    cut = datetime(2017, 6, 30, tzinfo=UTC).timestamp()
    assert page["numberMatched"] == sum(1 for r in stored if r["occurred_ts"] <= cut)
