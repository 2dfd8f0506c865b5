"""Hostile report text stays text on the live map: feed, popups and tooltips run no script."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.live_support import add_server_user, bearer_for, sign_in

# Fixtures: server_factory, live_server, browser, offline_page (see tests/browser_support.py).
pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

PAYLOADS = [
    '<img src=x onerror="window.__xss=1;alert(1)">',
    "${window.__xss=2}${alert(2)}",
    "</script><script>window.__xss=3;alert(3)</script>",
    '"><svg onload="window.__xss=4">',
    "{{7*7}}<b>bold</b>",
]


def test_hostile_text_is_shown_as_text(live_server, offline_page):
    add_server_user(live_server, "staff1", "staff")
    add_server_user(live_server, "field1", "field")
    h = bearer_for(live_server, "field1")
    ids = []
    for i, payload in enumerate(PAYLOADS):
        body = {
            "id": str(uuid.uuid4()), "kind": "help_request",
            "occurred_at": "2017-07-01T10:00:00+08:00",
            "lon": 110.15 + i * 0.01, "lat": 26.6, "people": 2, "note": payload,
            "contact": payload[:120], "urgency": "critical",
        }  # fmt: skip
        assert httpx.post(live_server.url + "/api/reports", json=body, headers=h).status_code == 201
        ids.append(body["id"])
    rescue = {"id": str(uuid.uuid4()), "kind": "rescue", "occurred_at": "2017-07-01T10:00:00+08:00",
              "lon": 110.2, "lat": 26.62, "people": 3, "note": PAYLOADS[0], "team": PAYLOADS[2][:120]}  # fmt: skip
    assert httpx.post(live_server.url + "/api/reports", json=rescue, headers=h).status_code == 201

    page = offline_page
    page.add_init_script(
        "window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };"
    )
    sign_in(page, live_server, "staff1")
    page.wait_ready()
    # One more hostile report arrives over the stream, after the page loaded.
    late = {"id": str(uuid.uuid4()), "kind": "incident", "occurred_at": "2017-07-01T11:00:00+08:00",
            "lon": 110.3, "lat": 26.7, "people": 0, "subtype": "landslide", "note": PAYLOADS[1]}  # fmt: skip
    assert httpx.post(live_server.url + "/api/reports", json=late, headers=h).status_code == 201
    page.wait_for_selector(f'#fp-feed li[data-id="{late["id"]}"]', timeout=5000)

    feed_text = page.locator("#fp-feed").inner_text()
    for payload in PAYLOADS:
        assert payload[:60] in feed_text  # shown literally
    # Open every help-request popup (note, contact in a table) and hover the rescue tooltip.
    for rid in ids:
        page.evaluate(f"window.floodpost.live.markers['{rid}'].openPopup()")
        popup = page.locator(".leaflet-popup-content").inner_text()
        assert PAYLOADS[ids.index(rid)][:60] in popup
    page.evaluate(
        "window.floodpost.live && Object.values(window.floodpost.live.markers)"
        ".forEach(function (m) { m.openTooltip && m.openTooltip(); })"
    )
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("window.__alerts") == []
    assert page.locator("#fp-feed img, #fp-feed svg, #fp-feed b, .leaflet-popup img").count() == 0
    assert page.page_errors == []
