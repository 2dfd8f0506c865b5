"""The field-report form /report in real headless Chromium at phone size, requests off 127.0.0.1
blocked: online sending, the offline outbox with its service worker, captive portals, expired
sessions, refusals, first-load weight and the 360 px layout."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser_support import (  # noqa: F401 - fixtures
    LiveServer,
    browser,
    live_server,
    open_offline_page,
    server_factory,
)

pytestmark = pytest.mark.browser

PASSWORD = "field-pass-2017"
PHONE = {"width": 360, "height": 640}
FIRST_LOAD_MAX_BYTES = 400_000
SEND_TIMEOUT_MS = 20_000
SHOTS = Path("/tmp/floodpost_report")


def add_account(server: LiveServer, name: str, role: str = "field") -> None:
    subprocess.run(
        [sys.executable, "-m", "floodpost", "user", "add", name, "--role", role]
        + ["--password", PASSWORD, "--db", server.db_url],
        check=True,
        env=server.env,
        cwd=server.workdir,
        capture_output=True,
    )


def stored_reports(server: LiveServer) -> list[dict[str, Any]]:
    token = httpx.post(
        server.url + "/api/auth/token", data={"username": "hq", "password": PASSWORD}
    ).json()["access_token"]
    r = httpx.get(server.url + "/api/reports", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()["reports"]


@pytest.fixture
def server(live_server: LiveServer) -> LiveServer:  # noqa: F811
    add_account(live_server, "cadre", "field")
    add_account(live_server, "hq", "staff")
    return live_server


@pytest.fixture
def phone(browser):  # noqa: F811
    page = open_offline_page(
        browser,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": 26.6, "longitude": 110.15, "accuracy": 25},
        permissions=["geolocation"],
    )
    try:
        yield page
    finally:
        page.context.close()


def sign_in(page, server: LiveServer, name: str = "cadre") -> None:
    """Through the /login form, as a person would; lands on the report form."""
    page.goto(server.url + "/report")
    assert "/login" in page.url
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form [type=submit]")
    page.wait_for_url("**/report")
    page.wait_ready()


def wait_offline_ready(page) -> None:
    """The service worker is installed (shell cached) and controls the page."""
    page.wait_for_function(
        "() => document.body.dataset.offlineReady === '1' && !!navigator.serviceWorker.controller",
        timeout=SEND_TIMEOUT_MS,
    )


def pick_village(page, township_index: int = 1, village_index: int = 1) -> str:
    page.select_option("#township", index=township_index)
    page.select_option("#village", index=village_index)
    return page.eval_on_selector("#village", "el => el.value")


def choose_kind(page, kind: str) -> None:
    page.click(f".kind-{kind}")


def outbox(page) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#outbox-list li",
        "els => els.map(e => ({id: e.dataset.id, state: e.dataset.state, text: e.innerText}))",
    )


def wait_state(page, report_id: str, state: str, timeout_ms: int = SEND_TIMEOUT_MS) -> None:
    page.wait_for_selector(
        f'#outbox-list li[data-id="{report_id}"][data-state="{state}"]', timeout=timeout_ms
    )


def saved_id(page, before: set[str]) -> str:
    page.wait_for_function(
        "n => document.querySelectorAll('#outbox-list li').length > n", arg=len(before)
    )
    new = [row["id"] for row in outbox(page) if row["id"] not in before]
    assert len(new) == 1
    return new[0]


def save_report(page) -> str:
    before = {row["id"] for row in outbox(page)}
    page.click("#save")
    return saved_id(page, before)


def test_submit_online_shows_sent_with_responsible_owner(server, phone):
    sign_in(phone, server)
    choose_kind(phone, "evacuation")
    village = pick_village(phone, 2, 3)
    phone.click("[data-step='1']")
    phone.fill("#people", "35")
    phone.select_option("#shelter", index=1)
    phone.fill("#note", "<b>转移</b> 35 人")
    report_id = save_report(phone)
    wait_state(phone, report_id, "sent")

    [stored] = stored_reports(server)
    assert stored["id"] == report_id
    assert stored["kind"] == "evacuation" and stored["people"] == 35
    assert stored["village_code"] == village and stored["shelter_id"]
    assert stored["note"] == "<b>转移</b> 35 人" and stored["reporter"] == "cadre"
    row = next(r for r in outbox(phone) if r["id"] == report_id)
    assert "已发送" in row["text"]
    assert stored["responsible"] and stored["responsible"] in row["text"]
    assert stored["responsible"] in phone.inner_text("#form-info")
    # User text went in as text, never as markup.
    assert phone.locator("#outbox-list b").count() == 0
    assert phone.page_errors == [] and phone.blocked == []


def test_kind_specific_fields_and_gps(server, phone):
    sign_in(phone, server)
    visible = lambda sel: phone.is_visible(sel)  # noqa: E731
    choose_kind(phone, "rescue")
    assert visible("#team") and not visible("#shelter") and not visible("#subtype")
    choose_kind(phone, "incident")
    assert visible("#subtype") and not visible("#reservoir")
    phone.select_option("#subtype", "piping")
    assert visible("#reservoir")
    phone.select_option("#subtype", "death")
    assert not visible("#reservoir")
    assert phone.inner_text("#people-label") == "死亡人数"
    choose_kind(phone, "help_request")
    assert visible("#contact") and not visible("#subtype")

    phone.click("#gps-btn")
    phone.wait_for_selector("#place-status[data-set='1']")
    assert "±25" in phone.inner_text("#place-status")
    phone.click(".urg-critical")
    phone.fill("#contact", "13800000000")
    report_id = save_report(phone)
    wait_state(phone, report_id, "sent")
    [stored] = stored_reports(server)
    assert stored["kind"] == "help_request" and stored["urgency"] == "critical"
    assert stored["lon"] == pytest.approx(110.15) and stored["accuracy_m"] == pytest.approx(25)
    assert stored["contact"] == "13800000000"

    # A reservoir incident with only the core fields filled in is accepted too.
    choose_kind(phone, "incident")
    phone.select_option("#subtype", "seepage")
    phone.select_option("#reservoir", index=1)
    phone.click(".rs-danger")
    report_id = save_report(phone)
    wait_state(phone, report_id, "sent")
    incident = next(r for r in stored_reports(server) if r["id"] == report_id)
    assert incident["subtype"] == "seepage" and incident["reservoir_status"] == "danger"
    assert incident["reservoir_id"]


def test_offline_outbox_survives_reload_and_sends_each_report_once(server, phone):
    sign_in(phone, server)
    wait_offline_ready(phone)
    choose_kind(phone, "rescue")
    pick_village(phone)
    phone.fill("#people", "4")
    online_id = save_report(phone)
    wait_state(phone, online_id, "sent")

    phone.context.set_offline(True)
    phone.wait_for_selector("#net[data-online='0']")
    choose_kind(phone, "evacuation")
    pick_village(phone, 3, 2)
    phone.fill("#people", "120")
    first = save_report(phone)
    choose_kind(phone, "help_request")
    phone.click("#gps-btn")
    phone.wait_for_selector("#place-status[data-set='1']")
    phone.fill("#people", "6")
    second = save_report(phone)
    for report_id in (first, second):
        wait_state(phone, report_id, "queued")
    assert "待发送" in phone.inner_text(f'li[data-id="{first}"]')
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.locator("#offline-banner").scroll_into_view_if_needed()
    phone.screenshot(path=str(SHOTS / "offline-top.png"))
    phone.locator(f'li[data-id="{second}"]').scroll_into_view_if_needed()
    phone.screenshot(path=str(SHOTS / "offline-queued.png"))

    # Offline reload: the service worker serves the form; the outbox comes back from IndexedDB.
    response = phone.reload()
    assert response is not None and response.from_service_worker
    phone.wait_ready()
    for report_id in (first, second):
        wait_state(phone, report_id, "queued")
    wait_state(phone, online_id, "sent")
    assert len(stored_reports(server)) == 1

    phone.context.set_offline(False)
    for report_id in (first, second):
        wait_state(phone, report_id, "sent")
    stored = stored_reports(server)
    ids = [r["id"] for r in stored]
    assert sorted(ids) == sorted([online_id, first, second])  # each exactly once
    by_id = {r["id"]: r for r in stored}
    assert by_id[first]["people"] == 120 and by_id[second]["kind"] == "help_request"
    for report_id in (first, second):
        row = phone.inner_text(f'li[data-id="{report_id}"]')
        assert "已发送" in row and by_id[report_id]["responsible"] in row
    assert phone.blocked == []


def test_queued_reports_survive_a_browser_restart(server, browser):  # noqa: F811
    """IndexedDB and cookies carried to a new browser context, as across a restart."""
    first = open_offline_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        sign_in(first, server)
        first.context.set_offline(True)
        choose_kind(first, "rescue")
        pick_village(first)
        report_id = save_report(first)
        wait_state(first, report_id, "queued")
        state = first.context.storage_state(indexed_db=True)
    finally:
        first.context.close()
    assert stored_reports(server) == []

    again = open_offline_page(browser, viewport=PHONE, is_mobile=True, storage_state=state)
    try:
        again.goto(server.url + "/report")
        again.wait_ready()
        wait_state(again, report_id, "sent")  # sent on page load, no user action
        assert [r["id"] for r in stored_reports(server)] == [report_id]
    finally:
        again.context.close()


def test_captive_portal_answer_is_not_taken_as_sent(server, phone):
    sign_in(phone, server)
    portal_hits = []

    def portal(route):
        if route.request.method == "POST" and not portal_hits:
            portal_hits.append(route.request.url)
            route.fulfill(
                status=200,
                content_type="text/html",
                body="<html><body>请登录 WiFi / Sign in to Wi-Fi</body></html>",
            )
        else:
            route.fallback()

    phone.route("**/api/reports", portal)
    choose_kind(phone, "incident")
    pick_village(phone)
    report_id = save_report(phone)
    phone.wait_for_function(
        "id => { const li = document.querySelector(`li[data-id='${id}']`);"
        " return li && li.dataset.state === 'queued' && +li.dataset.state.length && "
        "li.innerText.includes('服务器未确认'); }",
        arg=report_id,
    )
    assert portal_hits and stored_reports(server) == []
    phone.click(f'li[data-id="{report_id}"] button')
    wait_state(phone, report_id, "sent")
    assert [r["id"] for r in stored_reports(server)] == [report_id]


def test_expired_session_keeps_reports_until_signed_in_again(server, phone):
    sign_in(phone, server)
    phone.context.clear_cookies(name="fp_session")
    choose_kind(phone, "evacuation")
    pick_village(phone)
    report_id = save_report(phone)
    phone.wait_for_selector("#auth-banner", state="visible")
    wait_state(phone, report_id, "queued")
    assert "登录已过期" in phone.inner_text(f'li[data-id="{report_id}"]')
    assert stored_reports(server) == []

    phone.click("#auth-banner a")
    phone.wait_for_url("**/login**")
    phone.fill("input[name=username]", "cadre")
    phone.fill("input[name=password]", PASSWORD)
    phone.click("form [type=submit]")
    phone.wait_for_url("**/report")
    wait_state(phone, report_id, "sent")
    assert [r["id"] for r in stored_reports(server)] == [report_id]
    assert phone.is_hidden("#auth-banner")


def test_server_refusals_are_shown_with_their_reason(server, phone):
    sign_in(phone, server)
    conflict_id = str(uuid.uuid4())
    base = {
        "kind": "rescue",
        "occurred_at": "2026-07-01T10:00:00+08:00",
        "lon": 110.15,
        "lat": 26.6,
        "people": 2,
        "note": "",
    }
    token = httpx.post(
        server.url + "/api/auth/token", data={"username": "cadre", "password": PASSWORD}
    ).json()["access_token"]
    r = httpx.post(
        server.url + "/api/reports",
        json={**base, "id": conflict_id},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201
    # The same id with other content (409) and an impossible place (422), through the outbox.
    invalid_id = str(uuid.uuid4())
    phone.evaluate(
        "([a, b]) => Promise.all([floodpost.outbox.save(a, {}), floodpost.outbox.save(b, {})])",
        [{**base, "id": conflict_id, "people": 3}, {**base, "id": invalid_id, "lon": 500}],
    )
    wait_state(phone, conflict_id, "refused")
    wait_state(phone, invalid_id, "refused")
    conflict_text = phone.inner_text(f'li[data-id="{conflict_id}"]')
    assert "被拒绝" in conflict_text and "409" in conflict_text
    assert "lon" in phone.inner_text(f'li[data-id="{invalid_id}"]')
    [stored] = stored_reports(server)
    assert stored["people"] == 2  # the conflict changed nothing


def test_first_load_is_light_and_leaflet_is_lazy(server, phone):
    # Sign in through the API client that shares the context's cookies, so that the very first
    # navigation of this browser to /report is the one measured.
    phone.request.get(server.url + "/login")
    csrf = next(c["value"] for c in phone.context.cookies() if c["name"] == "fp_csrf")
    r = phone.request.post(
        server.url + "/login",
        form={"username": "cadre", "password": PASSWORD, "csrf_token": csrf, "next": "/report"},
        max_redirects=0,
    )
    assert r.status == 303
    finished: list[Any] = []
    phone.context.on("requestfinished", lambda request: finished.append(request))
    phone.goto(server.url + "/report")
    phone.wait_ready()
    wait_offline_ready(phone)
    phone.wait_for_timeout(500)

    # Everything the page and its service worker fetched, headers included.
    network_bytes = 0
    for request in finished:
        sizes = request.sizes()
        network_bytes += sizes["responseBodySize"] + sizes["responseHeadersSize"]
    page_bytes = phone.evaluate(
        """() => performance.getEntriesByType('navigation')
              .concat(performance.getEntriesByType('resource'))
              .reduce((n, e) => n + e.transferSize, 0)"""
    )
    print(f"first load: {network_bytes} bytes over the network, page alone {page_bytes} bytes")
    assert 0 < page_bytes <= network_bytes < FIRST_LOAD_MAX_BYTES
    urls = [request.url for request in finished]
    assert not any("leaflet" in url for url in urls)
    assert not any(lib in url for url in urls for lib in ("jquery", "bootstrap", "folium"))

    # The tap-map loads Leaflet only when opened, and a tap sets the place.
    phone.click("#map-btn")
    phone.wait_for_selector("#tap-map .leaflet-container, #tap-map.leaflet-container")
    assert any("leaflet" in request.url for request in finished)
    box = phone.locator("#tap-map").bounding_box()
    phone.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    phone.wait_for_selector("#place-status[data-set='1']")
    assert "地图点选" in phone.inner_text("#place-status")
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "tap-map.png"))
    assert phone.blocked == []


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_layout_fits_360_px_without_horizontal_scroll(server, phone, lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(phone, server)
    if lang == "en":
        phone.goto(server.url + "/report?lang=en")
        phone.wait_ready()
    for kind in ("evacuation", "rescue", "incident", "help_request"):
        choose_kind(phone, kind)
        if kind == "incident":
            phone.select_option("#subtype", "overtopping")
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (kind, width)
        phone.screenshot(path=str(SHOTS / f"{lang}-{kind}.png"), full_page=True)
    # Touch targets are large enough for a thumb.
    small = phone.evaluate(
        """() => [...document.querySelectorAll('button, select, input:not([type=radio]), .tile')]
              .filter(e => e.offsetParent !== null)
              .map(e => e.getBoundingClientRect())
              .filter(r => r.height < 44).length"""
    )
    assert small == 0
    pick_village(phone)
    report_id = save_report(phone)
    wait_state(phone, report_id, "sent")
    phone.screenshot(path=str(SHOTS / f"{lang}-sent.png"), full_page=False)
    phone.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    phone.screenshot(path=str(SHOTS / f"{lang}-outbox.png"))
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def test_form_becomes_usable_over_a_poor_3g_link(server, phone):
    """Prints the time to a usable form at 400 kbit/s with 400 ms latency (a figure, not an
    assert on time: the test only requires the form to become ready and to work)."""
    phone.request.get(server.url + "/login")
    csrf = next(c["value"] for c in phone.context.cookies() if c["name"] == "fp_csrf")
    phone.request.post(
        server.url + "/login",
        form={"username": "cadre", "password": PASSWORD, "csrf_token": csrf, "next": "/report"},
        max_redirects=0,
    )
    cdp = phone.context.new_cdp_session(phone.page)
    cdp.send("Network.enable")
    rate = 400_000 / 8  # bytes per second
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 400, "downloadThroughput": rate, "uploadThroughput": rate},
    )
    phone.goto(server.url + "/report", wait_until="commit")
    phone.wait_ready(timeout_ms=60_000)
    ready_ms = phone.evaluate("() => performance.now()")
    print(f"poor 3G (400 kbit/s, 400 ms): form ready after {ready_ms / 1000:.1f} s")
    pick_village(phone)
    report_id = save_report(phone)
    wait_state(phone, report_id, "sent", timeout_ms=60_000)
