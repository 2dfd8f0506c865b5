"""Corrections and retractions: staff only, reason required, append-only audit, stats follow."""

from __future__ import annotations

import pytest

from tests.reports_support import new_report, quick_user


@pytest.fixture
def ctx(app):
    return app.state.ctx


@pytest.fixture
def users(client, ctx):
    return {
        name: quick_user(ctx, name, role)
        for name, role in (
            ("cmd", "commander"),
            ("staff", "staff"),
            ("li", "field"),
            ("view", "viewer"),
        )
    }


@pytest.fixture
def report(client, users):
    body = new_report(people=12)
    r = client.post("/api/reports", json=body, headers=users["li"])
    assert r.status_code == 201
    return r.json()


def _agg_people(ctx) -> int:
    rows = ctx.store.read("SELECT SUM(people) AS n FROM agg")
    return int(rows[0]["n"] or 0)


def test_correct_people_with_reason(client, ctx, users, report):
    rid = report["id"]
    r = client.patch(
        f"/api/reports/{rid}", json={"people": 20, "reason": "复核人数"}, headers=users["staff"]
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["people"] == 20 and new["version"] == 2
    assert new["received_at"] == report["received_at"] and new["reporter"] == "li"
    assert new["village_code"] == report["village_code"]
    assert client.get(f"/api/reports/{rid}", headers=users["cmd"]).json()["people"] == 20
    assert _agg_people(ctx) == 20  # statistics use the latest state


def test_correction_moves_and_reroutes(client, ctx, users, report):
    other = [
        (code, v)
        for code, v in ctx.catalogue.records("villages").items()
        if v["township_code"] != report["township_code"]
    ][0]
    code, village = other
    r = client.patch(
        f"/api/reports/{report['id']}",
        json={"lon": village["seat_lon"], "lat": village["seat_lat"], "reason": "GPS 漂移"},
        headers=users["cmd"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["township_code"] == village["township_code"]
    r = client.patch(
        f"/api/reports/{report['id']}",
        json={"village_code": code, "reason": "村名更正"},
        headers=users["cmd"],
    )
    assert r.json()["village_code"] == code


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"people": 3}, "reason"),
        ({"people": 3, "reason": "  "}, "reason"),
        ({"people": 3, "reason": "x" * 501}, "reason"),
        ({"reason": "nothing to change"}, "body"),
        ({"id": "0f6c8c8e-0000-4000-8000-000000000000", "reason": "r"}, "id"),
        ({"reporter": "someone", "reason": "r"}, "reporter"),
        ({"people": 9999, "reason": "r"}, "people"),
        ({"lon": 120.0, "reason": "far away"}, "lon"),
    ],
)
def test_bad_corrections_change_nothing(client, ctx, users, report, body, field):
    r = client.patch(f"/api/reports/{report['id']}", json=body, headers=users["staff"])
    assert r.status_code == 422 and r.json()["field"] == field
    assert client.get(f"/api/reports/{report['id']}", headers=users["cmd"]).json() == report
    assert len(ctx.store.audit_log(report["id"])) == 1


def test_correction_of_unknown_report_is_404(client, users):
    rid = new_report()["id"]
    r = client.patch(f"/api/reports/{rid}", json={"people": 1, "reason": "r"}, headers=users["cmd"])
    assert r.status_code == 404
    r = client.post(f"/api/reports/{rid}/retract", json={"reason": "r"}, headers=users["cmd"])
    assert r.status_code == 404


def test_only_staff_and_commanders_correct(client, users, report):
    rid = report["id"]
    for who, status in (("li", 403), ("view", 403)):
        r = client.patch(
            f"/api/reports/{rid}", json={"people": 1, "reason": "r"}, headers=users[who]
        )
        assert r.status_code == status
        r = client.post(f"/api/reports/{rid}/retract", json={"reason": "r"}, headers=users[who])
        assert r.status_code == status
        assert client.get(f"/api/reports/{rid}/audit", headers=users[who]).status_code == status
    assert client.patch(f"/api/reports/{rid}", json={"people": 1, "reason": "r"}).status_code == 401


def test_retract_keeps_report_and_leaves_stats(client, ctx, users, report):
    rid = report["id"]
    assert (
        client.post(f"/api/reports/{rid}/retract", json={}, headers=users["cmd"]).status_code == 422
    )
    r = client.post(
        f"/api/reports/{rid}/retract", json={"reason": "重复上报"}, headers=users["cmd"]
    )
    assert r.status_code == 200 and r.json()["status"] == "retracted"
    assert _agg_people(ctx) == 0
    kept = client.get(f"/api/reports/{rid}", headers=users["li"]).json()
    assert kept["status"] == "retracted" and kept["people"] == 12
    again = client.post(f"/api/reports/{rid}/retract", json={"reason": "x"}, headers=users["cmd"])
    assert again.status_code == 409
    # The phone resending its original report learns it arrived and sees the current state.
    resend = client.post(
        "/api/reports", json={k: report[k] for k in new_report()}, headers=users["li"]
    )
    assert resend.status_code == 200 and resend.json()["status"] == "retracted"


def test_audit_log_who_when_what_why(client, users, report):
    rid = report["id"]
    client.patch(
        f"/api/reports/{rid}", json={"people": 15, "reason": "复核"}, headers=users["staff"]
    )
    client.patch(
        f"/api/reports/{rid}", json={"note": "更正备注", "reason": "补充"}, headers=users["cmd"]
    )
    client.post(f"/api/reports/{rid}/retract", json={"reason": "误报"}, headers=users["cmd"])
    r = client.get(f"/api/reports/{rid}/audit", headers=users["staff"])
    assert r.status_code == 200
    entries = r.json()["entries"]
    assert [(e["action"], e["actor"], e["reason"]) for e in entries] == [
        ("create", "li", None),
        ("correct", "staff", "复核"),
        ("correct", "cmd", "补充"),
        ("retract", "cmd", "误报"),
    ]
    assert entries[1]["changed"] == {"people": {"from": 12, "to": 15}}
    assert entries[2]["changed"] == {"note": {"from": "转移群众", "to": "更正备注"}}
    assert entries[3]["changed"] == {"status": {"from": "active", "to": "retracted"}}
    assert all(e["at"].endswith("Z") for e in entries)
    assert [e["report"]["version"] for e in entries] == [1, 2, 3, 4]
    assert (
        client.get(f"/api/reports/{new_report()['id']}/audit", headers=users["cmd"]).status_code
        == 404
    )


def test_help_request_correction_keeps_lifecycle(client, ctx, users):
    body = new_report(kind="help_request", urgency="urgent", contact="138")
    client.post("/api/reports", json=body, headers=users["li"])
    ctx.store.modify_report(
        body["id"],
        lambda r: {**r, "state": "assigned", "assignee": "队一"},
        actor="cmd",
        action="assign",
        reason=None,
    )
    r = client.patch(
        f"/api/reports/{body['id']}", json={"people": 5, "reason": "r"}, headers=users["cmd"]
    )
    new = r.json()
    assert (new["state"], new["assignee"], new["urgency"], new["people"]) == (
        "assigned",
        "队一",
        "urgent",
        5,
    )
