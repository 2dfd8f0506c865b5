"""Start-up with the roll-ups still warming (issue 14 §5), through create_app on both backends:
the live picture, the statistics and /review answer at once (503 warming_up, Retry-After, the
progress) while intake and /healthz work; once warm, 200 with the right figures, every report
counted once (the one posted while warming too)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from floodpost.stats.service import ReviewStats
from floodpost.storage import open_store
from floodpost.web.app import create_app
from tests.reports_support import new_report, quick_user
from tests.test_store import _report
from tests.test_warmup import WAIT_S, Held

NOW = 1_499_000_000.0  # 2017-07-02, after the reports below


@pytest.fixture
def warming_app(store_url, settings, catalogue):
    store = open_store(store_url)
    for people in (5, 7):
        r, h = _report(people=people)
        store.create_report(r, h, actor="alice")
    app = create_app(settings, store=store, clock=lambda: NOW, catalogue=catalogue)
    follower = app.state.ctx.follower
    follower.warm_wait_s = 0  # answer "warming up" at once (the app waits a second first)
    held = Held(store, follower)  # a seed the test holds: the warm-up stops there
    follower.subscribe(held, seed=held.seed, name="held")
    try:
        yield app, held
    finally:
        store.close()


def test_statistics_say_warming_up_then_answer(warming_app, catalogue):
    app, held = warming_app
    ctx = app.state.ctx
    head = quick_user(ctx, "cmd", "commander")
    with TestClient(app) as client:
        assert held.entered.wait(WAIT_S)  # the lifespan's warm-up is held in our seed
        for path in ("/api/live/state", "/api/stats/summary", "/api/stats/by-township",
                     "/api/requests/open", "/api/export?format=xlsx"):  # fmt: skip
            r = client.get(path, headers=head)
            assert r.status_code == 503, path
            assert r.headers["retry-after"] == "2"
            body = r.json()
            assert body["error"] == "warming_up" and body["retry_after_s"] == 2
            progress = body["progress"]
            assert progress["state"] == "warming" and progress["step"] == "held"
            assert (progress["done"], progress["total"]) == (1, 4)
            assert 0.0 < progress["fraction"] < 1.0
        # Not a store fault: /healthz stays ok and shows the progress.
        health = client.get("/healthz").json()
        assert health["status"] == "ok" and health["warming"]["step"] == "held"
        page = client.get("/review", headers={**head, "accept": "text/html"})
        assert page.status_code == 503 and page.headers["retry-after"] == "2"
        assert "统计数据预热中" in page.text and "review-warming.js" in page.text
        # Intake does not wait for the roll-ups.
        posted = client.post("/api/reports", json=new_report(people=11), headers=head)
        assert posted.status_code == 201, posted.text

        held.gate.set()
        assert ctx.follower.wait_ready(WAIT_S)
        summary = client.get("/api/stats/summary", headers=head)
        assert summary.status_code == 200
        fresh = ReviewStats(ctx.store, catalogue, clock=lambda: NOW).summary()
        assert summary.json() == fresh
        assert summary.json()["evacuated"] == 5 + 7 + 11
        live = client.get("/api/live/state", headers=head)
        assert live.status_code == 200
        assert live.json()["totals"]["evacuated"] == 23
        assert live.json()["seq"] == ctx.store.last_change_seq()
        assert "warming" not in client.get("/healthz").json()
        page = client.get("/review", headers={**head, "accept": "text/html"})
        assert page.status_code == 200 and "统计数据预热中" not in page.text
