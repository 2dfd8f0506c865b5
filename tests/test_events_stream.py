"""The event stream's own response (web/event_stream.py, served by EventsFastPath before
routing): its headers, its errors, the end of a subscription when the client leaves or the
server stops, keep-alives and a slow screen's drop. Resume, field filtering and SMS privacy are
in tests/test_events.py, test_orders_events.py and test_sms_messages.py."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from floodpost.live.broker import _CLOSED, KEEPALIVE, Broker, sse_events
from floodpost.storage import open_store
from floodpost.web.app import create_app
from tests.live_support import ThreadServer
from tests.reports_support import add_user, new_report
from tests.test_events_wake import _note, _run


@pytest.fixture
def server(settings, catalogue):
    app = create_app(settings, catalogue=catalogue)
    for name, role in (("staff", "staff"), ("view", "viewer")):
        add_user(app.state.ctx.store, name, role)
    with ThreadServer(app) as srv:
        srv.app = app
        yield srv


def _token(srv, name):
    r = httpx.post(
        srv.url + "/api/auth/token", data={"username": name, "password": "correct-horse-1"}
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _until(predicate, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_stream_headers_security_and_never_gzipped(server):
    h = {**_token(server, "view"), "Accept-Encoding": "gzip"}
    with httpx.Client(timeout=10) as c, c.stream("GET", server.url + "/api/events", headers=h) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert r.headers["cache-control"] == "no-cache"
        assert r.headers["x-accel-buffering"] == "no"
        assert "content-encoding" not in r.headers
        # No page rendered, so no inline script may run: the policy carries no nonce.
        assert "script-src 'self';" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        chunks = r.iter_raw()
        assert next(chunks).startswith(b"retry: 3000\n")
        body = new_report()
        staff = _token(server, "staff")
        assert httpx.post(server.url + "/api/reports", json=body, headers=staff).status_code == 201
        text = b""
        while b"\n\n" not in text:
            text += next(chunks)
        assert text.startswith(b"id: ") and b"\nevent: report\ndata: {" in text
        assert f'"id":"{body["id"]}"'.encode() in text


def test_errors_come_from_the_fast_path_as_json_with_headers(server):
    r = httpx.get(server.url + "/api/events")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/json")
    assert r.headers["x-content-type-options"] == "nosniff"
    r = httpx.get(
        server.url + "/api/events", headers={**_token(server, "view"), "Last-Event-ID": "-3"}
    )
    assert r.status_code == 422 and r.json()["field"] == "after"


def test_a_client_that_leaves_ends_its_subscription(server):
    broker = server.app.state.ctx.broker
    with httpx.Client(timeout=10) as c:
        with c.stream("GET", server.url + "/api/events", headers=_token(server, "view")) as r:
            chunks = r.iter_raw()  # kept: a dropped iterator closes the response
            next(chunks)
            assert broker.subscriber_count == 1
    # Nothing is sent on the stream after the close: only the disconnect can end it.
    _until(lambda: broker.subscriber_count == 0)


def test_closing_subscribers_ends_the_http_stream(server):
    """What the shutdown signal does (web/shutdown.py): every open stream ends at once."""
    broker = server.app.state.ctx.broker
    with httpx.Client(timeout=10) as c:
        with c.stream("GET", server.url + "/api/events", headers=_token(server, "view")) as r:
            chunks = r.iter_raw()
            next(chunks)
            broker.close_subscribers()  # the server itself keeps running
            rest = b"".join(chunks)  # returns only once the response has ended
            assert rest == b""
    _until(lambda: broker.subscriber_count == 0)


@pytest.fixture
def bstore(store_url):
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()


def test_keep_alive_after_an_idle_spell_only(bstore):
    async def main() -> list[bytes]:
        broker = Broker(bstore, poll_interval_s=30.0)
        stream = sse_events(broker, after=None, keepalive_s=0.3)
        got = [await stream.__anext__()]  # the retry line
        try:
            got.append(await asyncio.wait_for(stream.__anext__(), 5))  # idle: a keep-alive
            await asyncio.to_thread(bstore.transact, _note(1))
            got.append(await asyncio.wait_for(stream.__anext__(), 5))  # the event, at once
            got.append(await asyncio.wait_for(stream.__anext__(), 5))  # idle again
        finally:
            await stream.aclose()
            await broker.stop()
        return got

    started = time.monotonic()
    got = _run(main())
    assert got[1] == b": keep-alive\n\n" and got[3] == b": keep-alive\n\n"
    assert b"event: note" in got[2]
    assert time.monotonic() - started >= 0.55


def test_a_screen_too_far_behind_is_dropped(bstore):
    async def main() -> tuple[bool, list[object]]:
        broker = Broker(bstore, poll_interval_s=30.0, max_batches=2)
        sub = broker.subscribe()
        try:
            for i in range(4):  # one batch each: the reader wakes per commit
                await asyncio.to_thread(bstore.transact, _note(i))
                await asyncio.sleep(0.2)
            items = [await asyncio.wait_for(sub.get(), 5) for _ in range(3)]
        finally:
            await broker.stop()
        return sub.dropped, items

    dropped, items = _run(main())
    assert dropped and items[-1] is _CLOSED  # its browser reconnects with Last-Event-ID
    assert all(i is not KEEPALIVE for i in items)


def test_the_documented_route_serves_the_same_stream_without_the_fast_path(settings, catalogue):
    from floodpost.web.routers.events import EventsFastPath

    app = create_app(settings, catalogue=catalogue)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not EventsFastPath]
    add_user(app.state.ctx.store, "staff", "staff")
    with ThreadServer(app) as srv, httpx.Client(timeout=10) as c:
        h = _token(srv, "staff")
        with c.stream("GET", srv.url + "/api/events", headers=h) as r:
            assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert r.headers["x-content-type-options"] == "nosniff"
            chunks = r.iter_raw()
            assert next(chunks).startswith(b"retry: 3000\n")
            body = new_report()
            assert httpx.post(srv.url + "/api/reports", json=body, headers=h).status_code == 201
            text = b""
            while b"\n\n" not in text:
                text += next(chunks)
            assert f'"id":"{body["id"]}"'.encode() in text
        assert httpx.get(srv.url + "/api/events?after=x", headers=h).status_code == 422


def test_keep_alive_waits_while_the_reader_is_busy(bstore):
    """A reader held up writing (a slow client) has batches waiting: no keep-alive is queued
    behind them; once it is idle again, the keep-alives resume."""

    async def main() -> list[object]:
        broker = Broker(bstore, poll_interval_s=30.0)
        sub = broker.subscribe(keepalive_s=0.1)
        try:
            await asyncio.to_thread(bstore.transact, _note(1))
            await asyncio.sleep(0.5)  # five keep-alive periods; the batch is not taken
            assert sub.pending() == 1
            first = await sub.get()
            second = await asyncio.wait_for(sub.get(), 5)  # idle from now: a keep-alive
        finally:
            await broker.stop()
        return [first, second]

    first, second = _run(main())
    assert isinstance(first, list) and second is KEEPALIVE
