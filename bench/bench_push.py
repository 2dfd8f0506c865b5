"""Push latency (issue 14 §1): from POST /api/reports to the event on every open screen.

    .venv/bin/python bench/bench_push.py [--screens 200] [--workers 2] [--rate 10] [--seconds 15]
        [--backends sqlite,postgres] [--base /tmp/perf-base/src] [--dir /path] [--hog N]
        [--rounds N]

For each backend, starts a real `floodpost serve --workers N` on a fresh store (SQLite file in a
temporary folder; PostgreSQL: a throw-away cluster from scripts/pg_cluster.sh, a new database per
server), opens `--screens` event streams (GET /api/events, signed in as a viewer) on raw asyncio
sockets — the kernel spreads them over the workers — and posts reports at a steady `--rate` from
four keep-alive connections (so every worker takes posts). For each (report, screen) pair the
latency is from just before the POST was written to the moment the event's bytes were read.
Prints p50/p95/p99/max over all pairs, p95 of the per-report worst screen ("every screen"), and
missing/duplicate deliveries (must be 0).

With `--base SRC` (e.g. a worktree of the previous commit: `git worktree add /tmp/perf-base
e6e263d`) the same measurement runs first with that code (PYTHONPATH=SRC) and the ratio
after/before is printed: the baseline comes from the same run on the same machine. `--hog N`
runs N busy-looping processes during each measurement: a repeatable moderate load (the shared
machine's own load comes and goes between runs). `--rounds N` alternates before and after N
times and prints the medians: on a shared machine one pair of runs can differ 2× either way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import (  # noqa: E402
    PASSWORD,
    Conn,
    cpu_split,
    free_port,
    report_body,
    village_points,
    wait_ready,
)

ROOT = Path(__file__).resolve().parents[1]
_ID = re.compile(rb'event: report\ndata: \{[^\n]*?"id":"([0-9a-f-]{36})"')


def _env(src: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": src, "FLOODPOST_SECRET_KEY": "bench-" + "k" * 40}


def start_server(db_url: str, src: str, port: int, workers: int, log: Path) -> Any:
    py = sys.executable
    for name, role in (("bench", "field"), ("screen", "viewer")):
        subprocess.run(
            [py, "-m", "floodpost", "user", "add", name, "--role", role, "--password-stdin",
             "--db", db_url],
            input=PASSWORD + "\n", text=True, check=True, capture_output=True, env=_env(src),
        )  # fmt: skip
    cmd = [py, "-m", "floodpost", "serve", "--db", db_url, "--port", str(port)]
    cmd += ["--workers", str(workers)]
    out = open(log, "wb")  # noqa: SIM115 - lives as long as the server
    return subprocess.Popen(cmd, env=_env(src), stdout=out, stderr=subprocess.STDOUT)


async def token_for(port: int, name: str) -> str:
    conn = await Conn.open(port)
    form = f"username={name}&password={PASSWORD}".encode()
    status, body = await conn.request(
        "POST", "/api/auth/token", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    conn.close()
    if status != 200:
        raise RuntimeError(f"sign-in failed: {status}")
    return str(json.loads(body)["access_token"])


class Screen:
    """One open event stream; records when each report's event arrived."""

    def __init__(self) -> None:
        self.got: dict[bytes, list[float]] = {}
        self.ready = asyncio.Event()

    async def run(self, port: int, token: str, stop: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        buf = b""
        try:
            while not stop.is_set():
                try:
                    data = await asyncio.wait_for(reader.read(65536), 0.5)
                except TimeoutError:
                    continue
                if not data:
                    return
                now = time.perf_counter()
                buf += data
                if not self.ready.is_set() and b"floodpost events" in buf:
                    self.ready.set()
                cut = buf.rfind(b"\n\n")
                if cut < 0:
                    continue
                for m in _ID.finditer(buf, 0, cut + 2):
                    self.got.setdefault(m.group(1), []).append(now)
                buf = buf[cut + 2 :]
        finally:
            writer.close()


async def measure(port: int, pid: int, screens: int, rate: float, seconds: float) -> dict[str, Any]:
    poster, viewer = await token_for(port, "bench"), await token_for(port, "screen")
    stop = asyncio.Event()
    views = [Screen() for _ in range(screens)]
    tasks = [asyncio.create_task(v.run(port, viewer, stop)) for v in views]
    await asyncio.wait_for(asyncio.gather(*(v.ready.wait() for v in views)), 60)
    points, rng = village_points(), random.Random(0)
    headers = {"Authorization": f"Bearer {poster}", "Content-Type": "application/json"}
    conns = [await Conn.open(port) for _ in range(4)]
    sent: dict[bytes, float] = {}
    post_ms: list[float] = []

    async def post(i: int, record: bool) -> None:
        body = report_body(points, rng)
        rid = body[8:44]  # '{"id": "<uuid>"': the id json.dumps put first
        t = time.perf_counter()
        status, _ = await conns[i % len(conns)].request("POST", "/api/reports", body, headers)
        if status == 201 and record:
            sent[rid] = t
            post_ms.append((time.perf_counter() - t) * 1000)

    for i in range(int(rate * 2)):  # warm-up: imports, caches, the brokers' first reads
        await post(i, record=False)
        await asyncio.sleep(1 / rate)
    # (user, system) of the server and its workers: system time is mostly the kernel's loopback
    # TCP send, one per screen per event.
    cpu0 = cpu_split(pid)
    start = time.perf_counter()
    n = int(rate * seconds)
    for k in range(n):
        await asyncio.sleep(max(0.0, start + k / rate - time.perf_counter()))
        await post(k, record=True)
    await asyncio.sleep(3.0)  # let the last events arrive
    cpu1 = cpu_split(pid)
    user_ms, sys_ms = ((b - a) * 1000 / max(1, n) for a, b in zip(cpu0, cpu1, strict=True))
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for c in conns:
        c.close()
    pairs: list[float] = []
    worst: list[float] = []
    missing = dupes = 0
    for rid, t0 in sent.items():
        per = []
        for v in views:
            times = v.got.get(rid, [])
            missing += not times
            dupes += max(0, len(times) - 1)
            per += [(t - t0) * 1000 for t in times[:1]]
        pairs += per
        if per:
            worst.append(max(per))
    q = statistics.quantiles(pairs, n=100) if len(pairs) > 1 else [0.0] * 99
    return {
        "reports": len(sent),
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
        "max": max(pairs, default=0.0),
        "every_p95": statistics.quantiles(worst, n=100)[94] if len(worst) > 1 else 0.0,
        "post_p95": statistics.quantiles(post_ms, n=100)[94] if len(post_ms) > 1 else 0.0,
        "cpu_ms": user_ms + sys_ms,
        "user_ms": user_ms,
        "sys_ms": sys_ms,
        "missing": missing,
        "dupes": dupes,
    }


def pg_cluster(folder: Path) -> str:
    url = subprocess.run(
        ["sh", str(ROOT / "scripts/pg_cluster.sh"), "start", str(folder / "pg"), str(free_port())],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    return url


def fresh_pg_db(cluster_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(cluster_url.replace("/floodpost?", "/postgres?"), autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    return cluster_url.replace("/floodpost?", f"/{name}?")


async def one(
    label: str, db_url: str, src: str, args: argparse.Namespace, folder: Path
) -> dict[str, Any]:
    port = free_port()
    proc = start_server(db_url, src, port, args.workers, folder / f"{label.replace('/', '-')}.log")
    hogs: list[Any] = []
    try:
        await wait_ready(port)
        # --hog N: N busy processes beside the server, a known "moderate load" (each wants a
        # whole core, as another program's CPU-bound work would).
        hogs = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.hog)
        ]
        r = await measure(port, proc.pid, args.screens, args.rate, args.seconds)
    finally:
        for h in hogs:
            h.kill()
            h.wait()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(
        f"  {label:<16} {r['reports']} reports x {args.screens} screens: "
        f"p50 {r['p50']:6.1f}  p95 {r['p95']:6.1f}  p99 {r['p99']:6.1f}  max {r['max']:6.1f} ms; "
        f"every-screen p95 {r['every_p95']:6.1f} ms (POST's own p95 {r['post_p95']:.1f}); "
        f"server CPU {r['cpu_ms']:.1f} ms per report pushed to all (user {r['user_ms']:.1f}, "
        f"system {r['sys_ms']:.1f}); missing {r['missing']}, dupes {r['dupes']}",
        flush=True,
    )
    return r


async def run(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="floodpost-push-", dir=args.dir))
    folder.chmod(0o755)  # the PostgreSQL cluster inside runs as the postgres user
    print(f"folder {folder}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(
        f"{args.screens} screens, --workers {args.workers}, {args.rate:g} reports/s, "
        f"{args.hog} busy processes beside the server"
    )
    variants = [("before", args.base)] if args.base else []
    variants.append(("after", str(ROOT / "src")))
    cluster = None
    bad = 0
    try:
        for backend in args.backends.split(","):
            print(backend, flush=True)
            results: dict[str, list[dict[str, Any]]] = {name: [] for name, _src in variants}
            for round_ in range(args.rounds):
                for name, src in variants:  # before, after, before, after…: the load drifts
                    if backend == "sqlite":
                        db_url = f"sqlite:///{folder}/{name}{round_}.db"
                    else:
                        cluster = cluster or pg_cluster(folder)
                        db_url = fresh_pg_db(cluster, f"push_{name}{round_}")
                    print(f"  load average {os.getloadavg()[0]:.1f}", flush=True)
                    r = await one(f"{backend}/{name}", db_url, src, args, folder)
                    results[name].append(r)
                    bad += r["missing"] + r["dupes"]
            med = {
                name: {
                    k: statistics.median(r[k] for r in rs) for k in ("p95", "every_p95", "cpu_ms")
                }
                for name, rs in results.items()
            }
            if args.rounds > 1:
                for name, m in med.items():
                    print(
                        f"  {name}: median of {args.rounds} rounds: p95 {m['p95']:.1f}, "
                        f"every-screen p95 {m['every_p95']:.1f} ms, CPU {m['cpu_ms']:.1f} ms/report"
                    )
            if "before" in med:
                b, a = med["before"], med["after"]
                print(
                    f"  ratio after/before: p95 {a['p95'] / b['p95']:.2f}, "
                    f"every-screen p95 {a['every_p95'] / b['every_p95']:.2f}, "
                    f"server CPU per report {a['cpu_ms'] / b['cpu_ms']:.2f}"
                )
            target = med["after"]["p95"]
            print(f"  p95 after = {target:.1f} ms (goal <= 50) {'OK' if target <= 50 else 'ABOVE'}")
    finally:
        if cluster:
            subprocess.run(["sh", str(ROOT / "scripts/pg_cluster.sh"), "stop", str(folder / "pg")])
    return 1 if bad else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--screens", type=int, default=200)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rate", type=float, default=10.0, help="reports per second")
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--backends", default="sqlite,postgres")
    p.add_argument("--base", default=None, help="src folder of the code to compare against")
    p.add_argument("--dir", default=None)
    p.add_argument("--hog", type=int, default=0, help="busy processes during each measurement")
    p.add_argument("--rounds", type=int, default=1, help="alternate before/after this many times")
    args = p.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
