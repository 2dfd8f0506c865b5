"""The Atom index of CAP alerts: newest first, each entry linking its /cap URL."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from floodpost.orders.cap import ATOM_NS, CAP_MEDIA_TYPE, CapSender, alerts_atom, cap_areas

NS = {"a": ATOM_NS}


def test_feed_is_newest_first_and_links_each_cap(catalogue):
    areas = cap_areas(catalogue)
    sender = CapSender.for_county("430527", "绥宁县", "Suining County")
    codes = list(catalogue.villages_by_code)
    orders = [
        {
            "id": f"00000000-0000-4000-8000-00000000000{i}",
            "level": "prepare",
            "villages": codes[i : i + 2],
            "message": f"m{i} <b>",
            "issued_ts": 1498262400.0 + i * 60,
            "status": "open",
        }
        for i in range(3)
    ]
    orders[0].update(status="cancelled", cancelled_ts=1498262400.0 + 3600)
    feed = ET.fromstring(
        alerts_atom(orders, areas, sender, base_url="https://cp.example/", now_ts=0)
    )
    assert feed.tag == f"{{{ATOM_NS}}}feed"
    entries = feed.findall("a:entry", NS)
    assert [e.findtext("a:summary", namespaces=NS) for e in entries] == [
        "m2 <b>",
        "m1 <b>",
        "m0 <b>",
    ]
    for e, o in zip(entries, orders[::-1], strict=True):
        link = e.find("a:link", NS)
        assert link.get("type") == CAP_MEDIA_TYPE
        assert link.get("href") == f"https://cp.example/api/orders/{o['id']}/cap"
        assert e.findtext("a:id", namespaces=NS) == f"urn:uuid:{o['id']}"
    assert "解除" in entries[2].findtext("a:title", namespaces=NS)
    assert feed.findtext("a:updated", namespaces=NS) == "2017-06-24T09:00:00+08:00"
    empty = ET.fromstring(alerts_atom([], areas, sender, base_url="http://x", now_ts=0))
    assert empty.findall("a:entry", NS) == []
