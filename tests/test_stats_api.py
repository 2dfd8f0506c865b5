"""`/api/stats/*` over HTTP: who may read, the shapes, and input errors."""

from __future__ import annotations

import pytest

from floodpost.replay.demo import load_all
from tests.reports_support import add_user, bearer


@pytest.fixture
def demo_client(client, catalogue):
    store = client.app.state.ctx.store
    load_all(store, catalogue)
    for role in ("commander", "staff", "field", "viewer"):
        add_user(store, role, role)
    return client


@pytest.mark.parametrize("role", ["commander", "staff", "viewer"])
def test_review_roles_read_the_summary(demo_client, role):
    r = demo_client.get("/api/stats/summary", headers=bearer(demo_client, role))
    assert r.status_code == 200
    s = r.json()
    assert (s["evacuated"], s["rescued"], s["deaths"], s["missing"]) == (59_700, 1_960, 0, 0)
    assert s["reservoirs_failed"] == 0 and s["open_help_requests"] == 0


def test_field_members_and_strangers_are_refused(demo_client):
    assert demo_client.get("/api/stats/summary").status_code == 401
    r = demo_client.get("/api/stats/by-township", headers=bearer(demo_client, "field"))
    assert r.status_code == 403


@pytest.mark.parametrize("path", ["by-township", "by-zone", "by-village", "by-day"])
def test_breakdowns_sum_to_the_summary(demo_client, path):
    h = bearer(demo_client, "viewer")
    total = demo_client.get("/api/stats/summary", headers=h).json()
    rows = demo_client.get(f"/api/stats/{path}", headers=h).json()["rows"]
    assert sum(r["evacuated"] for r in rows) == total["evacuated"] == 59_700
    assert sum(r["rescued"] for r in rows) == total["rescued"] == 1_960
    if path == "by-day":
        assert [r["date"] for r in rows][0] == "2017-06-24"
        assert [r["date"] for r in rows][-1] == "2017-07-01"


def test_by_day_for_one_date_gives_hours(demo_client):
    h = bearer(demo_client, "viewer")
    res = demo_client.get("/api/stats/by-day", params={"date": "2017-06-30"}, headers=h).json()
    assert len(res["rows"]) == 24 and res["rows"][0]["hour"] == "2017-06-30T00"
    day = next(
        r
        for r in demo_client.get("/api/stats/by-day", headers=h).json()["rows"]
        if r["date"] == "2017-06-30"
    )
    assert sum(r["evacuated"] for r in res["rows"]) == day["evacuated"]
    bad = demo_client.get("/api/stats/by-day", params={"date": "30/06/2017"}, headers=h)
    assert bad.status_code == 422 and bad.json()["field"] == "date"


def test_situation_at_a_moment(demo_client):
    h = bearer(demo_client, "staff")
    early = demo_client.get("/api/stats/at", params={"t": "2017-06-26T12:00:00+08:00"}, headers=h)
    late = demo_client.get("/api/stats/at", params={"t": "2017-07-01T23:59:59+08:00"}, headers=h)
    assert early.status_code == late.status_code == 200
    e, last = early.json(), late.json()
    assert e["totals"]["evacuated"] < last["totals"]["evacuated"] == 59_700
    assert {"villages", "shelters", "reservoirs", "open_help_requests"} <= set(last)
    assert demo_client.get("/api/stats/at", params={"t": "noon"}, headers=h).status_code == 422


def test_flows_shelters_reservoirs(demo_client):
    h = bearer(demo_client, "commander")
    flows = demo_client.get("/api/stats/flows", headers=h).json()["flows"]
    assert flows[0]["people"] >= flows[-1]["people"] > 0
    assert len(flows[0]["from"]) == 2 and len(flows[0]["to"]) == 2
    assert demo_client.get("/api/stats/shelters", headers=h).json()["rows"]
    rows = demo_client.get("/api/stats/reservoirs", headers=h).json()["rows"]
    assert {r["status"] for r in rows} == {"normal"}
