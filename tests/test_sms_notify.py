"""Orders and warnings texted to the zones' responsible members (#11): an order issued over HTTP
reaches the real gammu-smsd's outbox and sent/, one send per member, followed to "sent"; a
commander's extra numbers; a restart sends nothing again; demo mode sends nothing; warnings once
per level; GET /api/sms for staff only."""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import datetime

from fastapi.testclient import TestClient

from floodpost.auth.accounts import create_account
from floodpost.orders.service import OrderBook
from floodpost.orders.zones import zone_lookup
from floodpost.reports.stored import LOCAL_TZ
from floodpost.settings import Settings
from floodpost.sms.gammu_env import IncomingSms
from floodpost.sms.notify import Notifier
from floodpost.sms.outgoing import UCS2_LIMIT, SmsSender, units
from floodpost.sms.places import Gazetteer
from floodpost.sms.receive import handle_sms
from floodpost.storage import open_store
from floodpost.web.app import create_app
from tests.gammu_support import GAMMU_INJECT, GammuSmsd, register_phone

A, B, C, D = "+8613912340001", "+8613912340002", "+8613912340003", "+8613912340004"
PASSWORD = "a long enough password"


def _settings(url: str, gammu: GammuSmsd, **extra) -> Settings:
    return Settings(
        db_url=url,
        secret_key=secrets.token_urlsafe(32),
        tile_url="",
        sms_gammu_config=gammu.config,
        sms_inject_path=GAMMU_INJECT,
        **extra,
    )


def _people(store, catalogue) -> str:
    """li and wu answer for zone 1 (wu's phone typed without +86), zhao for zone 2, and a zone 1
    member without a phone; returns a village of zone 1."""
    (z1, a), (z2, _) = list(catalogue.records("zones").items())[:2]
    register_phone(store, "li", A, zones=[z1])
    register_phone(store, "wu", B[3:], zones=[z1])
    register_phone(store, "zhao", C, zones=[z2])
    create_account(store, "cmd", "commander", PASSWORD)
    create_account(store, "staff", "staff", PASSWORD)
    create_account(store, "f9", "field", PASSWORD)
    return a["village_codes"][0]


