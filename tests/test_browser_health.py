"""The live map shows a store fault while it lasts (issue 13): a database locked by another
program makes writes answer 503, /healthz says degraded, and the map's banner says why."""

from __future__ import annotations

import sqlite3
import uuid

import httpx
import pytest

from tests.live_support import add_server_user, bearer_for, sign_in

pytestmark = pytest.mark.browser
pytest_plugins = ["tests.browser_support"]


def _report() -> dict:
    return {
        "id": str(uuid.uuid4()),
        "kind": "evacuation",
        "occurred_at": "2017-07-01T10:00:00+08:00",
        "lon": 110.15,
        "lat": 26.6,
        "people": 3,
    }


def test_the_map_shows_a_locked_database(server_factory, offline_page):
    server = server_factory(FLOODPOST_TILE_URL="", FLOODPOST_DB_BUSY_TIMEOUT_S="1")
    add_server_user(server, "chief", "commander")
    head = bearer_for(server, "chief")
    sign_in(offline_page, server, "chief")
    offline_page.wait_ready()
    banner = offline_page.locator("#fp-degraded")
    assert banner.is_hidden()

    other = sqlite3.connect(server.db_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the database
    try:
        body = _report()
        r = httpx.post(f"{server.url}/api/reports", json=body, headers=head, timeout=30)
        assert r.status_code == 503 and r.headers["retry-after"]
        offline_page.wait_for_selector("#fp-degraded:not([hidden])", timeout=15_000)
        assert "数据库被其他程序锁定" in banner.inner_text()
    finally:
        other.execute("ROLLBACK")
        other.close()
    r = httpx.post(f"{server.url}/api/reports", json=body, headers=head, timeout=30)
    assert r.status_code == 201
    offline_page.wait_for_selector("#fp-degraded", state="hidden", timeout=15_000)
