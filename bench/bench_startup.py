"""Startup and memory with a big log (issue 14 §4, §5).

    .venv/bin/python bench/bench_startup.py [--events 1000000] [--db sqlite:///path] [--src SRC]
        [--base BASE_SRC]

Fills a fresh SQLite store with `floodpost simulate --events N` (unless --db names a filled one),
then starts `floodpost serve` (one worker) and, from the moment the process is spawned, asks
every 50 ms, each on its own connection: `/healthz`, the map page `/`, the live picture
`/api/live/state`, report intake (`POST /api/reports`) and the statistics `/api/stats/summary`.
Prints for each when it first answered at all (any HTTP status: the statistics' and the live
picture's 503 `warming_up`) and when it first answered 200 (or 201), the warm-up progress the
503 answers carried, then the server's resident memory (VmRSS) once the statistics are ready
(roll-ups warm) and again after a few statistics and live requests. Baseline from the same run:
the time until /healthz first answers (the process is up) — the targets are relative to it: map
and intake within 2 s, and the statistics answer (if only "warming up") within 2 s too.
With `--base` the same is measured first for the old code (PYTHONPATH=BASE_SRC, e.g. a
`git worktree add /tmp/base main`) on the same database, then for this code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import PASSWORD, Conn, free_port, report_body, village_points  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Answers:
    """What one route answered from spawn on: first answer of any kind, first 2xx, the rest."""

    first_any: float | None = None
    first_ok: float | None = None
    seen: list[str] = field(default_factory=list)  # distinct non-2xx answers, in order
    fractions: list[float] = field(default_factory=list)  # warm-up progress seen, in order

    def note(self, status: int, text: bytes) -> None:
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("error") == "warming_up":
            fraction = float(body.get("progress", {}).get("fraction") or 0.0)
            if not self.fractions or self.fractions[-1] != fraction:
                self.fractions.append(fraction)
            note = f"{status} warming_up"
        else:
            note = f"{status} {text[:120]!r}"
        if note not in self.seen:
            self.seen.append(note)


async def ask_until_ok(
    port: int, method: str, path: str, t0: float, headers: dict[str, str], body: Any = None
) -> Answers:
    """Ask every 50 ms (a new connection each time) until a 2xx; times are from spawn."""
    out = Answers()
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
            now = time.perf_counter() - t0
            if out.first_any is None:
                out.first_any = now
            if 200 <= status < 300:
                out.first_ok = now
                return out
            out.note(status, text)
        except (OSError, ConnectionError, asyncio.IncompleteReadError):
            pass
        await asyncio.sleep(0.05)


async def token(port: int) -> str:
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


def fill(args: argparse.Namespace, env: dict[str, str]) -> str:
    if args.db is not None:
        return str(args.db)
    folder = Path(tempfile.mkdtemp(prefix="floodpost-startup-", dir=args.dir))
    db = f"sqlite:///{folder}/floodpost.db"
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "floodpost", "simulate", "--db", db, "--events", str(args.events)],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    print(f"simulate {args.events:,} events: {time.perf_counter() - t:.1f} s", flush=True)
    return db


async def measure(label: str, db: str, env: dict[str, str]) -> dict[str, Answers]:
    port = free_port()
    print(f"\n== {label} (load average {load_average()})", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "floodpost", "serve", "--db", db, "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        health = await ask_until_ok(port, "GET", "/healthz", t0, {})
        up = health.first_ok or 0.0
        auth = {"Authorization": f"Bearer {await token(port)}"}
        points, rng = village_points(), random.Random(1)
        post_h = {**auth, "Content-Type": "application/json"}
        names = ["map page /", "live state", "intake POST", "stats summary"]
        results = await asyncio.gather(
            ask_until_ok(port, "GET", "/", t0, auth),
            ask_until_ok(port, "GET", "/api/live/state", t0, auth),
            ask_until_ok(
                port, "POST", "/api/reports", t0, post_h, lambda: report_body(points, rng)
            ),
            ask_until_ok(port, "GET", "/api/stats/summary", t0, auth),
        )
        print(f"process up (/healthz 200): {up:.2f} s after spawn (baseline)")
        print(f"{'':<14} {'first answer':>22} {'first 2xx':>22}")
        for name, a in zip(names, results, strict=True):
            first_any, first_ok = a.first_any or 0.0, a.first_ok or 0.0
            print(
                f"{name:<14} {first_any:6.2f} s ({first_any - up:+6.2f} s)"
                f" {first_ok:8.2f} s ({first_ok - up:+6.2f} s)"
            )
            if a.seen:
                print(f"{'':<14} before 2xx: {a.seen}")
            if a.fractions:
                shown = ", ".join(f"{f:.0%}" for f in a.fractions)
                print(f"{'':<14} progress seen: {shown}")
        print(f"RSS with roll-ups warm: {rss_mb(proc.pid):.0f} MB")
        for path in ("/api/stats/by-township", "/api/stats/by-day", "/api/live/state"):
            await ask_until_ok(port, "GET", path, time.perf_counter(), auth)
        print(f"RSS after statistics and live requests: {rss_mb(proc.pid):.0f} MB")
        print(f"load average after: {load_average()}", flush=True)
        return dict(zip(["health", *names], [health, *results], strict=True))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


async def run(args: argparse.Namespace) -> None:
    env = {**os.environ, "FLOODPOST_SECRET_KEY": "bench-" + "k" * 40}
    if args.src:
        env["PYTHONPATH"] = args.src
    db = fill(args, env)
    subprocess.run(
        [sys.executable, "-m", "floodpost", "user", "add", "bench", "--role", "commander",
         "--password-stdin", "--db", db],
        input=PASSWORD + "\n", text=True, env=env, capture_output=True,
    )  # fmt: skip
    runs = []
    if args.base:
        runs.append(("base", {**env, "PYTHONPATH": args.base}))
    runs.append(("this code", env))
    measured = {label: await measure(label, db, e) for label, e in runs}
    if args.base:
        print("\n== ratio this code / base, time from /healthz to the first answer of any kind")
        for name in ("live state", "stats summary"):
            base, new = measured["base"], measured["this code"]

            def after_up(m: dict[str, Answers], what: str) -> float:
                return (m[what].first_any or 0.0) - (m["health"].first_ok or 0.0)

            b, n = after_up(base, name), after_up(new, name)
            print(
                f"{name:<14} base {b:+.2f} s, this code {n:+.2f} s, ratio {n / b if b else 0:.2f}"
            )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--db", default=None, help="a filled store (skips simulate)")
    p.add_argument("--src", default=None, help="PYTHONPATH for the server (e.g. a base worktree)")
    p.add_argument("--base", default=None, help="PYTHONPATH of the old code, measured first")
    p.add_argument("--dir", default=None)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
