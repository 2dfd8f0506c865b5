"""Orders and roll-call marks arrive on /api/events as `event: order` / `event: household`."""

from __future__ import annotations

import httpx
import pytest

from floodpost.orders.households import parse_roster
from floodpost.orders.rollcall import import_households
from floodpost.orders.zones import zone_lookup
from floodpost.storage import open_store
from floodpost.web.app import create_app
from tests.live_support import ThreadServer, read_events
from tests.reports_support import add_user

ORDER_ID = "6f1c1e0e-3a55-4f55-9a0f-1b2c3d4e5f61"


@pytest.fixture
def server(sqlite_url, settings, catalogue):
    store = open_store(sqlite_url)
    app = create_app(settings, store=store, catalogue=catalogue)
    for name, role in (("cmd", "commander"), ("view", "viewer")):
        add_user(store, name, role)
    try:
        with ThreadServer(app) as srv:
            srv.store = store
            yield srv
    finally:
        store.close()


def _token(srv, name):
    r = httpx.post(
        srv.url + "/api/auth/token", data={"username": name, "password": "correct-horse-1"}
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_order_and_household_events(server, catalogue):
    code = next(iter(catalogue.villages_by_code))
    hs = parse_roster(
        f"村代码,户主,人数,电话\n{code},张三,2,13800000001\n".encode(),
        "r.csv",
        catalogue.villages_by_code,
    )
    import_households(server.store, hs, zone_of=zone_lookup(catalogue), actor="t")
    cmd = _token(server, "cmd")
    with (
        httpx.Client(timeout=10) as c,
        c.stream("GET", server.url + "/api/events", headers=_token(server, "view")) as r,
    ):
        body = {"id": ORDER_ID, "level": "evacuate", "villages": [code], "message": "立即转移"}
        assert httpx.post(server.url + "/api/orders", json=body, headers=cmd).status_code == 201
        mark = httpx.post(
            f"{server.url}/api/rollcall/{hs[0].id}", json={"status": "safe"}, headers=cmd
        )
        assert mark.status_code == 200
        got = read_events(r, 3)
    kinds = [e["event"] for e in got]
    assert kinds[0] == "order" and "household" in kinds
    assert got[0]["data"]["id"] == ORDER_ID and got[0]["data"]["villages"][0]["code"] == code
    household = next(e for e in got if e["event"] == "household")["data"]
    assert household["status"] == "safe" and "head" not in household and "phone" not in household
    # the mark accounted for the only household: the order completed, also on the stream
    assert kinds[-1] == "order" and got[-1]["data"]["status"] == "completed"


def test_a_field_member_streams_only_their_zones_orders(server, catalogue):
    from floodpost.orders.zones import set_contact

    zone_list = list(catalogue.records("zones").values())
    mine, other = zone_list[0], zone_list[1]
    add_user(server.store, "f1", "field")
    set_contact(server.store, "f1", zones=[mine["id"]], phone=None)
    cmd = _token(server, "cmd")
    theirs_id = "6f1c1e0e-3a55-4f55-9a0f-1b2c3d4e5f62"
    with (
        httpx.Client(timeout=10) as c,
        c.stream("GET", server.url + "/api/events", headers=_token(server, "f1")) as r,
    ):
        for oid, zone in ((theirs_id, other), (ORDER_ID, mine)):
            body = {
                "id": oid,
                "level": "prepare",
                "villages": zone["village_codes"][:1],
                "message": "准备",
            }
            assert httpx.post(server.url + "/api/orders", json=body, headers=cmd).status_code == 201
        got = read_events(r, 1)
    assert [(e["event"], e["data"]["id"]) for e in got] == [("order", ORDER_ID)]
