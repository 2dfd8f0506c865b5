"""Ingest benchmark (issue 3 §5, issue 14 §3): durable, routed reports per second over HTTP.

For each backend (`--backends sqlite,postgres`) and each number of server processes
(`--workers 1,2`), all in the same run and on the same disk:

  (a) raw  — the database's own durable single-row commit rate: SQLite WAL + synchronous=FULL,
      or PostgreSQL (a throw-away cluster from scripts/pg_cluster.sh) autocommit INSERTs with
      synchronous_commit=on, one ~900-byte row per commit from one connection; measured before
      and after the servers, the higher of the two counts;
  (b) ingest — `floodpost serve --workers N` on a fresh database, POST /api/reports by
      `--clients` concurrent keep-alive clients (every 201 is durable), with the CPU per report
      of the server processes (and of the PostgreSQL backends);
  (c) latency — p50/p95/p99 at a steady (open-loop) `--rate` reports/s.

Prints a table with ingest/raw per row (targets: PostgreSQL ≥ 0.4 with 2 workers, SQLite ≥ 0.45).
With `--base SRC` (a worktree of the old code: `git worktree add /tmp/x-base main`) every
server runs first with that code (PYTHONPATH=SRC), for before/after in one run. Loopback only.

    .venv/bin/python bench/bench_ingest.py [--backends sqlite,postgres] [--workers 1,2]
        [--clients 32] [--seconds 10] [--rate 100] [--base SRC] [--dir /path]

The client is a minimal asyncio HTTP/1.1 client on raw sockets so that the load generator, which
shares the machine's cores with the server, costs as little CPU as possible.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-1"


# -- (a) the raw baselines -----------------------------------------------------------------------
BODY = "x" * 900  # about the size of a stored report's JSON


def sqlite_raw_rate(folder: Path, seconds: float, name: str) -> float:
    """Single-row commits per second with WAL + synchronous=FULL, rows the size of a report."""
    conn = sqlite3.connect(folder / name, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?)", (str(uuid.uuid4()), BODY))
        conn.execute("COMMIT")
        n += 1
    rate = n / (time.perf_counter() - start)
    conn.close()
    return rate


def pg_raw_rate(cluster_url: str, seconds: float, table: str, connections: int = 1) -> float:
    """Autocommit single-row INSERTs per second with synchronous_commit=on (each one flushed to
    the WAL on disk before it returns), from `connections` clients at once, each waiting for its
    commit before sending the next (1 = the database's own one-at-a-time rate)."""
    import psycopg

    url = cluster_url.replace("/floodpost?", "/postgres?")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
    counts = [0] * connections
    ready = threading.Barrier(connections + 1)

    def client(i: int) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET synchronous_commit = on")
            sql = f"INSERT INTO {table} VALUES (%s, %s)"
            ready.wait()
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                conn.execute(sql, (str(uuid.uuid4()), BODY), prepare=True)
                counts[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    ready.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - start)


# -- the servers ---------------------------------------------------------------------------------
def _env(src: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": src, "FLOODPOST_SECRET_KEY": "bench-" + "k" * 40}


def start_server(db_url: str, src: str, port: int, workers: int, log: Path) -> Any:
    py = sys.executable
    subprocess.run(
        [py, "-m", "floodpost", "user", "add", "bench", "--role", "field", "--password-stdin",
         "--db", db_url],
        input=PASSWORD + "\n", text=True, check=True, capture_output=True, env=_env(src),
    )  # fmt: skip
    cmd = [py, "-m", "floodpost", "serve", "--db", db_url, "--port", str(port)]
    cmd += ["--workers", str(workers)]
    out = open(log, "wb")  # noqa: SIM115 - lives as long as the server
    return subprocess.Popen(cmd, env=_env(src), stdout=out, stderr=subprocess.STDOUT)


def pg_cluster(folder: Path) -> str:
    return subprocess.run(
        ["sh", str(ROOT / "scripts/pg_cluster.sh"), "start", str(folder / "pg"), str(free_port())],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def fresh_pg_db(cluster_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(cluster_url.replace("/floodpost?", "/postgres?"), autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    return cluster_url.replace("/floodpost?", f"/{name}?")


def postmaster_pid(folder: Path) -> int:
    return int((folder / "pg/data/postmaster.pid").read_text().split()[0])


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


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of process `pid` and its children so far (Linux /proc): the
    server and its worker processes, or the PostgreSQL postmaster and its backends."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            user += int(fields[11]) / tick
            system += int(fields[12]) / tick
    return user, system


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process `pid` and its children so far."""
    return sum(cpu_split(pid))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def one_server(
    db_url: str, src: str, workers: int, args: argparse.Namespace, log: Path, db_pid: int | None
) -> dict[str, Any]:
    """Throughput, CPU per report and steady-rate latency of one `floodpost serve`."""
    port = free_port()
    proc = start_server(db_url, src, port, workers, log)
    try:
        await wait_ready(port)
        token = await get_token(port)
        points = village_points()
        # Warm up (imports, first-touch caches, every worker) so the measurement is steady.
        await throughput(port, token, 4 * workers, 1.0, points)
        cpu0, client0 = cpu_s(proc.pid), time.process_time()
        db0 = cpu_s(db_pid) if db_pid else 0.0
        tp = await throughput(port, token, args.clients, args.seconds, points)
        done = max(1, tp["statuses"].get(201, 0))
        r = {
            "rate": tp["rate"],
            "statuses": dict(tp["statuses"]),
            "cpu_ms": (cpu_s(proc.pid) - cpu0) * 1000 / done,
            "client_ms": (time.process_time() - client0) * 1000 / done,
            "db_ms": (cpu_s(db_pid) - db0) * 1000 / done if db_pid else None,
        }
        lat = await steady_latency(port, token, args.rate, args.latency_seconds, points)
        for k, v in lat["statuses"].items():
            r["statuses"][k] = r["statuses"].get(k, 0) + v
        r.update({k: lat[k] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")})
        return r
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


TARGETS = {"sqlite": 0.45, "postgres": 0.4}


def raw_rate(backend: str, folder: Path, cluster: str | None, args: argparse.Namespace, tag: str):
    if backend == "sqlite":
        return sqlite_raw_rate(folder, args.raw_seconds, f"raw-{tag}.db")
    assert cluster is not None  # noqa: S101
    return pg_raw_rate(cluster, args.raw_seconds, f"raw_{tag}")


async def run(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="floodpost-ingest-", dir=args.dir))
    folder.chmod(0o755)  # the PostgreSQL cluster inside runs as the postgres user
    print(f"folder {folder} (raw baselines and the servers' databases on the same disk)")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()} at start", flush=True)
    workers = [int(w) for w in args.workers.split(",")]
    variants = [("before", args.base)] if args.base else []
    variants.append(("after", str(ROOT / "src")))
    rows: list[dict[str, Any]] = []
    cluster: str | None = None
    try:
        for backend in args.backends.split(","):
            db_pid = None
            if backend == "postgres":
                cluster = pg_cluster(folder)
                db_pid = postmaster_pid(folder)
            raws = [raw_rate(backend, folder, cluster, args, "before")]
            print(f"{backend}: raw durable single-row commits {raws[0]:9.1f} /s", flush=True)
            if backend == "postgres" and args.raw_connections > 1:
                assert cluster is not None  # noqa: S101
                many = pg_raw_rate(cluster, args.raw_seconds, "raw_many", args.raw_connections)
                print(f"{backend}: (for reference) the same from {args.raw_connections} "
                      f"connections at once {many:9.1f} /s", flush=True)  # fmt: skip
            results = []
            # Rounds alternate before/after, so drift in the machine's load hits both alike.
            for n, rnd in ((n, rnd) for n in workers for rnd in range(args.rounds)):
                for name, src in variants:
                    label = f"{backend}-w{n}-{name}-r{rnd}"
                    if backend == "sqlite":
                        db_url = f"sqlite:///{folder}/{label}.db"
                    else:
                        assert cluster is not None  # noqa: S101
                        db_url = fresh_pg_db(cluster, label.replace("-", "_"))
                    r = await one_server(db_url, src, n, args, folder / f"{label}.log", db_pid)
                    r.update(backend=backend, workers=n, code=name, load=os.getloadavg()[0])
                    print(f"  {label}: {r['rate']:.1f} reports/s, server CPU "
                          f"{r['cpu_ms']:.2f} ms/report, statuses {r['statuses']}",
                          flush=True)  # fmt: skip
                    results.append(r)
            # The disk's fsync rate drifts with whatever else uses it: measure it again
            # afterwards and compare against the better of the two, so the ratio is never
            # flattered by a slow moment.
            raws.append(raw_rate(backend, folder, cluster, args, "after"))
            print(f"{backend}: raw again {raws[1]:9.1f} /s", flush=True)
            for r in results:
                r["raw"] = max(raws)
            rows += results
            if backend == "postgres":
                subprocess.run(
                    ["sh", str(ROOT / "scripts/pg_cluster.sh"), "stop", str(folder / "pg")]
                )
                cluster = None
    finally:
        if cluster:
            subprocess.run(["sh", str(ROOT / "scripts/pg_cluster.sh"), "stop", str(folder / "pg")])
    print_table(rows, args)
    errors = sum(v for r in rows for k, v in r["statuses"].items() if k >= 500)
    return 1 if errors else 0


def print_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print()
    print(f"{args.clients} clients for {args.seconds:g} s; latency at a steady {args.rate:g}/s; "
          "raw = the higher of the two raw runs; CPU per report: server = floodpost processes, "
          "db = PostgreSQL backends")  # fmt: skip
    head = ("backend", "workers", "code", "load", "raw/s", "ingest/s", "ratio", "target",
            "server CPU", "db CPU", "p50 ms", "p95 ms", "p99 ms")  # fmt: skip
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        ratio = r["rate"] / r["raw"]
        target = TARGETS[r["backend"]] if r["workers"] == 2 or r["backend"] == "sqlite" else None
        verdict = "" if target is None else f">= {target} {'OK' if ratio >= target else 'BELOW'}"
        db = f"{r['db_ms']:.2f} ms" if r["db_ms"] is not None else "-"
        cells = (r["backend"], r["workers"], r["code"], f"{r['load']:.1f}", f"{r['raw']:,.0f}",
                 f"{r['rate']:,.0f}", f"{ratio:.2f}", verdict, f"{r['cpu_ms']:.2f} ms", db,
                 f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}", f"{r['p99_ms']:.1f}")  # fmt: skip
        print("| " + " | ".join(map(str, cells)) + " |")
    if args.rounds > 1:
        print(f"medians over {args.rounds} rounds:")
        keys = sorted({(r["backend"], r["workers"], r["code"]) for r in rows}, key=str)
        for backend, workers, code in keys:
            mine = [
                r
                for r in rows
                if (r["backend"], r["workers"], r["code"]) == (backend, workers, code)
            ]
            rate = statistics.median(r["rate"] for r in mine)
            ratio = statistics.median(r["rate"] / r["raw"] for r in mine)
            cpu = statistics.median(r["cpu_ms"] for r in mine)
            print(f"  {backend} workers {workers} {code}: {rate:,.0f} reports/s, ratio {ratio:.2f}, "
                  f"server CPU {cpu:.2f} ms/report")  # fmt: skip
    print(f"load average at the end {os.getloadavg()}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backends", default="sqlite,postgres")
    p.add_argument("--workers", default="1,2", help="server processes to try, comma-separated")
    p.add_argument("--clients", type=int, default=32, help="concurrent keep-alive connections")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each throughput run")
    p.add_argument("--rate", type=float, default=100.0, help="steady rate for latency, per s")
    p.add_argument("--latency-seconds", type=float, default=10.0)
    p.add_argument("--raw-seconds", type=float, default=5.0)
    p.add_argument("--raw-connections", type=int, default=8,
                   help="also print PostgreSQL's raw rate from this many connections")  # fmt: skip
    p.add_argument("--rounds", type=int, default=1, help="repeat each server run, alternating")
    p.add_argument("--base", default=None, help="src folder of the code to compare against")
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
