"""Other people's data (issue 13): a field member resending another member's report id gets 409
without that report; field members do not get zone owners' phone numbers."""

from __future__ import annotations

import pytest

from tests.reports_support import new_report, quick_user


@pytest.fixture
def heads(app):
    ctx = app.state.ctx
    return {
        name: quick_user(ctx, name, role)
        for name, role in (("li", "field"), ("wang", "field"), ("zhang", "staff"), ("v", "viewer"))
    }


def test_resending_another_members_report_id_is_a_conflict(client, heads):
    body = new_report(note="李的报告")
    assert client.post("/api/reports", json=body, headers=heads["li"]).status_code == 201
    r = client.post("/api/reports", json=body, headers=heads["wang"])
    assert r.status_code == 409 and r.json()["code"] == "id_conflict"
    assert "李的报告" not in r.text and "reporter" not in r.json()
    # Its owner still gets the usual 200 for a resend, and nothing changed.
    again = client.post("/api/reports", json=body, headers=heads["li"])
    assert again.status_code == 200 and again.json()["reporter"] == "li"
    assert again.json()["version"] == 1


def test_field_members_get_no_zone_owner_phone_numbers(client, heads):
    zones = client.get("/api/layers/zones", headers=heads["li"])
    assert zones.status_code == 200
    features = zones.json()["features"]
    assert features and all("contact" not in f["properties"] for f in features)
    assert all(f["properties"]["owner"] for f in features)  # the rest of the layer is there
    for role in ("zhang", "v"):
        full = client.get("/api/layers/zones", headers=heads[role]).json()["features"]
        assert any(f["properties"].get("contact") for f in full)