def _token(c: TestClient, name: str) -> dict[str, str]:
    r = c.post("/api/auth/token", data={"username": name, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _out_rows(store) -> list[dict]:
    return store.read(
        "SELECT number, status, text FROM sms_messages WHERE direction = 'out' ORDER BY number"
    )


def test_an_order_over_http_is_texted_once_per_member_through_gammu(tmp_path, store_url, catalogue):
    gammu = GammuSmsd(tmp_path / "gammu", env={})
    store = open_store(store_url)
    try:
        village = _people(store, catalogue)
        settings = _settings(store_url, gammu)
        order_id = str(uuid.uuid4())
        with gammu, TestClient(create_app(settings, store=store, catalogue=catalogue)) as c:
            body = {"id": order_id, "level": "evacuate", "villages": [village], "message": "速撤"}
            assert c.post("/api/orders", json=body, headers=_token(c, "cmd")).status_code == 201

            def both_sent():
                rows = _out_rows(store)
                return rows if [r["status"] for r in rows] == ["sent", "sent"] else None

            rows = gammu.wait_for(both_sent, timeout=60, what="two sends followed to sent")
            assert [r["number"] for r in rows] == [A, B[3:]]
            sent = gammu.sent_messages()
            assert {n for n, _ in sent} == {A, B[3:]}  # zone 2's member gets nothing
            assert all(units(t) <= UCS2_LIMIT for _, t in sent)
            assert f"收到 {order_id[:8]}" in "".join(t for n, t in sent if n == A)

            # A commander's extra number, once however often it is named.
            r = c.post(
                f"/api/orders/{order_id}/notify",
                json={"numbers": [D, D]},
                headers=_token(c, "cmd"),
            )
            assert r.status_code == 200 and [s["status"] for s in r.json()["sent"]] == ["queued"]
            again = c.post(
                f"/api/orders/{order_id}/notify", json={"numbers": [D]}, headers=_token(c, "cmd")
            )
            assert [s["status"] for s in again.json()["sent"]] != ["failed"]
            bad = c.post(
                f"/api/orders/{order_id}/notify",
                json={"numbers": ["call me"]},
                headers=_token(c, "cmd"),
            )
            assert bad.status_code == 422 and "numbers[0]" in bad.text
            staff = c.post(
                f"/api/orders/{order_id}/notify", json={"numbers": [D]}, headers=_token(c, "staff")
            )
            assert staff.status_code == 403
            gammu.wait_for(lambda: len({n for n, _ in gammu.sent_messages()}) == 3, timeout=60)
            count = len(gammu.sent_messages()) + len(gammu.outbox_messages())

            # Restart: the app comes up again on the same store; nothing is sent twice.
            with TestClient(create_app(settings, store=store, catalogue=catalogue)) as c2:
                assert c2.get("/healthz").status_code == 200
                time.sleep(5)  # two rounds of the notifier
            assert len(gammu.sent_messages()) + len(gammu.outbox_messages()) == count
            assert len(_out_rows(store)) == 3
    finally:
        store.close()


def test_demo_mode_sends_nothing_and_staff_read_the_messages(tmp_path, catalogue):
    gammu = GammuSmsd(tmp_path / "gammu", env={})  # folders only: the daemon is not started
    url = f"sqlite:///{tmp_path}/demo.db"
    store = open_store(url)
    try:
        village = _people(store, catalogue)
        settings = _settings(url, gammu, demo=True)
        with TestClient(create_app(settings, store=store, catalogue=catalogue)) as c:
            body = {"id": str(uuid.uuid4()), "level": "prepare", "villages": [village]}
            body["message"] = "准备转移"
            assert c.post("/api/orders", json=body, headers=_token(c, "cmd")).status_code == 201

            def two():
                rows = _out_rows(store)
                return rows if len(rows) == 2 else None

            rows = gammu.wait_for(two, timeout=30, what="two sends recorded")
            assert {r["status"] for r in rows} == {"skipped"}
            assert gammu.outbox_messages() == [] and gammu.sent_messages() == []

            # An unknown phone's text, kept for staff on the command post.
            sms = IncomingSms("+8613700000000", "水来了", ("水来了",), datetime.now(LOCAL_TZ))
            ctx = c.app.state.ctx  # type: ignore[attr-defined]
            handle_sms(
                sms,
                store=store,
                router=ctx.router,
                places=Gazetteer.from_catalogue(catalogue),
                sender=None,
                now=datetime.now(LOCAL_TZ),
            )
            r = c.get("/api/sms?unread=true", headers=_token(c, "staff"))
            assert r.status_code == 200
            [msg] = r.json()["messages"]
            assert (msg["status"], msg["text"], msg["link"]) == ("unknown_sender", "水来了", None)
            everything = c.get("/api/sms", headers=_token(c, "cmd")).json()["messages"]
            assert len(everything) == 3
            assert c.get("/api/sms", headers=_token(c, "f9")).status_code == 403
            assert c.get("/api/sms?limit=0", headers=_token(c, "staff")).status_code == 422
    finally:
        store.close()


def test_warnings_are_texted_once_per_level(store, catalogue, tmp_path):
    village = _people(store, catalogue)
    zone_of = zone_lookup(catalogue)
    book = OrderBook(store, catalogue, zone_of=zone_of, clock=time.time)
    demo = SmsSender(GAMMU_INJECT, None, enabled=False)
    notifier = Notifier(store, demo, lambda: book)
    warning = {
        "id": f"village-{village}-1",
        "name": "长铺示例村01",
        "villages": [village],
        "level": "prepare",
        "window_h": 3,
        "observed": 58.0,
        "station_name": "示例站",
    }

    def log(action: str, body: dict) -> None:
        store.transact(lambda tx: tx.log("warning", body["id"], action, body, actor="hydro"))

    log("raise", warning)  # before the notifier started: not sent
    notifier.follower.sync()
    assert notifier.run_once() == 0
    log("raise", {**warning, "id": f"village-{village}-2"})
    assert notifier.run_once() == 2
    log("rise", {**warning, "id": f"village-{village}-2", "level": "evacuate"})
    log("lift", {**warning, "id": f"village-{village}-2", "level": "evacuate"})
    assert notifier.run_once() == 2
    texts = [r["text"] for r in _out_rows(store)]
    assert len(texts) == 4 and any("立即转移" in t for t in texts)
    assert any("3小时雨量58.0毫米" in t for t in texts)
    # The same change fed again (a re-seeded follower): nothing new is stored or sent.
    notifier.apply(store.changes_after(0, 1000)[-2], None)
    notifier.run_once()
    assert len(_out_rows(store)) == 4


def test_the_map_shows_the_sms_panel_to_staff_and_commanders_only(client, bearer):
    for role, shown in (("staff", True), ("commander", True), ("field", False)):
        page = client.get("/", headers=bearer(role))
        assert page.status_code == 200
        assert ('id="cp-sms"' in page.text) is shown, role
        assert "/static/js/sms.js" in page.text
    assert "map.js.sms.status.unknown_sender" in client.get("/", headers=bearer("staff")).text
