"""The field-report page /report, its service worker and the place lists (in process)."""

from __future__ import annotations

import json
import re

import pytest

from floodpost.paths import web_dir
from floodpost.web.routers.pages_report import STATIC_ASSETS, asset_version
from tests.reports_support import PASSWORD, add_user


def sign_in(client, name: str, role: str = "field") -> None:
    add_user(client.app.state.ctx.store, name, role)
    client.get("/login")  # sets the fp_csrf cookie
    r = client.post(
        "/login",
        data={
            "username": name,
            "password": PASSWORD,
            "csrf_token": client.cookies.get("fp_csrf"),
            "next": "/report",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_report_page_needs_sign_in(client):
    r = client.get("/report", headers={"accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")
    assert "%2Freport" in r.headers["location"]


@pytest.mark.parametrize("role", ["field", "staff", "commander"])
def test_report_page_served_to_reporting_roles(client, role):
    sign_in(client, f"u-{role}", role)
    r = client.get("/report")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "private" in r.headers["cache-control"]
    page = r.text
    assert f"u-{role}" in page
    assert 'name="kind"' in page and 'id="report-form"' in page


def test_report_page_refuses_viewers(client):
    sign_in(client, "watcher", "viewer")
    r = client.get("/report", headers={"accept": "text/html"})
    assert r.status_code == 403


def test_report_page_is_chinese_by_default_and_english_on_request(client):
    sign_in(client, "cadre")
    zh = client.get("/report").text
    assert '<html lang="zh-CN">' in zh
    for text in ("现场报送", "转移", "营救", "险情", "求助", "保存并发送", "用GPS定位"):
        assert text in zh
    en = client.get("/report?lang=en").text
    assert '<html lang="en">' in en
    for text in ("Field report", "Evacuation", "Rescue", "Incident", "Help request", "Use GPS"):
        assert text in en
    assert "保存并发送" not in en


def test_report_page_is_light_and_self_contained(client):
    """No folium, jQuery or Bootstrap; Leaflet is referenced only for lazy loading."""
    sign_in(client, "cadre")
    page = client.get("/report").text
    for heavy in ("jquery", "bootstrap", "folium", "font-awesome", "fontawesome", "cdn"):
        assert heavy not in page.lower()
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)
    styles = re.findall(r'<link[^>]+href="([^"]+)"', page)
    assert all("leaflet" not in url for url in scripts + styles)
    total = len(page.encode())
    for url in scripts + styles:
        r = client.get(url)
        assert r.status_code == 200, url
        total += len(r.content)
    total += len(client.get("/api/places").content)
    # The first load in the browser test measures the real figure; this bounds the parts.
    assert total < 200_000, total


def test_page_texts_have_both_languages():
    zh = json.loads((web_dir() / "locale/zh_CN/report.json").read_text(encoding="utf-8"))
    en = json.loads((web_dir() / "locale/en/report.json").read_text(encoding="utf-8"))
    assert set(zh) == set(en)
    assert all(key.startswith("report.") for key in zh)


def test_service_worker_scope_and_assets(client):
    r = client.get("/report/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["service-worker-allowed"] == "/report"
    assert r.headers["cache-control"] == "no-cache"
    body = r.text
    version = asset_version()
    assert "__VERSION__" not in body and "__ASSETS__" not in body
    assert '"fp-report-" + VERSION' in body and version in body
    for rel in STATIC_ASSETS:
        assert f"/static/{rel}?v={version}" in body


def test_places_lists_townships_with_villages_shelters_and_reservoirs(client, catalogue):
    r = client.get("/api/places")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    data = r.json()
    townships = data["townships"]
    assert len(townships) == catalogue.count("townships")
    assert sum(len(t["villages"]) for t in townships) == catalogue.count("villages")
    assert sum(len(t["shelters"]) for t in townships) == catalogue.count("shelters")
    assert sum(len(t["reservoirs"]) for t in townships) == catalogue.count("reservoirs")
    codes = [t["code"] for t in townships]
    assert codes == sorted(codes)
    for t in townships:
        assert re.fullmatch(r"\d{9}", t["code"]) and t["name"]
        for v in t["villages"]:
            assert re.fullmatch(r"\d{12}", v["code"]) and v["code"].startswith(t["code"])
            assert 109 < v["lon"] < 111.5 and 25.5 < v["lat"] < 27.5
        for s in t["shelters"]:
            assert s["id"] and s["name"]
    # Small enough to fetch on a poor link and keep offline; gzipped when the client accepts it.
    assert len(r.content) < 60_000, len(r.content)
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "Accept-Encoding"
    plain = client.get("/api/places", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == data
    assert int(r.headers["content-length"]) < len(plain.content) / 3


def test_places_village_codes_route_as_reports(client):
    """A village chosen from the lists is one the report API accepts."""
    sign_in(client, "cadre")
    village = client.get("/api/places").json()["townships"][0]["villages"][0]
    body = {
        "id": "3b0c6f1e-8a51-4c1e-9d0a-3f7e1c2b4a55",
        "kind": "help_request",
        "occurred_at": "2026-07-01T10:00:00+08:00",
        "village_code": village["code"],
        "people": 3,
        "urgency": "urgent",
    }
    r = client.post(
        "/api/reports", json=body, headers={"X-CSRF-Token": client.cookies.get("fp_csrf")}
    )
    assert r.status_code == 201, r.text
    assert r.json()["village_code"] == village["code"]
    assert r.json()["responsible"]
