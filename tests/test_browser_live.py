"""The live map in real Chromium: a report posted through the API shows up without a reload."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.live_support import add_server_user, bearer_for, sign_in

# Fixtures: server_factory, live_server, browser, offline_page (see tests/browser_support.py).
pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser
INSIDE = (110.15, 26.6)


def report(**fields):
    body = {"id": str(uuid.uuid4()), "kind": "evacuation", "occurred_at": "2017-07-01T10:00:00+08:00",
            "lon": INSIDE[0], "lat": INSIDE[1], "people": 37, "note": "转移"}  # fmt: skip
    body.update(fields)
    return body


def total(page, key):
    return page.locator(f'[data-total="{key}"]').inner_text()


def test_report_appears_without_reload(live_server, offline_page):
    add_server_user(live_server, "staff1", "staff")
    add_server_user(live_server, "field1", "field")
    page = offline_page
    sign_in(page, live_server, "staff1")
    page.wait_ready()
    page.wait_for_selector('#fp-link[data-state="up"]', timeout=10_000)
    assert total(page, "evacuated") == "0"
    page.evaluate("window.__marker = 1")  # survives only if the page is never reloaded

    h = bearer_for(live_server, "field1")
    evac = report()
    assert httpx.post(live_server.url + "/api/reports", json=evac, headers=h).status_code == 201
    page.wait_for_selector(f'#fp-feed li[data-id="{evac["id"]}"]', timeout=3000)
    page.wait_for_function("() => document.querySelector('[data-total=evacuated]').textContent === '37'",
                           timeout=3000)  # fmt: skip

    help_req = report(kind="help_request", people=4, urgency="critical", note="二楼被困")
    assert httpx.post(live_server.url + "/api/reports", json=help_req, headers=h).status_code == 201
    page.wait_for_selector(f'#fp-feed li[data-id="{help_req["id"]}"]', timeout=3000)
    page.wait_for_function("() => document.querySelector('[data-total=open_help_requests]').textContent === '1'",
                           timeout=3000)  # fmt: skip
    assert page.evaluate(f"!!window.floodpost.live.markers['{help_req['id']}']")

    # Drive the lifecycle from the popup: assign (to the zone owner), then resolve as rescued 4.
    page.evaluate(f"window.floodpost.live.markers['{help_req['id']}'].openPopup()")
    page.click(".leaflet-popup .fp-act-assign")
    page.wait_for_function(
        f"() => window.floodpost.live.requests['{help_req['id']}'].state === 'assigned'",
        timeout=3000,
    )
    page.evaluate(f"window.floodpost.live.markers['{help_req['id']}'].openPopup()")
    page.fill(".leaflet-popup .fp-act-n", "4")
    page.click(".leaflet-popup .fp-act-rescued")
    page.wait_for_function("() => document.querySelector('[data-total=open_help_requests]').textContent === '0'",
                           timeout=3000)  # fmt: skip
    page.wait_for_function("() => document.querySelector('[data-total=rescued]').textContent === '4'",
                           timeout=6000)  # fmt: skip
    got = httpx.get(
        f"{live_server.url}/api/reports/{help_req['id']}", headers=bearer_for(live_server, "staff1")
    )
    assert got.json()["state"] == "resolved" and got.json()["rescued"] == 4

    # The feed filters by kind and flies the map to a report.
    page.select_option("#fp-feed-kind", "evacuation")
    page.wait_for_function(
        "() => document.querySelectorAll('#fp-feed li').length === 1", timeout=3000
    )
    page.click(f'#fp-feed li[data-id="{evac["id"]}"]')
    page.wait_for_function("() => window.floodpost.commandPost.map.getZoom() >= 14", timeout=5000)
    assert page.evaluate("window.__marker") == 1
    assert page.page_errors == [] and page.blocked == []


def test_link_down_shows_and_catches_up(live_server, offline_page):
    add_server_user(live_server, "view1", "viewer")
    add_server_user(live_server, "staff2", "staff")
    page = offline_page
    sign_in(page, live_server, "view1")
    page.wait_ready()
    page.wait_for_selector('#fp-link[data-state="up"]', timeout=10_000)
    # Cut the stream: the page shows it, and reports made meanwhile arrive after reconnecting.
    page.evaluate("window.floodpost.live.source.close(); window.floodpost.live.source.onerror()")
    page.wait_for_selector('#fp-link[data-state="down"]', timeout=3000)
    missed = report(people=5)
    h = bearer_for(live_server, "staff2")
    assert httpx.post(live_server.url + "/api/reports", json=missed, headers=h).status_code == 201
    page.evaluate("window.floodpost.live.reconnect()")
    page.wait_for_selector(f'#fp-feed li[data-id="{missed["id"]}"]', timeout=5000)
    page.wait_for_selector('#fp-link[data-state="up"]', timeout=5000)


def test_signed_out_visitor_lands_on_sign_in(live_server, offline_page):
    offline_page.goto(live_server.url + "/")
    assert "/login" in offline_page.url
    assert offline_page.locator("input[name=username]").is_visible()
    assert offline_page.console_errors == [] and offline_page.page_errors == []
