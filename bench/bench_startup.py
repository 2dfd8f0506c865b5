"""Startup and memory with a big log (issue 14 §4, §5).

    .venv/bin/python bench/bench_startup.py [--events 1000000] [--db sqlite:///path] [--src SRC]

Fills a fresh SQLite store with `floodpost simulate --events N` (unless --db names a filled one),
then starts `floodpost serve` (one worker) and, from the moment the process is spawned, asks
every 50 ms, each on its own connection: `/healthz`, the map page `/`, the live picture
`/api/live/state`, report intake (`POST /api/reports`) and the statistics `/api/stats/summary`.
Prints when each first answered 200 (or 201) and what the statistics answered before that, then
the server's resident memory (VmRSS) once the statistics are ready (roll-ups warm) and again
after a few statistics and live requests. Baseline from the same run: the time until /healthz
first answers (the process is up) — the targets are relative to it: map and intake within 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import PASSWORD, Conn, free_port, report_body, village_points  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def first_ok(
    port: int, method: str, path: str, t0: float, headers: dict[str, str], body: Any = None
) -> tuple[float, list[str]]:
    """Seconds from spawn to the first 2xx; the distinct non-2xx answers seen before."""
    seen: list[str] = []
    while True:
        try:
            conn = await Conn.open(port)
            try:
                payload = body() if callable(body) else (body or b"")
                status, text = await asyncio.wait_for(
                    conn.request(method, path, payload, headers), 120
                )
            finally:
                conn.close()
            if 200 <= status < 300:
                return time.perf_counter() - t0, seen
            note = f"{status} {text[:120]!r}"
            if note not in seen:
                seen.append(note)
        except (OSError, ConnectionError, asyncio.IncompleteReadError):
            pass
        await asyncio.sleep(0.05)


async def token(port: int) -> str:
    import json

    while True:
        try:
            conn = await Conn.open(port)
            form = f"username=bench&password={PASSWORD}".encode()
            status, body = await conn.request(
                "POST",
                "/api/auth/token",
                form,
                {"Content-Type": "application/x-www-form-urlencoded"},
            )
            conn.close()
            if status == 200:
                return str(json.loads(body)["access_token"])
        except OSError:
            pass
        await asyncio.sleep(0.05)


async def run(args: argparse.Namespace) -> None:
    py = sys.executable
    env = {**os.environ, "FLOODPOST_SECRET_KEY": "bench-" + "k" * 40}
    if args.src:
        env["PYTHONPATH"] = args.src
    db = args.db
    if db is None:
        folder = Path(tempfile.mkdtemp(prefix="floodpost-startup-", dir=args.dir))
        db = f"sqlite:///{folder}/floodpost.db"
        t = time.perf_counter()
        subprocess.run(
            [py, "-m", "floodpost", "simulate", "--db", db, "--events", str(args.events)],
            check=True, env=env, capture_output=True,
        )  # fmt: skip
        print(f"simulate {args.events:,} events: {time.perf_counter() - t:.1f} s", flush=True)
    subprocess.run(
        [py, "-m", "floodpost", "user", "add", "bench", "--role", "commander", "--password-stdin",
         "--db", db],
        input=PASSWORD + "\n", text=True, env=env, capture_output=True,
    )  # fmt: skip
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [py, "-m", "floodpost", "serve", "--db", db, "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        health, _ = await first_ok(port, "GET", "/healthz", t0, {})
        auth = {"Authorization": f"Bearer {await token(port)}"}
        points, rng = village_points(), random.Random(1)
        post_h = {**auth, "Content-Type": "application/json"}
        names = ["map page /", "live state", "intake POST", "stats summary"]
        results = await asyncio.gather(
            first_ok(port, "GET", "/", t0, auth),
            first_ok(port, "GET", "/api/live/state", t0, auth),
            first_ok(port, "POST", "/api/reports", t0, post_h, lambda: report_body(points, rng)),
            first_ok(port, "GET", "/api/stats/summary", t0, auth),
        )
        print(f"process up (/healthz 200): {health:.2f} s after spawn (baseline)")
        for name, (secs, seen) in zip(names, results, strict=True):
            extra = f"; before that: {seen}" if seen else ""
            print(
                f"{name:<14} first answer {secs:6.2f} s after spawn, {secs - health:+.2f} s{extra}"
            )
        print(f"RSS with roll-ups warm: {rss_mb(proc.pid):.0f} MB")
        for path in ("/api/stats/by-township", "/api/stats/by-day", "/api/live/state"):
            await first_ok(port, "GET", path, time.perf_counter(), auth)
        print(f"RSS after statistics and live requests: {rss_mb(proc.pid):.0f} MB")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--db", default=None, help="a filled store (skips simulate)")
    p.add_argument("--src", default=None, help="PYTHONPATH for the server (e.g. a base worktree)")
    p.add_argument("--dir", default=None)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
