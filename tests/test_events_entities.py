"""Changes of entities other than reports on the event stream and beside the projections
(issue 8): `event: <entity>`, id = seq, data = the logged body; on both backends."""

from __future__ import annotations

import httpx
import pytest

from floodpost.storage import open_store
from floodpost.web.app import create_app
from tests.live_support import ThreadServer, read_events
from tests.reports_support import add_user, new_report


@pytest.fixture
def server(store_url, settings, catalogue):
    store = open_store(store_url)
    app = create_app(settings, store=store, catalogue=catalogue)
    for name, role in (("staff", "staff"), ("f1", "field"), ("view", "viewer")):
        add_user(store, name, role)
    try:
        with ThreadServer(app) as srv:
            srv.store = store
            yield srv
    finally:
        store.close()


def _token(srv, name):
    r = httpx.post(
        srv.url + "/api/auth/token", data={"username": name, "password": "correct-horse-1"}
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _warning(store, wid, level):
    body = {"id": wid, "level": level, "text": "水位 <b>上涨</b>"}
    seq = store.transact(lambda tx: tx.log("warning", wid, "issue", body, actor="hydro"))
    return seq, body


def test_other_entities_stream_as_their_own_event(server):
    store = server.store
    h = _token(server, "view")
    with httpx.Client(timeout=10) as c, c.stream("GET", server.url + "/api/events", headers=h) as r:
        first = httpx.post(
            server.url + "/api/reports", json=new_report(), headers=_token(server, "staff")
        )
        assert first.status_code == 201
        seq, body = _warning(store, "w-1", "orange")
        got = read_events(r, 2)
    assert [e["event"] for e in got] == ["report", "warning"]
    assert got[0]["data"]["id"] == first.json()["id"]
    assert got[1]["id"] == str(seq) and got[1]["data"] == body
    # A reconnecting screen catches up on both kinds, in seq order; field members too.
    seq2, body2 = _warning(store, "w-1", "red")
    for who in ("view", "f1"):
        url = f"{server.url}/api/events?after={got[0]['id']}"
        with httpx.Client(timeout=10) as c, c.stream("GET", url, headers=_token(server, who)) as r:
            missed = read_events(r, 2)
        assert [(e["event"], e["id"], e["data"]) for e in missed] == [
            ("warning", str(seq), body),
            ("warning", str(seq2), body2),
        ]


def test_projections_ignore_other_entities(server):
    store = server.store
    staff = _token(server, "staff")
    assert (
        httpx.post(
            server.url + "/api/reports", json=new_report(people=7), headers=staff
        ).status_code
        == 201
    )
    before = httpx.get(server.url + "/api/live/state", headers=staff).json()
    _warning(store, "w-9", "red")
    after = httpx.get(server.url + "/api/live/state", headers=staff).json()
    assert after["totals"] == before["totals"] and after["totals"]["evacuated"] == 7
    assert after["seq"] == store.last_change_seq()
    summary = httpx.get(server.url + "/api/stats/summary", headers=staff).json()
    assert summary["evacuated"] == 7
