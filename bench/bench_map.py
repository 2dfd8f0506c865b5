"""The live map page at scale: ready time and bytes with 1,000 vs 100,000 simulated events.

    .venv/bin/python bench/bench_map.py [--small 1000] [--large 100000] [--runs 3]

For each size: a fresh SQLite store filled by `floodpost simulate`, `floodpost serve` in a
subprocess, headless Chromium (/usr/bin/chromium) signed in as a viewer, then the page `/` loaded
with the browser cache disabled. Measured from navigation start to `document.body.dataset.ready
== "1"` (static and live layers drawn), and the bytes received (encoded, all requests; the event
stream stays open and is not counted). The first load (server caches cold) and the median of the
next `--runs` loads are printed, with the ratio of large to small.
Targets (issue 4): ready with 100,000 events ≤ 2 × the 1,000-event time; ≤ 3 MB transferred.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from floodpost.auth.accounts import create_account
from floodpost.geo.catalogue import Catalogue
from floodpost.paths import default_geodata
from floodpost.replay.simulate import simulate
from floodpost.storage import open_store

CHROMIUM = os.environ.get("FLOODPOST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(work: Path, events: int) -> str:
    url = f"sqlite:///{work}/floodpost.db"
    store = open_store(url)
    try:
        t0 = time.perf_counter()
        simulate(store, Catalogue.load(default_geodata()), events=events, seed=0)
        print(f"  simulate {events:,} events: {time.perf_counter() - t0:.1f} s", flush=True)
        create_account(store, "bench", "viewer", PASSWORD)
    finally:
        store.close()
    return url


def serve(work: Path, db_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOODPOST_")}
    env.update(FLOODPOST_SECRET_KEY=secrets.token_urlsafe(32), FLOODPOST_TILE_URL="")
    log = open(work / "server.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "floodpost", "serve", "--db", db_url, "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError((work / "server.log").read_text())


def measure(browser, base: str, runs: int) -> tuple[float, int, list[float], list[int]]:  # noqa: ANN001
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    page.goto(base + "/login?next=/")
    page.fill("input[name=username]", "bench")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(base + "/")
    page.wait_for_function("document.body.dataset.ready === '1'", timeout=120_000)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    received = {"bytes": 0}
    cdp.on("Network.loadingFinished", lambda e: received.__setitem__(
        "bytes", received["bytes"] + int(e.get("encodedDataLength", 0))))  # fmt: skip
    times, sizes = [], []
    for _ in range(runs + 1):
        received["bytes"] = 0
        page.goto("about:blank")
        t0 = time.perf_counter()
        page.goto(base + "/")
        page.wait_for_function("document.body.dataset.ready === '1'", timeout=120_000)
        times.append(time.perf_counter() - t0)
        page.wait_for_timeout(300)  # let the last loadingFinished events arrive
        sizes.append(received["bytes"])
    errors = page.evaluate("document.body.dataset.live")
    if errors != "up":
        print(f"  warning: live link state is {errors!r}", flush=True)
    context.close()
    return times[0], sizes[0], times[1:], sizes[1:]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", type=int, default=1_000)
    ap.add_argument("--large", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for n in (args.small, args.large):
            work = Path(tempfile.mkdtemp(prefix=f"bench-map-{n}-"))
            print(f"{n:,} events", flush=True)
            proc = None
            try:
                db_url = prepare(work, n)
                proc, base = serve(work, db_url)
                first_t, first_b, times, sizes = measure(browser, base, args.runs)
                results[n] = (first_t, first_b, statistics.median(times), statistics.median(sizes))
                print(f"  first load {first_t:.2f} s, {first_b / 1e6:.2f} MB; "
                      f"then median {results[n][2]:.2f} s, {results[n][3] / 1e6:.2f} MB "
                      f"(runs: {', '.join(f'{t:.2f}' for t in times)})", flush=True)  # fmt: skip
            finally:
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=20)
                shutil.rmtree(work, ignore_errors=True)
        browser.close()
    s, big = results[args.small], results[args.large]
    print(f"ratio ready time {args.large:,} / {args.small:,}: first {big[0] / s[0]:.2f}, "
          f"median {big[2] / s[2]:.2f}  (target ≤ 2)")  # fmt: skip
    print(f"bytes with {args.large:,} events: {big[3] / 1e6:.2f} MB (target ≤ 3 MB)")


if __name__ == "__main__":
    main()
