"""Helpers for the live command-post tests: reports made the way intake makes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from floodpost.reports.model import parse_report
from floodpost.reports.stored import build_stored

# 2017-07-01 12:00 Asia/Shanghai, in the flood week.
T0 = datetime(2017, 7, 1, 4, 0, tzinfo=UTC).timestamp()


def village_seat(catalogue: Any, index: int = 0) -> tuple[float, float, str]:
    code, v = list(catalogue.records("villages").items())[index]
    return float(v["seat_lon"]), float(v["seat_lat"]), code


def make_report(
    router: Any, *, received_ts: float, reporter: str = "li", **fields: Any
) -> tuple[dict[str, Any], str]:
    payload = {
        "id": str(uuid.uuid4()),
        "kind": "help_request",
        "occurred_at": datetime.fromtimestamp(received_ts, UTC).isoformat(),
        "people": 3,
        "note": "",
    }
    payload.update(fields)
    report = parse_report(payload)
    routing = router.route(report.lon, report.lat, report.village_code)
    return build_stored(report, routing, reporter=reporter, received_ts=received_ts), (
        report.content_hash()
    )


def add_report(store: Any, router: Any, *, received_ts: float, **fields: Any) -> dict[str, Any]:
    stored, chash = make_report(router, received_ts=received_ts, **fields)
    created, _ = store.create_report(stored, chash, actor=stored["reporter"])
    return created


class ThreadServer:
    """The app under a real uvicorn in a thread: streaming responses need a real server
    (TestClient buffers a response until it ends, and an event stream never does)."""

    def __init__(self, app: Any) -> None:
        import socket
        import threading

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.server.config.timeout_graceful_shutdown = 1
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def read_events(response: Any, count: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """Parse `count` SSE events (comments skipped) from a streaming httpx response."""
    import json
    import time

    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    deadline = time.monotonic() + timeout_s
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            break
        if line == "":
            if "data" in current:
                current["data"] = json.loads(current["data"])
                events.append(current)
                if len(events) >= count:
                    break
            current = {}
        elif line.startswith(":"):
            continue
        else:
            key, _, value = line.partition(":")
            current[key] = value.removeprefix(" ")
    return events


PASSWORD = "correct-horse-1"


def add_server_user(server: Any, name: str, role: str) -> None:
    """An account in a subprocess server's store, made through the CLI as an operator would."""
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-m", "floodpost", "user", "add", name, "--role", role,
         "--password", PASSWORD, "--db", server.db_url],
        check=True, capture_output=True, env=server.env,
    )  # fmt: skip


def bearer_for(server: Any, name: str) -> dict[str, str]:
    import httpx

    r = httpx.post(server.url + "/api/auth/token", data={"username": name, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def sign_in(page: Any, server: Any, name: str) -> None:
    """Sign in through the /login form, landing on the map page."""
    page.goto(server.url + "/login?next=/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit], form input[type=submit]")
    page.wait_for_url(server.url + "/")
