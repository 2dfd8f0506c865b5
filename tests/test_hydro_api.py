"""The early-warning HTTP interface: readings in, warnings out, lifting, the gauge role's
limits, and warnings delivered on /api/events (a real server, both backends for the stream)."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from floodpost.storage import open_store
from floodpost.timefmt import LOCAL_TZ
from floodpost.web.app import create_app
from tests.live_support import ThreadServer, read_events
from tests.reports_support import ROLES, add_user, quick_user
from tests.test_auth_routes import PUBLIC, _is_public, _routes, _url

VILLAGE = "430527100201"
T0 = datetime(2017, 6, 24, 8, tzinfo=LOCAL_TZ)


def _rain(station, hour, mm):
    t = T0.timestamp() + hour * 3600
    return {
        "station": station,
        "time": datetime.fromtimestamp(t, LOCAL_TZ).isoformat(),
        "rain_mm": mm,
        "interval_h": 1,
    }


@pytest.fixture
def tokens(app):
    return {role: quick_user(app.state.ctx, f"u-{role}", role) for role in ROLES}


@pytest.fixture
def gauge(catalogue):
    return catalogue.village(VILLAGE)["rain_station"]


def test_post_readings_raises_a_warning_and_a_commander_lifts_it(client, tokens, gauge):
    r = client.post(
        "/api/readings", json={"readings": [_rain(gauge, 1, 50.0)]}, headers=tokens["gauge"]
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"]) == (1, 0) and body["warnings"]
    again = client.post(
        "/api/readings", json={"readings": [_rain(gauge, 1, 50.0)]}, headers=tokens["staff"]
    )
    assert again.json()["duplicates"] == 1
    clash = client.post(
        "/api/readings", json={"readings": [_rain(gauge, 1, 51.0)]}, headers=tokens["staff"]
    )
    assert clash.status_code == 409 and "readings[0]" in clash.json()["detail"]
    active = client.get("/api/warnings?active=1", headers=tokens["viewer"]).json()["warnings"]
    mine = next(w for w in active if w["code"] == VILLAGE)
    assert (mine["level"], mine["window_h"], mine["observed"]) == ("evacuate", 1, 50.0)
    for role in ("staff", "viewer", "field"):
        assert (
            client.post(
                f"/api/warnings/{mine['id']}/lift", json={"reason": "x"}, headers=tokens[role]
            ).status_code
            == 403
        )
    assert (
        client.post(
            f"/api/warnings/{mine['id']}/lift", json={}, headers=tokens["commander"]
        ).status_code
        == 422
    )
    lifted = client.post(
        f"/api/warnings/{mine['id']}/lift", json={"reason": "雨停"}, headers=tokens["commander"]
    )
    assert lifted.status_code == 200 and lifted.json()["active"] is False
    assert (
        client.post(
            f"/api/warnings/{mine['id']}/lift", json={"reason": "雨停"}, headers=tokens["commander"]
        ).status_code
        == 409
    )
    assert (
        client.post(
            "/api/warnings/nope/lift", json={"reason": "x"}, headers=tokens["commander"]
        ).status_code
        == 404
    )
    got = client.get(f"/api/warnings/{mine['id']}", headers=tokens["field"]).json()
    assert got["lift_reason"] == "雨停"
    readings = client.get(f"/api/readings?station={gauge}", headers=tokens["viewer"]).json()[
        "readings"
    ]
    assert [(x["kind"], x["rain_mm"]) for x in readings] == [("rain", 50.0)]


def test_batch_refused_whole_with_index_and_field(client, tokens, gauge):
    batch = [_rain(gauge, 1, 5.0), {**_rain(gauge, 2, 5.0), "rain_mm": -1}]
    r = client.post("/api/readings", json={"readings": batch}, headers=tokens["gauge"])
    assert r.status_code == 422 and r.json()["field"] == "readings[1].rain_mm"
    for bad in ({}, {"readings": []}, [1, 2], {"readings": [{"station": gauge}]}):
        assert client.post("/api/readings", json=bad, headers=tokens["gauge"]).status_code == 422
    assert (
        client.get(f"/api/readings?station={gauge}", headers=tokens["staff"]).json()["readings"]
        == []
    )
    assert client.get("/api/readings?station=NOSUCH00", headers=tokens["staff"]).status_code == 404
    assert (
        client.get(
            f"/api/readings?station={gauge}&since=2017-06-24", headers=tokens["staff"]
        ).status_code
        == 422
    )


def test_gauge_role_may_post_readings_and_nothing_else(client, app, tokens):
    checked = 0
    for method, path, _dep in _routes(app):
        if _is_public(method, path) or (method, path) == ("POST", "/api/readings"):
            continue
        kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH", "DELETE") else {}
        r = client.request(
            method, _url(path), headers=tokens["gauge"], follow_redirects=False, **kwargs
        )
        assert r.status_code == 403, (method, path, r.status_code)
        checked += 1
    assert checked > 20 and ("GET", "/login") in PUBLIC
    for role in ("field", "viewer"):
        assert (
            client.post("/api/readings", json={"readings": []}, headers=tokens[role]).status_code
            == 403
        )


def test_stations_status_and_review_figures(client, tokens, gauge):
    client.post(
        "/api/readings", json={"readings": [_rain(gauge, 1, 40.0)]}, headers=tokens["staff"]
    )
    status = client.get("/api/stations", headers=tokens["viewer"]).json()
    me = next(s for s in status["stations"] if s["id"] == gauge)
    assert me["silent"] is True and me["rain_mm"] is None  # 2017 reading, 2026 clock: silent
    assert me["thresholds"]["warn_mm"]["1h"] == [35.0, 45.0]  # the lowest of its villages
    dam = next(s for s in status["stations"] if s["kind"] == "RR")
    assert dam["thresholds"]["levels"]["crest_m"] > dam["thresholds"]["levels"]["flood_limit_m"]
    review = client.get("/api/stats/warnings", headers=tokens["viewer"]).json()
    assert review["summary"]["warnings"] >= 1 and review["by_hour"][0]["prepare"] >= 1
    lead = next(x for x in review["lead_times"] if x["code"] == VILLAGE)
    assert lead["first_warning"] and lead["first_evacuation"] is None
    assert client.get("/api/stats/warnings", headers=tokens["field"]).status_code == 403


@pytest.fixture
def server(store_url, settings, catalogue):
    store = open_store(store_url)
    app = create_app(settings, store=store, catalogue=catalogue)
    add_user(store, "gw", "gauge")
    add_user(store, "view", "viewer")
    try:
        with ThreadServer(app) as srv:
            yield srv
    finally:
        store.close()


def _token(srv, name):
    r = httpx.post(
        srv.url + "/api/auth/token", data={"username": name, "password": "correct-horse-1"}
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_a_warning_arrives_on_the_event_stream(server, catalogue):
    gauge = catalogue.village(VILLAGE)["rain_station"]
    with (
        httpx.Client(timeout=10) as c,
        c.stream("GET", server.url + "/api/events", headers=_token(server, "view")) as r,
    ):
        posted = httpx.post(
            server.url + "/api/readings",
            json={"readings": [_rain(gauge, 1, 36.0)]},
            headers=_token(server, "gw"),
        )
        assert posted.status_code == 200, posted.text
        events = read_events(r, 1 + len(posted.json()["warnings"]))
    assert events[0]["event"] == "readings"
    warnings = [e["data"] for e in events if e["event"] == "warning"]
    mine = next(w for w in warnings if w["code"] == VILLAGE)
    assert mine["level"] == "prepare" and mine["id"] in posted.json()["warnings"]


def test_review_shows_lead_time_from_warning_to_evacuation(client, tokens, gauge):
    from tests.reports_support import new_report

    client.post(
        "/api/readings", json={"readings": [_rain(gauge, 1, 40.0)]}, headers=tokens["gauge"]
    )
    evac = new_report(village_code=VILLAGE, occurred_at="2017-06-24T10:30:00+08:00", people=20)
    evac.pop("lon"), evac.pop("lat")
    assert client.post("/api/reports", json=evac, headers=tokens["staff"]).status_code == 201
    review = client.get("/api/stats/warnings", headers=tokens["commander"]).json()
    lead = next(x for x in review["lead_times"] if x["code"] == VILLAGE)
    assert lead["lead_min"] == 90  # warned 09:00 (the 1 h window's end), moved 10:30
    assert review["summary"]["evacuated_without_warning"] == 0
    page = client.get("/review", headers=tokens["viewer"])
    assert page.status_code == 200 and 'id="table-lead"' in page.text
    assert ">90<" in page.text and 'id="chart-warnings"' in page.text
