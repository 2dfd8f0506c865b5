"""Orders, acknowledgements, CAP and roll-call over HTTP (in process, real SQLite store)."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import pytest

from floodpost.orders.households import parse_roster
from floodpost.orders.rollcall import import_households
from floodpost.orders.zones import set_contact, zone_lookup
from tests.reports_support import new_report, quick_user

ORDER_ID = "6f1c1e0e-3a55-4f55-9a0f-1b2c3d4e5f60"


@pytest.fixture
def ctx(app, client):
    return app.state.ctx


@pytest.fixture
def zones(catalogue):
    z = catalogue.records("zones")
    first, second = list(z)[:2]
    return {"mine": first, "other": second, "villages": z[first]["village_codes"],
            "other_villages": z[second]["village_codes"]}  # fmt: skip


@pytest.fixture
def users(ctx, zones):
    heads = {role: quick_user(ctx, f"{role}-1", role) for role in ("commander", "staff", "viewer")}
    heads["field"] = quick_user(ctx, "field-1", "field")
    heads["stranger"] = quick_user(ctx, "field-2", "field")
    set_contact(ctx.store, "field-1", zones=[zones["mine"]], phone="+8613800000001")
    set_contact(ctx.store, "field-2", zones=[zones["other"]], phone=None)
    return heads


def order(codes, **over):
    body = {"id": ORDER_ID, "level": "evacuate", "villages": codes, "message": "立即转移"}
    body.update(over)
    return body


def test_issue_resend_conflict_and_bad_input(client, users, zones):
    codes = zones["villages"][:2]
    r = client.post("/api/orders", json=order(codes), headers=users["commander"])
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["status"] == "open" and [v["code"] for v in o["villages"]] == codes
    assert o["population"] == sum(v["population"] for v in o["villages"]) > 0
    assert r.headers["location"] == f"/api/orders/{ORDER_ID}"
    again = client.post("/api/orders", json=order(codes[::-1]), headers=users["commander"])
    assert again.status_code == 200 and again.json()["issued_at"] == o["issued_at"]
    other = client.post(
        "/api/orders", json=order(codes, level="prepare"), headers=users["commander"]
    )
    assert other.status_code == 409 and other.json()["code"] == "id_conflict"
    for bad, field in [
        (order([], id=str(uuid.uuid4())), "villages"),
        (order(["430527999999"], id=str(uuid.uuid4())), "villages.0"),
        (order(["430528100201"], id=str(uuid.uuid4())), "villages.0"),
    ]:
        r = client.post("/api/orders", json=bad, headers=users["commander"])
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert (
        client.get("/api/orders", headers=users["commander"]).json()["orders"][0]["id"] == ORDER_ID
    )
    assert len(client.get("/api/orders", headers=users["commander"]).json()["orders"]) == 1
    for role in ("staff", "field", "viewer"):
        r = client.post("/api/orders", json=order(codes, id=str(uuid.uuid4())), headers=users[role])
        assert r.status_code == 403


def test_progress_counts_evacuations_since_the_order(client, users, zones, ctx):
    code = zones["villages"][0]
    before = new_report(village_code=code, people=7, occurred_at="2017-07-01T10:00:00+08:00")
    assert client.post("/api/reports", json=before, headers=users["staff"]).status_code == 201
    client.post("/api/orders", json=order([code]), headers=users["commander"])
    now = ctx.clock()
    from datetime import UTC, datetime

    later = datetime.fromtimestamp(now + 60, UTC).isoformat()
    r = client.post(
        "/api/reports", json=new_report(village_code=code, people=11, occurred_at=later),
        headers=users["staff"],
    )  # fmt: skip
    assert r.status_code == 201
    o = client.get(f"/api/orders/{ORDER_ID}", headers=users["viewer"]).json()
    assert o["evacuated"] == 11 and o["villages"][0]["evacuated"] == 11


def test_field_members_see_and_ack_only_their_zones(client, users, zones):
    client.post("/api/orders", json=order(zones["villages"][:2]), headers=users["commander"])
    mine = client.get("/api/orders", headers=users["field"]).json()["orders"]
    assert [o["id"] for o in mine] == [ORDER_ID]
    assert client.get("/api/orders", headers=users["stranger"]).json()["orders"] == []
    assert client.get(f"/api/orders/{ORDER_ID}", headers=users["stranger"]).status_code == 403
    assert client.post(f"/api/orders/{ORDER_ID}/ack", headers=users["stranger"]).status_code == 403
    assert client.post(f"/api/orders/{ORDER_ID}/ack", headers=users["viewer"]).status_code == 403
    r = client.post(f"/api/orders/{ORDER_ID}/ack", headers=users["field"])
    assert r.status_code == 200, r.text
    acks = [v["acknowledged_by"] for v in r.json()["villages"]]
    assert all(a and a[0]["user"] == "field-1" for a in acks)
    again = client.post(f"/api/orders/{ORDER_ID}/ack", headers=users["field"]).json()
    assert [v["acknowledged_by"] for v in again["villages"]] == acks
    assert again["acknowledged"] == 2
    assert again["first_ack_after_s"] is not None and again["all_ack_after_s"] is not None
    assert again["completed_after_s"] is None


def test_cancel_then_ack_is_refused_and_cap_is_a_cancel(client, users, zones):
    client.post("/api/orders", json=order(zones["villages"][:1]), headers=users["commander"])
    assert client.post(f"/api/orders/{ORDER_ID}/cancel", headers=users["staff"]).status_code == 403
    r = client.post(
        f"/api/orders/{ORDER_ID}/cancel", json={"reason": "雨停"}, headers=users["commander"]
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = client.post(f"/api/orders/{ORDER_ID}/ack", headers=users["field"])
    assert r.status_code == 409 and r.json()["code"] == "order_cancelled"
    cap = client.get(f"/api/orders/{ORDER_ID}/cap", headers=users["viewer"])
    assert cap.status_code == 200 and cap.headers["content-type"].startswith("application/cap+xml")
    root = ET.fromstring(cap.content)
    ns = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
    assert root.findtext("cap:msgType", namespaces=ns) == "Cancel"
    feed = client.get("/api/alerts.atom", headers=users["viewer"])
    assert feed.status_code == 200 and feed.headers["content-type"].startswith(
        "application/atom+xml"
    )
    assert f"/api/orders/{ORDER_ID}/cap" in feed.text
    assert client.get("/api/orders/nope/cap", headers=users["viewer"]).status_code == 404


@pytest.fixture
def roster(ctx, zones):
    v = zones["villages"][0]
    w = zones["other_villages"][0]
    text = (
        "village_code,head,people,phone,needs\n"
        f"{v},张三,4,13800000011,elderly\n{v},李四,2,13800000012,\n{w},王五,3,13800000013,\n"
    )
    hs = parse_roster(text.encode(), "r.csv", ctx.catalogue.villages_by_code)
    counts = import_households(
        ctx.store, hs, zone_of=zone_lookup(ctx.catalogue, ctx.router), actor="t"
    )
    assert counts == {"added": 3, "updated": 0, "unchanged": 0}
    assert import_households(ctx.store, hs, zone_of=zone_lookup(ctx.catalogue), actor="t") == {
        "added": 0, "updated": 0, "unchanged": 3}  # fmt: skip
    return {"village": v, "other": w, "ids": [h.id for h in hs]}


def test_rollcall_roles_and_marks_complete_an_order(client, users, roster, ctx):
    v = roster["village"]
    url = f"/api/rollcall?village={v}"
    full = client.get(url, headers=users["field"]).json()
    assert (full["people"], full["accounted"], full["unaccounted"]) == (6, 0, 6)
    assert [h["head"] for h in full["households"]] == ["张三", "李四"]  # elderly first
    assert full["households"][0]["phone"] == "13800000011"
    counts = client.get(url, headers=users["viewer"]).json()
    assert "households" not in counts and counts["people"] == 6
    assert client.get(url, headers=users["stranger"]).status_code == 403
    assert client.get("/api/rollcall?village=1", headers=users["staff"]).status_code == 422
    reads = [c for c in ctx.store.audit_log(v) if c.entity == "roster"]
    assert [c.actor for c in reads] == ["field-1"]

    client.post("/api/orders", json=order([v]), headers=users["commander"])
    a, b = (h["id"] for h in full["households"])
    other = roster["ids"][2]
    r = client.post(f"/api/rollcall/{other}", json={"status": "safe"}, headers=users["field"])
    assert r.status_code == 403
    r = client.post(f"/api/rollcall/{a}", json={"status": "bogus"}, headers=users["field"])
    assert r.status_code == 422 and r.json()["field"] == "status"
    r = client.post(
        f"/api/rollcall/{a}",
        json={"status": "evacuated", "note": "已到安置点"},
        headers=users["field"],
    )
    assert r.status_code == 200 and "head" not in r.json() and "phone" not in r.json()
    assert client.get(f"/api/orders/{ORDER_ID}", headers=users["staff"]).json()["status"] == "open"
    client.post(f"/api/rollcall/{b}", json={"status": "safe"}, headers=users["staff"])
    o = client.get(f"/api/orders/{ORDER_ID}", headers=users["staff"]).json()
    assert o["status"] == "completed" and o["completed_at"] and o["at_risk"] == 0
    assert client.get(url, headers=users["staff"]).json()["unaccounted"] == 0
    actions = [c.action for c in ctx.store.audit_log(ORDER_ID)]
    assert actions == ["issue", "complete"]
    marks = [c for c in ctx.store.audit_log(a) if c.entity == "household"]
    assert [c.action for c in marks] == ["evacuated"] and "head" not in marks[0].report


def test_evacuation_reports_complete_an_order_when_it_is_read(client, users, zones, ctx, catalogue):
    from datetime import UTC, datetime

    code = min(zones["villages"], key=lambda c: catalogue.village(c)["population"])
    population = catalogue.village(code)["population"]
    client.post("/api/orders", json=order([code]), headers=users["commander"])
    later = datetime.fromtimestamp(ctx.clock() + 60, UTC).isoformat()
    left = population
    while left > 0:
        n = min(left, 5000)
        r = client.post(
            "/api/reports",
            json=new_report(village_code=code, people=n, occurred_at=later),
            headers=users["staff"],
        )
        assert r.status_code == 201
        left -= n
    o = client.get("/api/orders", headers=users["viewer"]).json()["orders"][0]
    assert o["status"] == "completed" and o["completed_at"] and o["villages"][0]["done"]
    assert [c.action for c in ctx.store.audit_log(ORDER_ID)] == ["issue", "complete"]
    client.get(f"/api/orders/{ORDER_ID}", headers=users["viewer"])  # read again: logged once
    assert len(ctx.store.audit_log(ORDER_ID)) == 2


def test_roster_export_leaves_phones_out_unless_a_commander_asks(client, users, roster, ctx):
    v = roster["village"]
    r = client.get(f"/api/rollcall/export?village={v}", headers=users["staff"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    assert text.splitlines()[0].endswith("note") and "13800000011" not in text and "张三" in text
    assert (
        client.get(f"/api/rollcall/export?village={v}&phones=1", headers=users["staff"]).status_code
        == 403
    )
    full = client.get("/api/rollcall/export?phones=1", headers=users["commander"]).content.decode(
        "utf-8-sig"
    )
    assert (
        full.splitlines()[0].endswith("phone") and "13800000011" in full and "13800000013" in full
    )
    assert client.get("/api/rollcall/export", headers=users["field"]).status_code == 403
    exports = [c for c in ctx.store.audit_log("all") if c.entity == "roster"]
    assert [(c.action, c.actor) for c in exports] == [("export", "commander-1")]
