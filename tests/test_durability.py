"""Against a real `floodpost serve` process: parallel identical posts store one report, and every
report acknowledged before a SIGKILL is there after a restart, exactly once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from floodpost.cli import main as cli_main
from floodpost.storage import open_store
from tests.reports_support import PASSWORD, ServerProcess, new_report

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path):
    db_url = f"sqlite:///{tmp_path}/floodpost.db"
    assert (
        cli_main(["user", "add", "li", "--role", "field", "--password", PASSWORD, "--db", db_url])
        == 0
    )
    srv = ServerProcess(db_url)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _count(db_url: str, sql: str, params=()) -> int:
    store = open_store(db_url)
    try:
        return int(store.read(sql, params)[0]["n"])
    finally:
        store.close()


def test_twenty_identical_posts_in_parallel(server):
    headers = {"Authorization": f"Bearer {server.token('li')}"}
    body = new_report()
    barrier = threading.Barrier(20)

    def post(_: int) -> int:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            barrier.wait()
            return c.post("/api/reports", json=body, headers=headers).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(post, range(20)))
    assert sorted(statuses) == [200] * 19 + [201]
    server.stop()
    assert _count(server.db_url, "SELECT COUNT(*) AS n FROM reports") == 1
    assert _count(server.db_url, "SELECT COUNT(*) AS n FROM changes") == 1


def test_acknowledged_reports_survive_sigkill(server):
    headers = {"Authorization": f"Bearer {server.token('li')}"}
    acked: dict[str, dict] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def burst() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as c:
            while not stop.is_set():
                body = new_report()
                try:
                    r = c.post("/api/reports", json=body, headers=headers)
                except httpx.HTTPError:
                    return  # the server died under us: this one was never acknowledged
                if r.status_code in (200, 201):
                    with lock:
                        acked[body["id"]] = body

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(acked) < 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # mid-burst: requests are in flight
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acked) >= 200

    server.start()  # same database, fresh process (recovers the WAL)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            headers = {"Authorization": f"Bearer {server.token('li')}"}
            listed = []
            cursor = None
            while True:
                params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
                page = c.get("/api/reports", params=params, headers=headers).json()
                listed += [r["id"] for r in page["reports"]]
                cursor = page["next_cursor"]
                if not cursor:
                    break
            assert len(listed) == len(set(listed)), "a report stored twice"
            missing = set(acked) - set(listed)
            assert not missing, f"{len(missing)} acknowledged reports lost"
            # Resending an acknowledged report now is an identical resend, never a second copy.
            some = list(acked.values())[:20]
            assert {c.post("/api/reports", json=b, headers=headers).status_code for b in some} == {
                200
            }
    finally:
        server.stop()
    creates = _count(server.db_url, "SELECT COUNT(*) AS n FROM changes WHERE action = 'create'")
    assert creates == len(listed)


def test_serve_generates_and_reuses_a_secret(tmp_path):
    import os
    import stat
    import subprocess
    import sys

    from tests.reports_support import free_port

    db = tmp_path / "floodpost.db"
    env = {k: v for k, v in os.environ.items() if k != "FLOODPOST_SECRET_KEY"}
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "floodpost",
            "serve",
            "--db",
            f"sqlite:///{db}",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        key_file = tmp_path / "floodpost.key"
        assert key_file.exists()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_body_limit_over_real_http(server):
    """413 from uvicorn itself for a declared and for a chunked oversized body."""
    headers = {"Authorization": f"Bearer {server.token('li')}", "Content-Type": "application/json"}
    big = b'{"note": "' + b"x" * 70_000 + b'"}'
    with httpx.Client(base_url=server.url, timeout=30) as c:
        r = c.post("/api/reports", content=big, headers=headers)
        assert r.status_code == 413

        def chunks():
            for _ in range(100):
                yield b" " * 1000

        r = c.post("/api/reports", content=chunks(), headers=headers)
        assert r.status_code == 413 and r.json()["error"] == "too_large"
        # The server is still fine afterwards.
        assert c.post("/api/reports", json=new_report(), headers=headers).status_code == 201
