"""The command-post map and the review page in real Chromium while the server's roll-ups warm up
(issue 14 §5): they say "统计数据预热中 … n%" instead of an error or an endless spinner, ask again
after the server's Retry-After, and show the figures once the roll-ups are ready."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from floodpost.storage import open_store
from floodpost.web.app import create_app
from tests.live_support import T0, ThreadServer, add_report, add_server_user, sign_in
from tests.test_warmup import WAIT_S, Held

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser


@pytest.fixture
def warming(settings, catalogue) -> Iterator[tuple[Any, Held]]:
    """A server with one evacuation of 37 people whose warm-up is held until `held.gate`."""
    settings = settings.model_copy(update={"tile_url": ""})
    store = open_store(settings.db_url)
    app = create_app(settings, store=store, catalogue=catalogue)
    ctx = app.state.ctx
    add_report(store, ctx.router, received_ts=T0, kind="evacuation", people=37,
               lon=110.15, lat=26.6)  # fmt: skip
    ctx.follower.warm_wait_s = 0
    held = Held(store, ctx.follower)
    ctx.follower.subscribe(held, seed=held.seed, name="held")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOODPOST_")}
    add_server_user(SimpleNamespace(db_url=settings.db_url, env=env), "staff1", "staff")
    try:
        with ThreadServer(app) as server:
            assert held.entered.wait(WAIT_S)
            yield server, held
    finally:
        held.gate.set()
        store.close()


def test_map_shows_warming_then_the_live_layer(warming, offline_page):
    server, held = warming
    page = offline_page
    sign_in(page, server, "staff1")
    page.wait_for_function(
        "() => { const w = document.getElementById('fp-warming');"
        " return w && !w.hidden && /预热中 … \\d+%$/.test(w.textContent); }",
        timeout=15_000,
    )
    assert page.locator("[data-total=evacuated]").inner_text() == "–"
    held.gate.set()
    page.wait_for_function(
        "() => document.querySelector('[data-total=evacuated]').textContent === '37'",
        timeout=15_000,
    )
    page.wait_for_function("() => document.getElementById('fp-warming').hidden", timeout=5_000)
    page.wait_ready()
    assert page.page_errors == [] and page.blocked == []


def test_review_shows_warming_then_reloads_into_the_figures(warming, offline_page):
    server, held = warming
    page = offline_page
    sign_in(page, server, "staff1")
    page.goto(server.url + "/review")
    warming_box = page.locator("#rv-warming")
    assert "统计数据预热中" in warming_box.inner_text()
    assert page.locator("#rv-warming progress").count() == 1
    held.gate.set()
    page.wait_for_selector("#total-evacuated", timeout=15_000)  # after its own reload
    assert page.locator("#total-evacuated .rv-num").inner_text() == "37"
    page.wait_ready()
    assert page.page_errors == [] and page.blocked == []
