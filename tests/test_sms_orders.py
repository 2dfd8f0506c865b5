"""收到 and 户 by SMS (#11): acknowledged and marked as the account whose phone sent them, with the
authorisation of POST /api/orders/{id}/ack and POST /api/rollcall/{id}; once, however often gammu
hands the message over; an unknown phone is answered and makes nothing. Both backends, and end
to end through the real gammu-smsd."""

from __future__ import annotations

import json
import shlex
import sys
from datetime import UTC, datetime

import pytest

from floodpost.geo.routing import ReportRouter
from floodpost.orders.households import parse_roster
from floodpost.orders.rollcall import import_households
from floodpost.orders.service import Actor, OrderBook
from floodpost.orders.zones import zone_lookup
from floodpost.reports.stored import LOCAL_TZ
from floodpost.sms import messages
from floodpost.sms.gammu_env import IncomingSms
from floodpost.sms.places import Gazetteer
from floodpost.sms.receive import handle_sms
from floodpost.sms.texts import sms_text
from floodpost.storage import open_store
from tests.gammu_support import GammuSmsd, register_phone
from tests.test_sms_receive import _floodpost_env

ORDER_ID = "0b5d2c1e-0000-4000-8000-0000000000a1"
FIELD, OTHER, STRANGER = "+8613912340001", "+8613912340002", "+8613912349999"
AT = datetime(2026, 7, 4, 8, 30, tzinfo=LOCAL_TZ)
NOW = datetime(2026, 7, 4, 1, 0, tzinfo=UTC)


def _zones(catalogue):
    (z1, a), (z2, _) = list(catalogue.records("zones").items())[:2]
    return z1, z2, a["village_codes"][0]


def _setup(store, catalogue):
    """An order for a village of zone 1, a household there, its field member and another's."""
    z1, z2, village = _zones(catalogue)
    zone_of = zone_lookup(catalogue)
    book = OrderBook(store, catalogue, zone_of=zone_of, clock=lambda: 1.0)
    register_phone(store, "li", FIELD, zones=[z1])
    register_phone(store, "wu", OTHER, zones=[z2])
    book.issue(
        {"id": ORDER_ID, "level": "evacuate", "villages": [village], "message": "立即转移"},
        actor="cmd",
    )
    roster = parse_roster(
        f"户编号,村代码,户主,人数\nH0001,{village},甲,3\n".encode(),
        "r.csv",
        catalogue.villages_by_code,
    )
    import_households(store, roster, zone_of=zone_of, actor="t")
    return book, village


def _sms(number: str, text: str) -> IncomingSms:
    return IncomingSms(number, text, (text,), AT)


def test_ack_and_household_by_sms_once_on_each_backend(store, catalogue):
    book, village = _setup(store, catalogue)
    kw = {
        "store": store,
        "router": ReportRouter(catalogue),
        "places": Gazetteer.from_catalogue(catalogue),
        "sender": None,
        "now": NOW,
        "book": book,
    }
    ack = handle_sms(_sms(FIELD, f"收到 {ORDER_ID[:8]}"), **kw)
    assert (ack.status, ack.actor, ack.link) == (
        "acknowledged",
        "li",
        {"entity": "order", "id": ORDER_ID},
    )
    assert ack.reply == sms_text("sms.reply.acknowledged", short_id=ORDER_ID[:8])
    order = book.get(ORDER_ID, Actor("c", "commander"))
    assert order["acknowledged"] == 1
    assert handle_sms(_sms(FIELD, f"收到 {ORDER_ID[:8]}"), **kw).status == "duplicate"
    acks = [c for c in store.changes_after(0, 1000) if (c.entity, c.action) == ("order", "ack")]
    assert [c.actor for c in acks] == ["li"]

    # Another zone's member may not acknowledge it: refused, with the reason by SMS.
    other = handle_sms(_sms(OTHER, f"收到 {ORDER_ID[:8]}"), **kw)
    assert other.status == "refused" and other.reply == sms_text("sms.reply.order_forbidden")
    missing = handle_sms(_sms(FIELD, "收到 ffffff99"), **kw)
    assert missing.status == "refused" and missing.reply == sms_text("sms.reply.order_not_found")

    marked = handle_sms(_sms(FIELD, "户 H0001 已转移"), **kw)
    assert (marked.status, marked.link) == ("marked", {"entity": "household", "id": "H0001"})
    [row] = store.read("SELECT status, status_by FROM households WHERE id = ?", ["H0001"])
    assert (row["status"], row["status_by"]) == ("evacuated", "li")
    refused = handle_sms(_sms(OTHER, "户 H0001 安全"), **kw)
    assert refused.status == "refused"
    assert refused.reply == sms_text("sms.reply.household_forbidden")
    assert store.read("SELECT status FROM households WHERE id = ?", ["H0001"])[0]["status"] == (
        "evacuated"
    )

    # An unknown phone: kept for staff, answered, nothing acknowledged or reported.
    unknown = handle_sms(_sms(STRANGER, "转移 长铺示例村01 3"), **kw)
    assert unknown.status == "unknown_sender" and unknown.actor is None
    assert unknown.reply == sms_text("sms.reply.unknown_sender")
    assert store.list_reports(limit=10)[0] == []
    kept = messages.find(store, unknown.key)
    assert kept is not None and kept["status"] == "unknown_sender"


@pytest.mark.slow
def test_ack_mark_and_an_unknown_phone_through_gammu(tmp_path, store_url, catalogue):
    url = store_url
    store = open_store(url)
    try:
        _setup(store, catalogue)
    finally:
        store.close()
    command = f"{sys.executable} -m floodpost sms receive --db {shlex.quote(url)}"
    gammu = GammuSmsd(tmp_path / "gammu", run_on_receive=command, env={})
    gammu.env.update(_floodpost_env(gammu.config))
    with gammu:
        gammu.deliver(FIELD, f"收到 {ORDER_ID[:8].upper()}", sent=AT)
        gammu.wait_for_runs(1)
        gammu.deliver(FIELD, f"收到 {ORDER_ID[:8].upper()}", sent=AT)  # gammu again
        gammu.wait_for_runs(2)
        gammu.deliver(FIELD, "户 H0001 已转移", sent=AT)
        gammu.wait_for_runs(3)
        gammu.deliver(STRANGER, "营救 长铺示例村01 2", sent=AT)
        gammu.wait_for_runs(4)
        sent = gammu.wait_for(
            lambda: sorted(gammu.sent_messages()) if len(gammu.sent_messages()) == 3 else None,
            what="three replies",
        )
    assert gammu.runs() == ["finished successfully"] * 4
    outcomes = [json.loads(line) for line in gammu.subprocess_output() if line.startswith("{")]
    assert [o["status"] for o in outcomes] == [
        "acknowledged",
        "duplicate",
        "marked",
        "unknown_sender",
    ]
    assert sent == sorted(
        [
            (FIELD, sms_text("sms.reply.acknowledged", short_id=ORDER_ID[:8])),
            (FIELD, sms_text("sms.reply.marked", household="H0001", status="已转移")),
            (STRANGER, sms_text("sms.reply.unknown_sender")),
        ]
    )
    store = open_store(url)
    try:
        assert store.list_reports(limit=10)[0] == []
        acks = store.read("SELECT user_name FROM order_acks WHERE order_id = ?", [ORDER_ID])
        assert [a["user_name"] for a in acks] == ["li"]
        [row] = store.read("SELECT status, status_by FROM households WHERE id = ?", ["H0001"])
        assert (row["status"], row["status_by"]) == ("evacuated", "li")
    finally:
        store.close()
