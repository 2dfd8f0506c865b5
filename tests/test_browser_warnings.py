"""The warnings panel in real Chromium: a warning posted as gauge readings appears live, rises,
draws its chart, offers the evacuation-order hook, and a commander lifts it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

from tests.live_support import add_server_user, bearer_for, sign_in

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser
VILLAGE = "430527100201"  # low-lying demo village: prepare at 35 mm in 1 h, evacuate at 45


def _rain(station, ts, mm):
    when = datetime.fromtimestamp(ts, UTC).isoformat()
    return {"station": station, "time": when, "rain_mm": mm, "interval_h": 1}


def test_warning_panel_follows_the_stream(live_server, offline_page, catalogue):
    gauge = catalogue.village(VILLAGE)["rain_station"]
    add_server_user(live_server, "cmd", "commander")
    add_server_user(live_server, "gw", "gauge")
    page = offline_page
    sign_in(page, live_server, "cmd")
    page.wait_ready()
    page.wait_for_selector('#cp-warnings[data-loaded="1"]', timeout=10_000)
    page.wait_for_selector('#fp-link[data-state="up"]', timeout=10_000)
    assert page.locator("#fp-warn-count").inner_text() == "0"
    # every gauge on the map (all silent: nothing reported yet)
    assert page.evaluate("window.floodpost.warnings.gauges.getLayers().length") == len(
        catalogue.records("stations")
    )
    assert page.locator("#fp-warn-empty").is_visible()

    h = bearer_for(live_server, "gw")
    hour = int(time.time() // 3600) * 3600
    first = httpx.post(
        live_server.url + "/api/readings",
        json={"readings": [_rain(gauge, hour - 3600, 36.0)]},
        headers=h,
    )
    assert first.status_code == 200, first.text
    wid = next(w for w in first.json()["warnings"] if VILLAGE in w)
    item = f'#fp-warn-list li[data-id="{wid}"]'
    page.wait_for_selector(f'{item}[data-level="prepare"]', timeout=3000)
    assert page.locator(f"{item} .fp-warn-windows tr").count() == 5  # header + 1/3/6/24 h
    # orders.js provides window.floodpost.orders.openDialog, so the button is live.
    assert page.locator(f"{item} .fp-warn-order").is_enabled()
    assert page.evaluate("document.querySelectorAll('.leaflet-fpWarn-pane path').length") >= 1

    # The button hands the warning's villages and id to the order dialog (watched here).
    page.evaluate(
        "() => { const o = window.floodpost.orders; o.calls = [];"
        " o.openDialog = function (v, w) { o.calls.push([v, w]); }; }"
    )
    second = httpx.post(
        live_server.url + "/api/readings", json={"readings": [_rain(gauge, hour, 46.0)]}, headers=h
    )
    assert wid in second.json()["warnings"]
    page.wait_for_selector(f'{item}[data-level="evacuate"]', timeout=3000)
    page.click(f"{item} .fp-warn-order")
    assert page.evaluate("window.floodpost.orders.calls") == [[[VILLAGE], [wid]]]

    page.click(f"{item} .fp-warn-chart-btn")
    page.wait_for_function(  # a function, not a string: the page's CSP forbids eval
        "() => Number(document.getElementById('fp-warn-chart').dataset.points) === 2",
        timeout=5000,
    )

    page.click(f"{item} .fp-warn-lift-btn")
    page.fill(f"{item} .fp-warn-lift input", "雨停 <b>解除</b>")
    page.click(f"{item} .fp-warn-lift-confirm")
    page.wait_for_selector(item, state="detached", timeout=5000)
    got = httpx.get(
        f"{live_server.url}/api/warnings/{wid}", headers=bearer_for(live_server, "cmd")
    ).json()
    assert got["active"] is False and got["lift_reason"] == "雨停 <b>解除</b>"
    assert page.page_errors == [] and page.blocked == []
