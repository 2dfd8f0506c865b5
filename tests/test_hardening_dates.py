"""Odd dates on every date field (issue 13): 422 naming the field, never a 500."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests.reports_support import new_report, quick_user

EXTREMES = [
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00+14:00",
    "0999-06-01T00:00:00+08:00",
    "1969-12-31T23:59:59+00:00",
    "9999-12-31T23:59:59-14:00",
]
NOT_TEXT = [253402300799, 1498874400000, 1.5, True, "253402300799", "1498874400", None]


@pytest.fixture
def heads(app):
    ctx = app.state.ctx
    return {"field": quick_user(ctx, "li", "field"), "staff": quick_user(ctx, "zhang", "staff")}


@pytest.mark.parametrize("value", EXTREMES + NOT_TEXT)
def test_post_refuses_odd_occurred_at(client, heads, value):
    r = client.post("/api/reports", json=new_report(occurred_at=value), headers=heads["field"])
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["field"] == "occurred_at"


def test_post_refuses_more_than_the_margin_ahead_but_takes_the_margin(client, heads, app):
    app.state.ctx.settings.future_tolerance_min = 60
    soon = datetime.fromtimestamp(time.time() + 50 * 60, UTC).isoformat()
    later = datetime.fromtimestamp(time.time() + 70 * 60, UTC).isoformat()
    assert (
        client.post(
            "/api/reports", json=new_report(occurred_at=soon), headers=heads["field"]
        ).status_code
        == 201
    )
    r = client.post("/api/reports", json=new_report(occurred_at=later), headers=heads["field"])
    assert r.status_code == 422 and r.json()["field"] == "occurred_at"


@pytest.mark.parametrize("value", EXTREMES + NOT_TEXT[:5])
def test_patch_refuses_odd_occurred_at(client, heads, value):
    body = new_report()
    assert client.post("/api/reports", json=body, headers=heads["field"]).status_code == 201
    r = client.patch(
        f"/api/reports/{body['id']}",
        json={"occurred_at": value, "reason": "typo"},
        headers=heads["staff"],
    )
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "occurred_at"
    stored = client.get(f"/api/reports/{body['id']}", headers=heads["staff"]).json()
    assert stored["occurred_at"] == body["occurred_at"] and stored["version"] == 1


@pytest.mark.parametrize(
    "t",
    ["0001-01-01", "9999-12-31T23:59:59-14:00", "1969-12-31T23:00:00+00:00", "253402300799", "2"],
)
def test_stats_at_refuses_odd_moments(client, heads, t):
    r = client.get("/api/stats/at", params={"t": t}, headers=heads["staff"])
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "t"


def test_stats_at_takes_a_normal_moment(client, heads):
    r = client.get("/api/stats/at", params={"t": "2017-07-01T10:00"}, headers=heads["staff"])
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+14:00", "253402300799", "1498874400"])
def test_report_list_since_refuses_odd_moments(client, heads, since):
    r = client.get("/api/reports", params={"since": since}, headers=heads["staff"])
    assert r.status_code == 422 and r.json()["field"] == "since"


def test_report_list_since_far_ahead_matches_nothing(client, heads):
    far = "9999-12-31T23:59:59-14:00"
    r = client.get("/api/reports", params={"since": far}, headers=heads["staff"])
    assert r.status_code == 200 and r.json()["reports"] == []


@pytest.mark.parametrize("day", ["0999-01-01", "20170701", "9999-99-99"])
def test_by_day_refuses_odd_dates(client, heads, day):
    r = client.get("/api/stats/by-day", params={"date": day}, headers=heads["staff"])
    assert r.status_code == 422 and r.json()["field"] == "date"


def test_unexpected_exception_is_a_json_500_with_a_request_id(app, caplog):
    from fastapi.testclient import TestClient

    @app.get("/api/boom-for-test")
    def boom() -> None:
        raise RuntimeError("kaboom")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/boom-for-test")
    assert r.status_code == 500
    body = r.json()
    assert body["error"] == "internal" and len(body["request_id"]) == 16
    assert any(body["request_id"] in rec.getMessage() for rec in caplog.records)
