"""Every SMS is kept (sms_messages, migration 7) and logged as entity "sms", on both backends:
once per message, with what it became and its reply; sends are once per key; queued sends are
followed to "sent" through gammu's folders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from floodpost.geo.routing import ReportRouter
from floodpost.reports.stored import LOCAL_TZ
from floodpost.sms import messages
from floodpost.sms.gammu_config import GammuConfig
from floodpost.sms.gammu_env import IncomingSms
from floodpost.sms.outgoing import SmsSender
from floodpost.sms.places import Gazetteer
from floodpost.sms.receive import handle_sms
from tests.gammu_support import GAMMU_INJECT, GammuSmsd, register_phone

NUMBER = "+8613912345678"
AT = datetime(2026, 7, 4, 8, 30, tzinfo=LOCAL_TZ)
NOW = datetime(2026, 7, 4, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def handler_kw(catalogue):
    return {"places": Gazetteer.from_catalogue(catalogue), "router": ReportRouter(catalogue)}


def _sms(text: str, number: str = NUMBER) -> IncomingSms:
    return IncomingSms(number, text, (text,), AT, ("IN20260704_083000_00_x_00.txt",))


def _sms_changes(store) -> list:
    return [c for c in store.changes_after(0, 1000) if c.entity == "sms"]


def test_every_message_is_kept_once_with_what_it_became(store, handler_kw, tmp_path):
    register_phone(store, "li", NUMBER)
    register_phone(store, "zhao", "13800000002")  # stored without +86: the same phone
    demo = SmsSender(GAMMU_INJECT, tmp_path / "smsdrc", enabled=False)
    kw = {**handler_kw, "store": store, "sender": demo, "now": NOW}
    report = handle_sms(_sms("转移 长铺示例村01 35"), **kw)
    nonsense = handle_sms(_sms("今天雨好大", "+8613800000002"), **kw)
    ack = handle_sms(_sms("收到 A1B2"), **kw)
    assert [o.status for o in (report, nonsense, ack)] == ["created", "unparsed", "pending_orders"]

    kept = messages.find(store, report.key)
    assert kept is not None
    assert (kept["direction"], kept["status"], kept["command"]) == ("in", "created", "Evacuate")
    assert kept["report_id"] == report.report_id and kept["phone"] == "13912345678"
    assert kept["text"] == "转移 长铺示例村01 35" and kept["sent_ts"] == AT.timestamp()
    assert kept["gateway_ids"] == ["IN20260704_083000_00_x_00.txt"]

    # The unreadable one is kept for staff, with the reply (not sent: demo mode).
    reply = messages.find(store, messages.reply_id(nonsense.key))
    assert reply is not None
    assert (reply["direction"], reply["status"], reply["in_reply_to"]) == (
        "out",
        "skipped",
        nonsense.key,
    )
    assert reply["text"] == nonsense.reply and reply["number"] == "+8613800000002"

    # Handed over again: nothing new, not answered again.
    again = handle_sms(_sms("今天雨好大", "+8613800000002"), **kw)
    assert again.status == "duplicate" and again.sent is None
    listed = messages.recent(store)
    assert len(listed) == 4  # three in, one reply
    assert {m["status"] for m in listed} == {"created", "unparsed", "pending_orders", "skipped"}

    changes = _sms_changes(store)
    assert [(c.action, c.entity_id) for c in changes] == [
        ("received", report.key),
        ("received", nonsense.key),
        ("queued", messages.reply_id(nonsense.key)),
        ("received", ack.key),
    ]
    assert changes[0].report["text"] == "转移 长铺示例村01 35"
    assert changes[0].actor == "li"  # the account whose phone sent it


def test_a_send_happens_once_per_key_and_is_followed_to_sent(store, tmp_path):
    gammu = GammuSmsd(tmp_path / "g", env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    sender = SmsSender(GAMMU_INJECT, gammu.config)
    text = "【县防指】立即转移指令A1B2：长铺示例村01群众转移至示例安置点01。回复“收到 A1B2”确认。"
    first = messages.send(store, sender, NUMBER, text, key="order:A1B2:13912345678")
    second = messages.send(store, sender, NUMBER, text, key="order:A1B2:13912345678")
    assert first["status"] == "queued" and second == {**first, "at_ts": second["at_ts"]}
    assert len(gammu.outbox_messages()) == 1  # sent once

    config = GammuConfig.read(gammu.config)
    assert messages.follow_sent(store, config) == 0  # still in the outbox
    with gammu:
        gammu.wait_for(gammu.sent_messages, what="sent")
    assert messages.follow_sent(store, config) == 1
    assert messages.find(store, first["id"])["status"] == "sent"
    assert [c.action for c in _sms_changes(store)] == ["queued", "sent"]


def test_a_failed_send_is_kept_and_tried_again_with_the_same_key(store, tmp_path):
    broken = SmsSender(str(tmp_path / "no-inject"), None)
    failed = messages.send(store, broken, NUMBER, "测试", key="warning:W1:13912345678")
    assert failed["status"] == "failed" and "no-inject" in failed["detail"]
    gammu = GammuSmsd(tmp_path / "g", env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    retried = messages.send(
        store, SmsSender(GAMMU_INJECT, gammu.config), NUMBER, "测试", key="warning:W1:13912345678"
    )
    assert retried["id"] == failed["id"] and retried["status"] == "queued"
    assert gammu.outbox_messages() == [(NUMBER, "测试")]
    assert [c.action for c in _sms_changes(store)] == ["failed", "queued"]


def test_sms_events_reach_staff_and_commanders_only(store_url, settings, catalogue, handler_kw):
    """`event: sms` on /api/events carries phone numbers: staff see it, field and viewer not."""
    import httpx

    from floodpost.storage import open_store
    from floodpost.web.app import create_app
    from tests.live_support import ThreadServer, read_events
    from tests.reports_support import add_user

    store = open_store(store_url)
    try:
        app = create_app(settings, store=store, catalogue=catalogue)
        for name, role in (("staff", "staff"), ("f1", "field"), ("view", "viewer")):
            add_user(store, name, role)
        out = handle_sms(_sms("今天雨好大"), store=store, sender=None, now=NOW, **handler_kw)
        store.transact(lambda tx: tx.log("warning", "w-1", "issue", {"id": "w-1"}, actor="hydro"))
        with ThreadServer(app) as srv:
            seen = {}
            for who in ("staff", "f1", "view"):
                token = httpx.post(
                    srv.url + "/api/auth/token",
                    data={"username": who, "password": "correct-horse-1"},
                ).json()["access_token"]
                url = f"{srv.url}/api/events?after=0"
                headers = {"Authorization": f"Bearer {token}"}
                with httpx.Client(timeout=10) as c, c.stream("GET", url, headers=headers) as r:
                    seen[who] = [e["event"] for e in read_events(r, 1)]
    finally:
        store.close()
    assert seen == {"staff": ["sms"], "f1": ["warning"], "view": ["warning"]}
    assert out.status == "unknown_sender"  # kept for staff all the same
