"""`floodpost demo` as a user runs it: a subprocess on a free port, accounts printed, totals."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.reports_support import free_port

START_TIMEOUT_S = 90.0


@dataclass
class DemoServer:
    url: str
    process: subprocess.Popen
    accounts: dict[str, str]
    output: list[str]

    def token(self, name: str) -> dict[str, str]:
        r = httpx.post(
            self.url + "/api/auth/token",
            data={"username": name, "password": self.accounts[name]},
        )
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_demo(tmp: Path, *args: str) -> DemoServer:
    port = free_port()
    env = os.environ | {"FLOODPOST_TILE_URL": "", "PYTHONUNBUFFERED": "1"}
    log = open(tmp / f"demo-{port}.log", "w+", encoding="utf-8")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "floodpost", "demo", "--port", str(port), *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            health = httpx.get(url + "/healthz", timeout=1)
            # Up, and the roll-ups warm (until then statistics answer 503 warming_up).
            if health.status_code == 200 and "warming" not in health.json():
                break
            time.sleep(0.3)
        except httpx.HTTPError:
            time.sleep(0.3)
    log.seek(0)
    output = log.read().splitlines()
    if proc.poll() is not None or time.monotonic() >= deadline:
        proc.kill()
        raise AssertionError("demo did not start:\n" + "\n".join(output))
    accounts = {}
    for line in output:
        m = re.match(r"^\s+(commander|staff|field|viewer)\s+(\S+)$", line)
        if m:
            accounts[m.group(1)] = m.group(2)
    return DemoServer(url, proc, accounts, output)


@pytest.fixture(scope="module")
def demo_max(tmp_path_factory) -> Iterator[DemoServer]:
    server = start_demo(tmp_path_factory.mktemp("demo"), "--speed", "max")
    yield server
    server.stop()


@pytest.mark.slow
def test_demo_max_serves_the_seed_totals(demo_max):
    assert set(demo_max.accounts) == {"commander", "staff", "field", "viewer"}
    r = httpx.get(demo_max.url + "/api/stats/summary", headers=demo_max.token("viewer"))
    s = r.json()
    assert (s["evacuated"], s["rescued"], s["deaths"], s["missing"]) == (59_700, 1_960, 0, 0)
    assert s["reservoirs_failed"] == 0
    days = httpx.get(demo_max.url + "/api/stats/by-day", headers=demo_max.token("staff")).json()
    assert days["rows"][0]["date"] == "2017-06-24" and days["rows"][-1]["date"] == "2017-07-01"


@pytest.mark.slow
def test_demo_pages_carry_the_demo_badge(demo_max):
    with httpx.Client(base_url=demo_max.url) as c:
        login = c.get("/login")
        csrf = c.cookies.get("fp_csrf")
        r = c.post(
            "/login",
            data={
                "username": "viewer",
                "password": demo_max.accounts["viewer"],
                "csrf_token": csrf or "",
                "next": "/review",
            },
            follow_redirects=True,
        )
        assert login.status_code == 200
        assert r.status_code == 200 and 'id="demo-badge"' in r.text
        assert "59,700" in r.text


@pytest.mark.slow
def test_demo_at_speed_plays_the_flood_through_the_store(tmp_path):
    # 100,000 simulated seconds per second: the week takes about 7 s.
    server = start_demo(tmp_path, "--speed", "100000")
    try:
        h = server.token("commander")
        seen = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            s = httpx.get(server.url + "/api/stats/summary", headers=h).json()
            seen.append(s["evacuated"])
            if s["evacuated"] == 59_700 and s["open_help_requests"] == 0:
                break
            time.sleep(0.5)
        assert seen[-1] == 59_700, seen
        assert seen[0] < 59_700  # it was served before the log was complete
        s = httpx.get(server.url + "/api/stats/summary", headers=h).json()
        assert s["rescued"] == 1_960
    finally:
        server.stop()


def test_demo_refuses_a_store_that_holds_data(tmp_path, catalogue):
    from floodpost.replay.demo import load_all
    from floodpost.storage import open_store

    url = f"sqlite:///{tmp_path}/used.db"
    store = open_store(url)
    load_all(store, catalogue)
    store.close()
    out = subprocess.run(
        [sys.executable, "-m", "floodpost", "demo", "--db", url, "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert "empty store" in out.stderr
