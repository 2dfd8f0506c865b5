"""Orders in real headless Chromium: a commander issues an order from villages picked on the map;
a field member acknowledges it (收到) offline, then online, and it reaches the server exactly once."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import uuid

import httpx
import pytest

from tests.browser_support import (  # noqa: F401 - fixtures
    browser,
    live_server,
    offline_page,
    open_offline_page,
    server_factory,
)
from tests.live_support import PASSWORD, bearer_for, sign_in

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 640}
TIMEOUT_MS = 20_000


def add_user(server, name, role, *extra):
    subprocess.run(
        [sys.executable, "-m", "floodpost", "user", "add", name, "--role", role,
         "--password", PASSWORD, "--db", server.db_url, *extra],
        check=True, capture_output=True, env=server.env,
    )  # fmt: skip


def db_rows(server, sql, params=()):
    conn = sqlite3.connect(server.db_url.removeprefix("sqlite:///"))
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_commander_issues_an_order_from_the_map(live_server, offline_page):  # noqa: F811
    add_user(live_server, "cmd", "commander")
    page = offline_page
    sign_in(page, live_server, "cmd")
    page.wait_ready()
    page.click("#fp-order-pick")
    # Two villages, clicked where they are drawn.
    codes = page.evaluate(
        """() => {
          const layers = window.floodpost.commandPost.layers.villages.getLayers().slice(0, 2);
          window.floodpost.commandPost.map.fitBounds(L.featureGroup(layers).getBounds(), {animate: false});
          return layers.map(l => l.feature.properties.code);
        }"""
    )
    for code in codes:
        point = page.evaluate(
            """code => {
              const map = window.floodpost.commandPost.map;
              const l = window.floodpost.commandPost.layers.villages.getLayers().find(x => x.feature.properties.code === code);
              const p = map.latLngToContainerPoint(l.getCenter());
              const box = map.getContainer().getBoundingClientRect();
              return {x: box.left + p.x, y: box.top + p.y};
            }""",
            code,
        )
        page.mouse.click(point["x"], point["y"])
    page.wait_for_function(
        "() => document.querySelector('#fp-order-picking').textContent.includes('2')"
    )
    page.click("#fp-order-new")
    page.wait_for_selector("#fp-order-dialog[open]")
    chips = page.eval_on_selector_all(
        "#fp-order-villages li", "els => els.map(e => e.dataset.code)"
    )
    assert sorted(chips) == sorted(codes)
    page.fill("#fp-order-message", "蓼水超保证水位 <b>立即转移</b>")
    page.click("#fp-order-submit")
    page.wait_for_selector("#fp-orders-list li[data-order]", timeout=TIMEOUT_MS)
    order_id = page.eval_on_selector("#fp-orders-list li[data-order]", "e => e.dataset.order")
    shown = page.inner_text(f'#fp-orders-list li[data-order="{order_id}"] .msg')
    assert shown == "蓼水超保证水位 <b>立即转移</b>"  # as text, never as markup
    got = httpx.get(
        f"{live_server.url}/api/orders/{order_id}", headers=bearer_for(live_server, "cmd")
    ).json()
    assert sorted(v["code"] for v in got["villages"]) == sorted(codes)
    assert got["level"] == "evacuate" and got["issued_by"] == "cmd"
    # Nobody evacuated yet: the villages' people count against 不死一人.
    assert got["at_risk"] == got["population"] > 0
    page.wait_for_selector(
        '[data-guarantee="nobody_dies"][data-status="at_risk"]', timeout=TIMEOUT_MS
    )
    assert str(got["at_risk"]) in page.inner_text("#fp-orders-risk")
    # /review lists it, with its still uncompleted villages.
    page.goto(live_server.url + "/review")
    row = f'#fp-review-orders tr[data-order="{order_id}"]'
    page.wait_for_selector(row, timeout=TIMEOUT_MS)
    cells = page.eval_on_selector_all(f"{row} td", "els => els.map(e => e.textContent)")
    assert cells[1] == "立即转移" and cells[2] == "2" and cells[5] == "—"
    assert all(v["name"] in cells[6] for v in got["villages"])
    assert page.page_errors == [] and page.blocked == []


def test_field_member_acknowledges_offline_then_online_exactly_once(live_server, browser):  # noqa: F811
    zones = json.loads(
        (
            __import__("floodpost.paths", fromlist=["x"]).default_geodata() / "zones.geojson"
        ).read_text()
    )
    zone = zones["features"][0]["properties"]
    add_user(live_server, "cmd", "commander")
    add_user(live_server, "cadre", "field", "--zone", zone["id"])
    order_id = str(uuid.uuid4())
    body = {
        "id": order_id,
        "level": "evacuate",
        "villages": zone["village_codes"][:2],
        "message": "立即转移",
    }
    r = httpx.post(
        live_server.url + "/api/orders", json=body, headers=bearer_for(live_server, "cmd")
    )
    assert r.status_code == 201

    phone = open_offline_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        phone.goto(live_server.url + "/report")
        phone.fill("input[name=username]", "cadre")
        phone.fill("input[name=password]", PASSWORD)
        phone.click("form [type=submit]")
        phone.wait_for_url("**/report")
        phone.wait_ready()
        phone.wait_for_function(
            "() => document.body.dataset.offlineReady === '1' && !!navigator.serviceWorker.controller",
            timeout=TIMEOUT_MS,
        )
        button = f'#fp-orders li[data-order="{order_id}"] button.ack'
        phone.wait_for_selector(button, timeout=TIMEOUT_MS)
        assert phone.inner_text(button) == "收到"
        # fits a 360 px phone
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360

        phone.context.set_offline(True)
        phone.click(button)
        ack_row = f'#outbox-list li[data-id="ack:{order_id}"]'
        phone.wait_for_selector(f'{ack_row}[data-state="queued"]', timeout=TIMEOUT_MS)
        assert "待发送" in phone.inner_text(button)
        assert db_rows(live_server, "SELECT COUNT(*) FROM order_acks")[0][0] == 0

        phone.context.set_offline(False)
        phone.wait_for_selector(f'{ack_row}[data-state="sent"]', timeout=TIMEOUT_MS)
        phone.evaluate(
            "() => window.floodpost.outbox.flush(true)"
        )  # a nudge must not send it again
        phone.wait_for_selector(
            f'#fp-orders li[data-order="{order_id}"] button.ack:has-text("已收到")',
            timeout=TIMEOUT_MS,
        )
        acks = db_rows(
            live_server,
            "SELECT user_name, village_code FROM order_acks WHERE order_id = ?",
            (order_id,),
        )
        assert sorted(acks) == sorted(("cadre", c) for c in zone["village_codes"][:2])
        logged = db_rows(
            live_server,
            "SELECT COUNT(*) FROM changes WHERE entity = 'order' AND report_id = ? AND action = 'ack'",
            (order_id,),
        )
        assert logged[0][0] == 1
        assert phone.page_errors == [] and phone.blocked == []
    finally:
        phone.context.close()


def test_roll_call_on_a_phone_offline_then_online(live_server, browser, tmp_path):  # noqa: F811
    zones = json.loads(
        (
            __import__("floodpost.paths", fromlist=["x"]).default_geodata() / "zones.geojson"
        ).read_text()
    )
    zone = zones["features"][0]["properties"]
    code = zone["village_codes"][0]
    add_user(live_server, "cadre", "field", "--zone", zone["id"])
    roster = tmp_path / "roster.csv"
    roster.write_text(
        f"村代码,户主,人数,电话,特殊需求\n{code},张<b>三,3,13800000001,\n{code},李四,1,,卧床\n",
        encoding="utf-8",
    )
    subprocess.run(
        [sys.executable, "-m", "floodpost", "households", "import", str(roster), "--db", live_server.db_url],
        check=True, capture_output=True, env=live_server.env,
    )  # fmt: skip
    phone = open_offline_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        phone.goto(live_server.url + "/report")
        phone.fill("input[name=username]", "cadre")
        phone.fill("input[name=password]", PASSWORD)
        phone.click("form [type=submit]")
        phone.wait_for_url("**/report")
        phone.wait_ready()
        phone.click(f'#fp-rollcall li[data-village="{code}"] .village-btn', timeout=TIMEOUT_MS)
        phone.wait_for_selector(".fp-household", timeout=TIMEOUT_MS)
        heads = phone.eval_on_selector_all(
            ".fp-household .head strong", "els => els.map(e => e.textContent)"
        )
        assert heads == ["李四", "张<b>三"]  # bedridden first; names as text
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360
        first = phone.eval_on_selector(".fp-household", "e => e.dataset.household")
        phone.context.set_offline(True)
        phone.click(f'.fp-household[data-household="{first}"] button[data-mark="evacuated"]')
        phone.wait_for_selector(f'.fp-household[data-household="{first}"][data-status="evacuated"]')
        assert (
            db_rows(live_server, "SELECT status FROM households WHERE id = ?", (first,))[0][0]
            == "unknown"
        )
        phone.context.set_offline(False)
        phone.wait_for_function(
            "() => [...document.querySelectorAll('#outbox-list li')].some(li => li.dataset.id.startsWith('rc:') && li.dataset.state === 'sent')",
            timeout=TIMEOUT_MS,
        )
        assert db_rows(
            live_server, "SELECT status, status_by FROM households WHERE id = ?", (first,)
        )[0] == ("evacuated", "cadre")
        marks = db_rows(
            live_server,
            "SELECT COUNT(*) FROM changes WHERE entity = 'household' AND report_id = ?",
            (first,),
        )
        assert marks[0][0] == 1
        assert phone.page_errors == [] and phone.blocked == []
    finally:
        phone.context.close()


def test_roll_call_of_500_households_over_slow_3g(live_server, browser, tmp_path):  # noqa: F811
    """Prints the time from tapping a 500-household village to its roll-call on screen at
    400 kbit/s with 400 ms latency (a figure; the test requires the list to appear and work)."""
    zone = json.loads(
        (
            __import__("floodpost.paths", fromlist=["x"]).default_geodata() / "zones.geojson"
        ).read_text()
    )["features"][0]["properties"]
    code = zone["village_codes"][0]
    add_user(live_server, "cadre", "field", "--zone", zone["id"])
    lines = ["村代码,户主,人数,电话,特殊需求"]
    lines += [
        f"{code},户主{i:03d},{1 + i % 5},138{i:08d},{'老人' if i % 9 == 0 else ''}"
        for i in range(500)
    ]
    roster = tmp_path / "roster.csv"
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "floodpost", "households", "import", str(roster), "--db", live_server.db_url],
        check=True, capture_output=True, env=live_server.env,
    )  # fmt: skip
    phone = open_offline_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        phone.goto(live_server.url + "/report")
        phone.fill("input[name=username]", "cadre")
        phone.fill("input[name=password]", PASSWORD)
        phone.click("form [type=submit]")
        phone.wait_for_url("**/report")
        phone.wait_ready()
        village = f'#fp-rollcall li[data-village="{code}"] .village-btn'
        phone.wait_for_selector(village, timeout=TIMEOUT_MS)
        cdp = phone.context.new_cdp_session(phone.page)
        cdp.send("Network.enable")
        rate = 400_000 / 8
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": 400,
                "downloadThroughput": rate,
                "uploadThroughput": rate,
            },
        )
        start = phone.evaluate("() => performance.now()")
        phone.click(village)
        phone.wait_for_function(
            "() => document.querySelectorAll('.fp-household').length === 500", timeout=60_000
        )
        took = phone.evaluate("() => performance.now()") - start
        print(
            f"slow 3G (400 kbit/s, 400 ms): 500-household roll-call on screen after {took / 1000:.2f} s"
        )
        first = phone.eval_on_selector(".fp-household", "e => e.dataset.household")
        assert "老人" in phone.inner_text(
            f'.fp-household[data-household="{first}"]'
        )  # elderly first
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360
        phone.click(f'.fp-household[data-household="{first}"] button[data-mark="safe"]')
        phone.wait_for_function(
            "() => [...document.querySelectorAll('#outbox-list li')].some(li => li.dataset.id.startsWith('rc:') && li.dataset.state === 'sent')",
            timeout=60_000,
        )
        assert (
            db_rows(live_server, "SELECT status FROM households WHERE id = ?", (first,))[0][0]
            == "safe"
        )
    finally:
        phone.context.close()
