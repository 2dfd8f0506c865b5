"""Ingest benchmark (issue 3 §5): durable, routed reports per second over HTTP.

Starts `floodpost serve` on a temporary SQLite database, creates a field account, signs in, then
measures, all in the same run and on the same disk:

  (a) raw  — SQLite WAL + synchronous=FULL, one row per commit (the fsync-bound baseline);
  (b) ingest — POST /api/reports by N concurrent keep-alive clients (every 201 is durable);
  (c) latency — p50/p95/p99 at a steady (open-loop) 100 reports/s.

Prints the figures and ingest/raw (target ≥ 0.25) and p95 (target ≤ 100 ms). Loopback only.

    .venv/bin/python bench/bench_ingest.py [--clients 32] [--seconds 10] [--workers 1]

The client is a minimal asyncio HTTP/1.1 client on raw sockets so that the load generator, which
shares the machine's cores with the server, costs as little CPU as possible.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-1"


# -- (a) the raw baseline ------------------------------------------------------------------------
def raw_commit_rate(folder: Path, seconds: float, name: str = "raw.db") -> float:
    """Single-row commits per second with WAL + synchronous=FULL, rows the size of a report."""
    conn = sqlite3.connect(folder / name, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
    body = "x" * 900  # about the size of a stored report's JSON
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?)", (str(uuid.uuid4()), body))
        conn.execute("COMMIT")
        n += 1
    rate = n / (time.perf_counter() - start)
    conn.close()
    return rate


# -- the server ----------------------------------------------------------------------------------
def start_server(folder: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    db_url = f"sqlite:///{folder}/floodpost.db"
    py = sys.executable
    subprocess.run(
        [py, "-m", "floodpost", "user", "add", "bench", "--role", "field", "--password-stdin",
         "--db", db_url],
        input=PASSWORD + "\n", text=True, check=True, capture_output=True,
    )  # fmt: skip
    env = {**os.environ, "FLOODPOST_SECRET_KEY": secrets.token_urlsafe(32)}
    cmd = [py, "-m", "floodpost", "serve", "--db", db_url, "--port", str(port)]
    cmd += ["--workers", str(workers)]
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc


async def wait_ready(port: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            conn = await Conn.open(port)
            status, _ = await conn.request("GET", "/healthz")
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


# -- a tiny keep-alive HTTP/1.1 client -----------------------------------------------------------
class Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        head.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def get_token(port: int) -> str:
    conn = await Conn.open(port)
    form = f"username=bench&password={PASSWORD}".encode()
    status, body = await conn.request(
        "POST", "/api/auth/token", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    conn.close()
    if status != 200:
        raise RuntimeError(f"sign-in failed: {status} {body[:200]!r}")
    return json.loads(body)["access_token"]


def village_points() -> list[tuple[float, float]]:
    data = json.loads((ROOT / "geodata/suining/villages.geojson").read_text(encoding="utf-8"))
    return [(f["properties"]["seat_lon"], f["properties"]["seat_lat"]) for f in data["features"]]


KINDS = ("evacuation", "rescue", "incident", "help_request")


def report_body(points: list[tuple[float, float]], rng: random.Random) -> bytes:
    lon, lat = rng.choice(points)
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "kind": rng.choice(KINDS),
            "occurred_at": "2017-07-01T10:00:00+08:00",
            "lon": round(lon + rng.uniform(-0.003, 0.003), 6),
            "lat": round(lat + rng.uniform(-0.003, 0.003), 6),
            "people": rng.randint(0, 40),
            "note": "基准测试 bench",
        },
        ensure_ascii=False,
    ).encode()


# -- (b) throughput ------------------------------------------------------------------------------
async def throughput(
    port: int, token: str, clients: int, seconds: float, points: list[tuple[float, float]]
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def client(i: int) -> None:
        rng = random.Random(i)
        conn = await Conn.open(port)
        try:
            while time.perf_counter() < deadline:
                status, _ = await conn.request(
                    "POST", "/api/reports", report_body(points, rng), headers
                )
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.perf_counter() - start
    return {"rate": statuses.get(201, 0) / elapsed, "statuses": statuses, "seconds": elapsed}


# -- (c) latency at a steady rate ---------------------------------------------------------------
async def steady_latency(
    port: int, token: str, rate: float, seconds: float, points: list[tuple[float, float]]
) -> dict[str, Any]:
    """Open loop: request k is due at start + k/rate whether or not earlier ones have returned,
    and its latency counts from when it was due (no coordinated omission)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    idle: list[Conn] = [await Conn.open(port) for _ in range(16)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    rng = random.Random(7)
    n = int(rate * seconds)
    start = time.perf_counter() + 0.05

    async def one(k: int) -> None:
        due = start + k / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        conn = idle.pop() if idle else await Conn.open(port)
        body = report_body(points, rng)
        try:
            status, _ = await conn.request("POST", "/api/reports", body, headers)
        except (ConnectionError, asyncio.IncompleteReadError):
            # The server closed a keep-alive connection that sat idle; resending is safe
            # because a report is idempotent by its id.
            conn.close()
            conn = await Conn.open(port)
            status, _ = await conn.request("POST", "/api/reports", body, headers)
        latencies.append(time.perf_counter() - due)
        statuses[status] = statuses.get(status, 0) + 1
        idle.append(conn)

    await asyncio.gather(*(one(k) for k in range(n)))
    for conn in idle:
        conn.close()
    q = statistics.quantiles(latencies, n=100)
    return {
        "p50_ms": q[49] * 1000,
        "p95_ms": q[94] * 1000,
        "p99_ms": q[98] * 1000,
        "max_ms": max(latencies) * 1000,
        "statuses": statuses,
    }


def server_cpu_s(pid: int) -> float:
    """User + system CPU seconds of the server and its worker processes so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="floodpost-bench-", dir=args.dir))
    print(f"folder {folder} (raw baseline and the server's database on the same disk)")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    raw = raw_commit_rate(folder, args.raw_seconds)
    print(f"(a) raw SQLite WAL+FULL single-row commits: {raw:9.1f} /s")

    port = free_port()
    proc = start_server(folder, port, args.workers)
    try:
        await wait_ready(port)
        token = await get_token(port)
        points = village_points()
        # Warm up (imports, first-touch caches) so the measurement is the steady state.
        await throughput(port, token, 4, 1.0, points)
        cpu0, client0 = server_cpu_s(proc.pid), time.process_time()
        tp = await throughput(port, token, args.clients, args.seconds, points)
        done = max(1, tp["statuses"].get(201, 0))
        cpu_ms = (server_cpu_s(proc.pid) - cpu0) * 1000 / done
        client_ms = (time.process_time() - client0) * 1000 / done
        print(
            f"(b) ingest, {args.clients} clients, {args.workers} worker(s): {tp['rate']:9.1f} "
            f"durable routed reports/s over {tp['seconds']:.1f} s; statuses {tp['statuses']}; "
            f"CPU per report: server {cpu_ms:.2f} ms, this client {client_ms:.2f} ms"
        )
        lat = await steady_latency(port, token, args.rate, args.latency_seconds, points)
        print(
            f"(c) latency at a steady {args.rate:g} reports/s: p50 {lat['p50_ms']:.1f} ms, "
            f"p95 {lat['p95_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, max {lat['max_ms']:.1f} ms; "
            f"statuses {lat['statuses']}"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    # The disk's fsync rate drifts with whatever else uses it: measure it again afterwards and
    # compare against the better of the two, so the ratio is never flattered by a slow moment.
    raw_after = raw_commit_rate(folder, args.raw_seconds, name="raw-after.db")
    print(f"(a') raw SQLite WAL+FULL single-row commits, again: {raw_after:9.1f} /s")
    raw = max(raw, raw_after)
    ratio = tp["rate"] / raw
    print(
        f"ratio ingest/raw = {ratio:.2f} (raw = the higher of (a), (a'); target >= 0.25)  {'OK' if ratio >= 0.25 else 'BELOW'}"
    )
    print(f"p95 at {args.rate:g}/s = {lat['p95_ms']:.1f} ms  (target <= 100 ms)  "
          f"{'OK' if lat['p95_ms'] <= 100 else 'ABOVE'}")  # fmt: skip
    errors = sum(v for k, v in {**tp["statuses"], **lat["statuses"]}.items() if k >= 500)
    return 1 if errors else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=32, help="concurrent keep-alive connections")
    p.add_argument("--seconds", type=float, default=10.0, help="length of the throughput run")
    p.add_argument("--workers", type=int, default=1, help="server processes (floodpost serve)")
    p.add_argument("--rate", type=float, default=100.0, help="steady rate for latency, per s")
    p.add_argument("--latency-seconds", type=float, default=10.0)
    p.add_argument("--raw-seconds", type=float, default=5.0)
    p.add_argument("--dir", default=None, help="where the temporary databases go")
    args = p.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
