"""Sign-in throttling cannot lock a commander out (issue 13), against a real server, from two
loopback addresses: an attacker at 127.0.0.2 is held back while the commander at 127.0.0.1
signs in; the counts survive a restart; lock-outs are in the account audit log."""

from __future__ import annotations

import httpx
import pytest

from floodpost.storage import open_store
from tests.reports_support import PASSWORD, ServerProcess, add_user

WRONG = "not-the-password"


def _client(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def _sign_in(client: httpx.Client, url: str, name: str, password: str) -> httpx.Response:
    return client.post(f"{url}/api/auth/token", data={"username": name, "password": password})


@pytest.fixture
def server(tmp_path):
    db = f"sqlite:///{tmp_path}/floodpost.db"
    store = open_store(db)
    try:
        add_user(store, "chief", "commander")
    finally:
        store.close()
    srv = ServerProcess(db)
    srv.start()
    yield srv
    srv.stop()


def test_an_attacker_cannot_lock_the_commander_out(server):
    with _client("127.0.0.2") as attacker, _client("127.0.0.1") as commander:
        for _ in range(5):
            assert _sign_in(attacker, server.url, "chief", WRONG).status_code == 401
        r = _sign_in(attacker, server.url, "chief", PASSWORD)  # even the right password waits
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert _sign_in(commander, server.url, "chief", PASSWORD).status_code == 200

        server.stop()  # the counts are in the store: a restart does not reset them
        server.start()
        assert _sign_in(attacker, server.url, "chief", WRONG).status_code == 429
        assert _sign_in(commander, server.url, "chief", PASSWORD).status_code == 200

    store = open_store(server.db_url)
    try:
        lockouts = [e for e in store.auth_audit("chief") if e["action"] == "lockout"]
    finally:
        store.close()
    assert lockouts and lockouts[0]["address"] == "127.0.0.2"


def test_many_addresses_trigger_only_a_back_off_for_those_that_failed(server):
    # Four addresses × 5 failures = 20 for the account: the global back-off starts.
    for i in range(2, 6):
        with _client(f"127.0.0.{i}") as attacker:
            for _ in range(5):
                assert _sign_in(attacker, server.url, "chief", WRONG).status_code == 401
    with _client("127.0.0.7") as newcomer:
        assert _sign_in(newcomer, server.url, "chief", WRONG).status_code == 401
        r = _sign_in(newcomer, server.url, "chief", WRONG)  # has failed: backs off globally
        assert r.status_code == 429
    with _client("127.0.0.1") as commander:  # never failed: not held back
        assert _sign_in(commander, server.url, "chief", PASSWORD).status_code == 200
    store = open_store(server.db_url)
    try:
        details = [e["detail"] for e in store.auth_audit("chief") if e["action"] == "lockout"]
    finally:
        store.close()
    assert any("global back-off" in d for d in details)


def test_counts_live_in_the_store_on_both_backends(store_url):
    from floodpost.auth.throttle import LoginThrottle
    from floodpost.clock import ManualClock
    from floodpost.errors import Throttled

    clock = ManualClock(1_000_000.0)
    store = open_store(store_url)
    try:
        t = LoginThrottle(3, 60, clock, store)
        for _ in range(3):
            t.record_failure("chief", "10.0.0.2")
        with pytest.raises(Throttled):
            t.check("chief", "10.0.0.2")
        t.check("chief", "10.0.0.1")
    finally:
        store.close()
    store = open_store(store_url)  # a restart: the counts are still there
    try:
        t = LoginThrottle(3, 60, clock, store)
        with pytest.raises(Throttled) as exc:
            t.check("chief", "10.0.0.2")
        assert exc.value.extra["retry_after_s"] == 60
        assert [e["address"] for e in store.auth_audit("chief")] == ["10.0.0.2"]
        clock.advance(61)
        t.check("chief", "10.0.0.2")  # the window has passed
    finally:
        store.close()
