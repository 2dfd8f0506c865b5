"""Helpers for the auth and report API tests: accounts, tokens, payloads, a real server process."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx

from floodpost.auth.accounts import create_account
from floodpost.auth.passwords import hash_password
from floodpost.auth.tokens import issue_token
from floodpost.storage.base import User

PASSWORD = "correct-horse-1"
# A point in the middle of Suining (inside a village area) and one ~2 km outside the county.
INSIDE = (110.15, 26.6)
ROLES = ("commander", "staff", "field", "viewer", "gauge")


def add_user(store: Any, name: str, role: str, password: str = PASSWORD) -> None:
    create_account(store, name, role, password)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)


def quick_user(ctx: Any, name: str, role: str) -> dict[str, str]:
    """An account with the shared password (hashed once per session) and its bearer header,
    minted directly: argon2 per test would dominate the run time of the API tests."""
    ctx.store.add_user(User(name, role, _password_hash(), time.time()))
    token = issue_token(ctx.secret_key, name, role, ttl_s=3600, now=ctx.clock())
    return {"Authorization": f"Bearer {token}"}


def bearer(client: Any, name: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/auth/token", data={"username": name, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def new_report(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "kind": "evacuation",
        "occurred_at": "2017-07-01T10:00:00+08:00",
        "lon": INSIDE[0],
        "lat": INSIDE[1],
        "people": 12,
        "note": "转移群众",
    }
    body.update(fields)
    return body


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """`python -m floodpost serve` on a free port, startable again on the same database."""

    def __init__(self, db_url: str, *, secret: str | None = None, workers: int = 1) -> None:
        self.db_url = db_url
        self.secret = secret or secrets.token_urlsafe(32)
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(db_url.removeprefix("sqlite:///")).with_suffix(".log")

    def start(self, timeout_s: float = 60.0) -> None:
        env = {**os.environ, "FLOODPOST_SECRET_KEY": self.secret, "FLOODPOST_TILE_URL": ""}
        cmd = [sys.executable, "-m", "floodpost", "serve", "--db", self.db_url]
        cmd += ["--port", str(self.port), "--workers", str(self.workers)]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flush — what a power cut leaves."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def token(self, name: str, password: str = PASSWORD) -> str:
        r = httpx.post(self.url + "/api/auth/token", data={"username": name, "password": password})
        r.raise_for_status()
        return r.json()["access_token"]
