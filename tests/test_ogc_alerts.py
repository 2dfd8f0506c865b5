"""/ogc collections `warnings` and `orders` in process, on both backends: the same records as
GET /api/warnings and GET /api/orders/{id}, the places they are drawn at, paging, bbox,
datetime, property filters, and who reads what (a field member their zones' orders, a viewer no
account names)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
import shapely
from shapely.geometry import shape

from floodpost.orders.zones import set_contact
from floodpost.timefmt import LOCAL_TZ
from tests.reports_support import quick_user

T0 = datetime(2017, 6, 24, 8, tzinfo=LOCAL_TZ).timestamp()


@pytest.fixture
def client(store_url: str, catalogue: Any) -> Any:
    import secrets

    from fastapi.testclient import TestClient

    from floodpost.settings import Settings
    from floodpost.web.app import create_app

    settings = Settings(db_url=store_url, secret_key=secrets.token_urlsafe(32), tile_url="")
    app = create_app(settings, catalogue=catalogue)
    with TestClient(app) as c:
        c.ctx = app.state.ctx
        yield c


@pytest.fixture
def zones(catalogue: Any) -> dict[str, Any]:
    z = catalogue.records("zones")
    first, second = list(z)[:2]
    return {"mine": first, "other": second, "villages": z[first]["village_codes"],
            "other_villages": z[second]["village_codes"]}  # fmt: skip


@pytest.fixture
def users(client: Any, zones: dict) -> dict[str, dict[str, str]]:
    ctx = client.ctx
    heads = {role: quick_user(ctx, f"{role}-1", role) for role in ("commander", "staff", "viewer")}
    heads["gauge"] = quick_user(ctx, "gauge-1", "gauge")
    heads["field"] = quick_user(ctx, "field-1", "field")
    heads["stranger"] = quick_user(ctx, "field-2", "field")
    set_contact(ctx.store, "field-1", zones=[zones["mine"]], phone="+8613800000001")
    set_contact(ctx.store, "field-2", zones=[zones["other"]], phone=None)
    return heads


def _walk(client: Any, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    pages = []
    while url:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/geo+json"
        pages.append(r.json())
        url = next((x["href"] for x in pages[-1]["links"] if x["rel"] == "next"), None)
    return pages


def _features(client: Any, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    return [f for p in _walk(client, url, headers) for f in p["features"]]


# -- warnings --------------------------------------------------------------------------------
@pytest.fixture
def warnings(client: Any, users: dict, catalogue: Any) -> list[dict[str, Any]]:
    """Heavy rain at four gauges, an hour apart: a warning for each village they serve."""
    gauges: list[str] = []
    for v in catalogue.records("villages").values():
        if v.get("rain_station") and v["rain_station"] not in gauges:
            gauges.append(v["rain_station"])
    for hour, gauge in enumerate(gauges[:4], start=1):
        when = datetime.fromtimestamp(T0 + hour * 3600, LOCAL_TZ).isoformat()
        reading = {"station": gauge, "time": when, "rain_mm": 80.0, "interval_h": 1}
        r = client.post("/api/readings", json={"readings": [reading]}, headers=users["gauge"])
        assert r.status_code == 200, r.text
    found = client.get("/api/warnings", headers=users["staff"]).json()["warnings"]
    assert len(found) >= 4
    return found


def test_warnings_are_the_api_records_at_their_village(
    client: Any, users: dict, warnings: list, catalogue: Any
) -> None:
    features = _features(client, "/ogc/collections/warnings/items?limit=3", users["staff"])
    assert sorted(f["id"] for f in features) == sorted(w["id"] for w in warnings)
    by_id = {w["id"]: w for w in warnings}
    for f in features:
        assert f["properties"] == by_id[f["id"]]
        assert f["geometry"]["type"] == "Point"
        village = catalogue.village(f["properties"]["code"])
        assert f["geometry"]["coordinates"] == [village["seat_lon"], village["seat_lat"]]
    one = client.get(f"/ogc/collections/warnings/items/{warnings[0]['id']}", headers=users["field"])
    assert one.status_code == 200 and one.json()["properties"] == warnings[0]
    assert (
        client.get("/ogc/collections/warnings/items/nope", headers=users["staff"]).status_code
        == 404
    )


def test_warnings_paging_datetime_bbox_and_active(client: Any, users: dict, warnings: list) -> None:
    head = users["viewer"]
    pages = _walk(client, "/ogc/collections/warnings/items?limit=2&active=1", head)
    assert all(p["numberMatched"] == len(warnings) for p in pages)
    assert all(p["numberReturned"] > 0 for p in pages)
    assert all(
        "active=1" in x["href"] for p in pages[:-1] for x in p["links"] if x["rel"] == "next"
    )
    cut = datetime.fromtimestamp(T0 + 2.5 * 3600, LOCAL_TZ).isoformat()

    def matched(**params: str) -> int:
        r = client.get("/ogc/collections/warnings/items", params=params, headers=head)
        assert r.status_code == 200, r.text
        return int(r.json()["numberMatched"])

    since = [datetime.fromisoformat(w["since"]).timestamp() for w in warnings]
    later = sum(1 for s in since if s >= T0 + 2.5 * 3600)
    assert 0 < later < len(warnings)
    assert matched(datetime=f"{cut}/..") == later
    assert matched(datetime=f"../{cut}") == len(warnings) - later
    w = warnings[0]
    one = client.get(f"/ogc/collections/warnings/items/{w['id']}", headers=head).json()
    lon, lat = one["geometry"]["coordinates"]
    box = f"{lon - 1e-6},{lat - 1e-6},{lon + 1e-6},{lat + 1e-6}"
    inside = _features(client, f"/ogc/collections/warnings/items?bbox={box}", head)
    assert w["id"] in {f["id"] for f in inside} and len(inside) < len(warnings)
    lifted = client.post(
        f"/api/warnings/{w['id']}/lift", json={"reason": "雨停"}, headers=users["commander"]
    )
    assert lifted.status_code == 200
    assert matched(active="1") == len(warnings) - 1
    assert matched(active="0") == matched() == len(warnings)
    r = client.get("/ogc/collections/warnings/items?active=yes", headers=head)
    assert r.status_code == 400 and r.json()["field"] == "active"
    # A viewer reads no account names; staff do.
    seen = client.get(f"/ogc/collections/warnings/items/{w['id']}", headers=head).json()
    assert "lifted_by" not in seen["properties"] and seen["properties"]["lift_reason"] == "雨停"
    staff = client.get(f"/ogc/collections/warnings/items/{w['id']}", headers=users["staff"])
    assert staff.json()["properties"]["lifted_by"] == "commander-1"


# -- orders ----------------------------------------------------------------------------------
def _issue(client: Any, users: dict, codes: list[str], level: str = "evacuate") -> dict:
    body = {"id": str(uuid.uuid4()), "level": level, "villages": codes, "message": "立即转移"}
    r = client.post("/api/orders", json=body, headers=users["commander"])
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def orders(client: Any, users: dict, zones: dict) -> dict[str, dict[str, Any]]:
    mine, other = zones["villages"], zones["other_villages"]
    made = {
        "mine": _issue(client, users, mine[:2]),
        "other": _issue(client, users, other[:1], level="prepare"),
        "both": _issue(client, users, [mine[2], other[1]]),
    }
    ack = client.post(f"/api/orders/{made['mine']['id']}/ack", headers=users["field"])
    assert ack.status_code == 200
    return made


def test_orders_are_the_api_orders_over_their_villages(
    client: Any, users: dict, orders: dict, catalogue: Any
) -> None:
    head = users["commander"]
    features = _features(client, "/ogc/collections/orders/items?limit=2", head)
    assert sorted(f["id"] for f in features) == sorted(o["id"] for o in orders.values())
    villages = catalogue.gdf("villages").set_index("code")
    for f in features:
        api = client.get(f"/api/orders/{f['id']}", headers=head).json()
        assert f["properties"] == api
        geom = shape(f["geometry"])
        assert f["geometry"]["type"] == "MultiPolygon"
        codes = [v["code"] for v in api["villages"]]
        expected = shapely.union_all(list(villages.loc[codes].geometry.values))
        assert geom.is_valid and geom.symmetric_difference(expected).area < 1e-4 * expected.area
    one = client.get(f"/ogc/collections/orders/items/{orders['mine']['id']}", headers=head)
    assert one.status_code == 200 and one.json()["properties"]["acknowledged"] == 2  # both villages


def test_a_field_member_reads_their_zones_orders(client: Any, users: dict, orders: dict) -> None:
    def ids(who: str) -> set[str]:
        return {f["id"] for f in _features(client, "/ogc/collections/orders/items", users[who])}

    assert ids("field") == {orders["mine"]["id"], orders["both"]["id"]}
    assert ids("stranger") == {orders["other"]["id"], orders["both"]["id"]}
    assert len(ids("viewer")) == 3
    page = client.get("/ogc/collections/orders/items", headers=users["field"]).json()
    assert page["numberMatched"] == 2
    r = client.get(f"/ogc/collections/orders/items/{orders['other']['id']}", headers=users["field"])
    assert r.status_code == 404
    assert (
        client.get(f"/api/orders/{orders['other']['id']}", headers=users["field"]).status_code
        == 403
    )


def test_orders_filters_and_a_viewer_reads_no_names(
    client: Any, users: dict, orders: dict, catalogue: Any, zones: dict
) -> None:
    head = users["viewer"]

    def matched(query: str) -> set[str]:
        return {f["id"] for f in _features(client, f"/ogc/collections/orders/items?{query}", head)}

    assert matched("level=prepare") == {orders["other"]["id"]}
    assert matched("datetime=2000-01-01T00:00:00Z/..") == {o["id"] for o in orders.values()}
    assert matched("datetime=../2000-01-01T00:00:00Z") == set()
    seat = catalogue.village(zones["other_villages"][0])
    lon, lat = seat["seat_lon"], seat["seat_lat"]
    box = f"{lon - 1e-6},{lat - 1e-6},{lon + 1e-6},{lat + 1e-6}"
    assert orders["other"]["id"] in matched(f"bbox={box}")
    assert orders["mine"]["id"] not in matched(f"bbox={box}")
    cancel = client.post(f"/api/orders/{orders['both']['id']}/cancel", headers=users["commander"])
    assert cancel.status_code == 200
    assert matched("status=cancelled") == {orders["both"]["id"]}
    r = client.get("/ogc/collections/orders/items?status=done", headers=head)
    assert r.status_code == 400 and r.json()["field"] == "status"
    one = client.get(f"/ogc/collections/orders/items/{orders['mine']['id']}", headers=head).json()
    props = one["properties"]
    assert "issued_by" not in props and props["acknowledged"] == 2
    acks = [a for v in props["villages"] for a in v["acknowledged_by"]]
    assert acks and all("user" not in a and a["at"] for a in acks)
    boss = client.get(
        f"/ogc/collections/orders/items/{orders['mine']['id']}", headers=users["staff"]
    )
    assert boss.json()["properties"]["issued_by"] == "commander-1"


def test_collections_list_and_temporal_extent(client: Any, users: dict, orders: dict) -> None:
    docs = client.get("/ogc/collections", headers=users["viewer"]).json()["collections"]
    ids = [c["id"] for c in docs]
    assert ids[-3:] == ["reports", "warnings", "orders"]
    doc = client.get("/ogc/collections/orders", headers=users["viewer"]).json()
    start, end = doc["extent"]["temporal"]["interval"][0]
    issued = sorted(datetime.fromisoformat(o["issued_at"]).timestamp() for o in orders.values())
    assert abs(datetime.fromisoformat(start).timestamp() - issued[0]) < 1e-3
    assert abs(datetime.fromisoformat(end).timestamp() - issued[-1]) < 1e-3
    q = client.get("/ogc/collections/orders/queryables", headers=users["viewer"]).json()
    assert set(q["properties"]) == {"status", "level"}


def test_a_reservoir_warning_sits_at_its_reservoir(catalogue: Any) -> None:
    from floodpost.ogc.alerts import _places

    points = _places(catalogue).points
    reservoirs = catalogue.gdf("reservoirs")
    assert len(reservoirs) > 0
    for rid, geom in zip(reservoirs["id"], reservoirs.geometry.values, strict=True):
        assert points[("reservoir", str(rid))] == (geom.x, geom.y)
    villages = catalogue.gdf("villages")
    for code, geom in zip(villages["code"][:50], villages.geometry.values[:50], strict=True):
        assert geom.intersects(shapely.Point(points[("village", str(code))]))
