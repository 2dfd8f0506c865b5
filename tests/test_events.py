"""GET /api/events (SSE), the live state, and the lifecycle routes over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from floodpost.web.app import create_app
from tests.live_support import ThreadServer, read_events
from tests.reports_support import add_user, new_report


@pytest.fixture
def server(settings, catalogue):
    app = create_app(settings, catalogue=catalogue)
    store = app.state.ctx.store
    for name, role in (("cmd", "commander"), ("staff", "staff"), ("f1", "field"),
                       ("f2", "field"), ("view", "viewer")):  # fmt: skip
        add_user(store, name, role)
    with ThreadServer(app) as srv:
        yield srv


def token(srv, name):
    r = httpx.post(
        srv.url + "/api/auth/token", data={"username": name, "password": "correct-horse-1"}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def post(srv, who, body):
    r = httpx.post(srv.url + "/api/reports", json=body, headers=token(srv, who))
    assert r.status_code == 201, r.text
    return r.json()


def test_needs_sign_in(server):
    assert httpx.get(server.url + "/api/events").status_code == 401
    assert httpx.get(server.url + "/api/live/state").status_code == 401


def test_report_produces_event_and_reconnect_replays_missed(server):
    h = token(server, "view")
    with httpx.Client(timeout=10) as c, c.stream("GET", server.url + "/api/events", headers=h) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        first = post(server, "staff", new_report())
        [ev] = read_events(r, 1)
    assert ev["event"] == "report" and ev["data"]["id"] == first["id"]
    assert ev["data"]["kind"] == "evacuation" and int(ev["id"]) > 0
    # While the screen is away, two more reports and one lifecycle step happen.
    second = post(server, "f1", new_report(kind="help_request"))
    third = post(server, "staff", new_report(kind="rescue", people=2))
    a = httpx.post(
        f"{server.url}/api/reports/{second['id']}/assign", json={"assignee": "队1"},
        headers=token(server, "cmd"),
    )  # fmt: skip
    assert a.status_code == 200 and a.json()["state"] == "assigned"
    for how in ("header", "query"):
        hdrs = dict(h, **({"Last-Event-ID": ev["id"]} if how == "header" else {}))
        url = server.url + "/api/events" + ("" if how == "header" else f"?after={ev['id']}")
        with httpx.Client(timeout=10) as c, c.stream("GET", url, headers=hdrs) as r:
            missed = read_events(r, 3)
        assert [e["data"]["id"] for e in missed] == [second["id"], third["id"], second["id"]]
        assert missed[2]["data"]["state"] == "assigned"
        ids = [int(e["id"]) for e in missed]
        assert ids == sorted(ids) and ids[0] > int(ev["id"])


def test_field_members_get_only_their_own(server):
    h = token(server, "f1")
    mine = post(server, "f1", new_report())
    post(server, "f2", new_report())
    last = post(server, "f1", new_report(kind="incident", subtype="road_cut"))
    with (
        httpx.Client(timeout=10) as c,
        c.stream("GET", server.url + "/api/events?after=0", headers=h) as r,
    ):
        got = read_events(r, 2)
    assert [e["data"]["id"] for e in got] == [mine["id"], last["id"]]
    feed = httpx.get(server.url + "/api/live/feed", headers=h).json()["reports"]
    assert [f["id"] for f in feed] == [last["id"], mine["id"]]


def test_bad_last_event_id_is_422(server):
    r = httpx.get(server.url + "/api/events?after=abc", headers=token(server, "view"))
    assert r.status_code == 422 and r.json()["field"] == "after"


def test_live_state_reflects_reports(server, catalogue):
    h = token(server, "view")
    before = httpx.get(server.url + "/api/live/state", headers=h).json()
    assert before["totals"]["evacuated"] == 0
    assert {"villages", "shelters", "reservoirs", "zones", "requests", "service"} <= set(before)
    shelter_id, shelter = next(iter(catalogue.records("shelters").items()))
    village = catalogue.records("villages")[shelter["village_code"]]
    vill = dict(lon=village["seat_lon"], lat=village["seat_lat"])
    post(server, "staff", new_report(people=40, shelter_id=shelter_id, **vill))
    post(server, "staff", new_report(kind="incident", subtype="death", people=1, **vill))
    res_id, res = next(iter(catalogue.records("reservoirs").items()))
    post(server, "staff", new_report(kind="incident", subtype="piping", reservoir_id=res_id,
                                     reservoir_status="danger", people=0, **vill))  # fmt: skip
    post(server, "f1", new_report(kind="help_request", people=5, urgency="critical", **vill))
    s = httpx.get(server.url + "/api/live/state", headers=h).json()
    t = s["totals"]
    assert (t["evacuated"], t["deaths"], t["open_help_requests"], t["people_awaiting_help"]) == (
        40, 1, 1, 5,
    )  # fmt: skip
    assert t["reservoirs_in_danger"] == 1 and t["guarantees"] == {
        "no_dam_fails": "at_risk",
        "nobody_dies": "broken",
    }
    assert t["latest_report_ts"] is not None and s["seq"] > before["seq"]
    shelters = {x["id"]: x for x in s["shelters"]}
    assert shelters[shelter_id]["occupancy"] == 40
    villages = {v["code"]: v for v in s["villages"]}
    assert villages[shelter["village_code"]]["evacuated"] == 40
    reservoirs = {x["id"]: x for x in s["reservoirs"]}
    assert reservoirs[res_id]["status"] == "danger"
    downstream = reservoirs[res_id]["downstream"]
    assert all(villages[c]["downstream_of_danger"] for c in downstream)
    assert reservoirs[res_id]["not_evacuated"] == sum(villages[c]["remaining"] for c in downstream)
    assert s["requests"][0]["urgency"] == "critical"


def test_lifecycle_routes_roles_and_summary(server):
    req = post(server, "f1", new_report(kind="help_request", people=3))
    url = f"{server.url}/api/reports/{req['id']}"
    assert httpx.post(url + "/assign", json={}).status_code == 401
    for who in ("f1", "view"):
        assert httpx.post(url + "/assign", json={}, headers=token(server, who)).status_code == 403
    h = token(server, "staff")
    assert httpx.post(url + "/en-route", headers=h).status_code == 409
    r = httpx.post(url + "/assign", headers=h)
    assert r.status_code == 200 and r.json()["assignee"] == req["responsible"]
    assert httpx.post(url + "/en-route", headers=h).json()["state"] == "en_route"
    bad = httpx.post(url + "/resolve", json={"resolution": "rescued", "rescued": 0}, headers=h)
    assert bad.status_code == 422
    r = httpx.post(url + "/resolve", json={"resolution": "rescued", "rescued": 3}, headers=h)
    assert r.status_code == 200 and r.json()["rescue_id"]
    s = httpx.get(server.url + "/api/requests/summary", headers=h).json()
    assert (s["received"], s["resolved"], s["open"]) == (1, 1, 0)
    assert s["median_resolution_min"] is not None
    state = httpx.get(server.url + "/api/live/state", headers=h).json()
    assert state["totals"]["rescued"] == 3
    assert httpx.get(server.url + "/api/requests/open", headers=h).json()["requests"] == []
    agg = httpx.get(server.url + "/api/live/state?parts=agg", headers=h).json()
    assert agg["requests"] is None and agg["totals"]["rescued"] == 3
    audit = httpx.get(url + "/audit", headers=h)
    if audit.status_code == 200:  # H3's audit route
        assert "resolved" in audit.text


def test_cookie_posts_need_csrf(server):
    req = post(server, "f1", new_report(kind="help_request"))
    with httpx.Client(base_url=server.url) as c:
        c.get("/login")
        form = {"username": "staff", "password": "correct-horse-1",
                "csrf_token": c.cookies.get("fp_csrf")}  # fmt: skip
        r = c.post("/login", data=form)
        assert "fp_session" in c.cookies, r.text
        url = f"/api/reports/{req['id']}/assign"
        assert c.post(url, json={}).status_code == 403
        csrf = c.cookies.get("fp_csrf")
        assert csrf, r.headers
        assert c.post(url, json={}, headers={"X-CSRF-Token": csrf}).status_code == 200


def test_event_id_from_another_store_resets(server):
    h = token(server, "view")
    first = post(server, "staff", new_report())
    with (
        httpx.Client(timeout=10) as c,
        c.stream("GET", server.url + "/api/events", headers={**h, "Last-Event-ID": "999999"}) as r,
    ):
        later = post(server, "staff", new_report())
        got = read_events(r, 2)
    assert got[0]["event"] == "reset" and got[1]["data"]["id"] == later["id"]
    assert first["id"] != later["id"]
