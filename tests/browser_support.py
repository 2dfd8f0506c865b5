"""Real-browser test support: a floodpost server in a subprocess and offline headless Chromium.

Use from a test module::

    from tests.browser_support import browser, live_server, offline_page, server_factory  # noqa: F401

    @pytest.mark.browser
    def test_something(live_server, offline_page):
        offline_page.goto(live_server.url + "/")
        offline_page.wait_ready()
        assert offline_page.blocked == []

* ``server_factory(**env)`` starts ``python -m floodpost serve`` on a free port with a fresh SQLite
  store in a temporary directory and a random secret; ``env`` adds ``FLOODPOST_*`` variables
  (e.g. ``server_factory(FLOODPOST_TILE_URL="")``). Every server it started is stopped at teardown.
* ``live_server``: one such server with no basemap (``FLOODPOST_TILE_URL=""``), so a page makes
  no request outside 127.0.0.1 at all.
* ``browser``: Chromium from /usr/bin/chromium (never a downloaded build), one per test process
  however many modules import the fixture (``shared_browser()`` outside pytest fixtures).
* ``offline_page``: a fresh 1920×1080 context whose every request to a host other than
  127.0.0.1/localhost is aborted and recorded in ``.blocked``; page errors and console errors are
  collected in ``.page_errors`` / ``.console_errors``; ``.requests`` lists every request made.
"""

from __future__ import annotations

import atexit
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("FLOODPOST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
SERVER_START_TIMEOUT_S = 60.0
READY_TIMEOUT_MS = 30_000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    port: int
    db_url: str
    workdir: Path
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str]

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(workdir: Path, extra_env: dict[str, str] | None = None, *args: str) -> LiveServer:
    """Start ``floodpost serve`` and wait until /healthz answers (raises with the log if not)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    db_url = f"sqlite:///{workdir}/floodpost.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOODPOST_")}
    env["FLOODPOST_SECRET_KEY"] = secrets.token_urlsafe(32)
    env.update(extra_env or {})
    log_path = workdir / "server.log"
    cmd = [sys.executable, "-m", "floodpost", "serve", "--db", db_url]
    cmd += ["--host", "127.0.0.1", "--port", str(port), *args]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(
        url=f"http://127.0.0.1:{port}",
        port=port,
        db_url=db_url,
        workdir=workdir,
        process=process,
        log_path=log_path,
        env=env,
    )
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"floodpost serve exited with {process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"floodpost serve did not answer /healthz in time:\n{server.log()}")


@pytest.fixture
def server_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LiveServer]]:
    started: list[LiveServer] = []

    def make(*args: str, **env: str) -> LiveServer:
        server = start_server(tmp_path_factory.mktemp("server"), env, *args)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def live_server(server_factory: Callable[..., LiveServer]) -> LiveServer:
    return server_factory(FLOODPOST_TILE_URL="")


_SHARED: dict[str, Any] = {}


def _stop_shared() -> None:
    browser = _SHARED.pop("browser", None)
    playwright = _SHARED.pop("playwright", None)
    try:
        if browser is not None:
            browser.close()
        if playwright is not None:
            playwright.stop()
    except Exception:  # noqa: BLE001, S110 - interpreter exit: Chromium dies with its pipe anyway
        pass


def shared_browser() -> Any:
    """One Chromium for the whole test process.

    Playwright's sync API allows only one running instance per thread, and test modules may
    each import the ``browser`` fixture (each import is its own session fixture), so they all
    share this one, stopped when the interpreter exits.
    """
    if "browser" not in _SHARED:
        if not Path(CHROMIUM).exists():
            pytest.fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        _SHARED["playwright"] = playwright
        _SHARED["browser"] = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        atexit.register(_stop_shared)
    return _SHARED["browser"]


@pytest.fixture(scope="session")
def browser() -> Any:
    return shared_browser()


@dataclass
class OfflinePage:
    """A Playwright page whose requests never leave 127.0.0.1 (attribute access passes through)."""

    page: Any
    context: Any
    blocked: list[tuple[str, str]] = field(default_factory=list)  # (url, resource type)
    requests: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)

    def wait_ready(self, timeout_ms: int = READY_TIMEOUT_MS) -> None:
        """Wait for the page's ``document.body.dataset.ready == "1"``."""
        self.page.wait_for_function(
            "() => document.body && document.body.dataset.ready === '1'", timeout=timeout_ms
        )


def open_offline_page(browser: Any, **context_options: Any) -> OfflinePage:
    options = {"viewport": {"width": 1920, "height": 1080}, "locale": "zh-CN"}
    options.update(context_options)
    context = browser.new_context(**options)
    page = context.new_page()
    wrapped = OfflinePage(page=page, context=context)

    def route(route: Any) -> None:
        request = route.request
        wrapped.requests.append((request.url, request.resource_type))
        host = urlparse(request.url).hostname
        if host in LOCAL_HOSTS:
            route.continue_()
        else:
            wrapped.blocked.append((request.url, request.resource_type))
            route.abort("blockedbyclient")

    context.route("**/*", route)
    page.on("pageerror", lambda exc: wrapped.page_errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: wrapped.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    return wrapped


@pytest.fixture
def offline_page(browser: Any) -> Iterator[OfflinePage]:
    wrapped = open_offline_page(browser)
    try:
        yield wrapped
    finally:
        wrapped.context.close()
