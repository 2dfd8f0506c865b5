"""Export benchmark (issue 14 §2): every format over HTTP against a real `floodpost serve`.

    .venv/bin/python bench/bench_export.py [--events 100000] [--db sqlite:///path]
                                           [--formats csv,geojson,gpkg,xlsx] [--query 'kind=rescue']
                                           [--base /tmp/floodpost-base] [--gzip]

Fills a store with `floodpost simulate --events N` (unless --db names a store that already holds
reports), then, in the same run and on the same disk:

  baseline — plain Python writing the same rows with the csv module to a file (the rows are read
             and typed beforehand, untimed: only the writing counts);
  each format — GET /api/export?format=F with a bearer token: time to the response headers, to
             the first body byte and to the last, the body size, the ratio of the total to the
             baseline (targets CSV ≤ 4, GeoJSON ≤ 6, GeoPackage ≤ 8, XLSX ≤ 40), the server's
             peak RSS during that download (VmRSS sampled every 20 ms) beside its RSS before,
             and the server's CPU seconds for it with their ratio to the baseline's CPU seconds
             (on a shared machine the CPU ratio moves far less with other people's load).

With `--base DIR` (a checkout of the old code, e.g. `git worktree add /tmp/floodpost-base main`)
a second server runs DIR/src on the same store, and each format is downloaded from the old
server and then the new one, so both meet the same load; the last column is new CPU / old CPU.
With `--repeat N` each format is downloaded N times (old and new alternately) and the run with
the least server CPU is shown, with every run's CPU seconds after it: on a shared machine other
people's load only ever adds to a run. With `--gzip` the client sends `Accept-Encoding: gzip`, as browsers do (bytes are then as sent).

The client is a blocking socket that reads and discards, so it costs the shared cores little.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-1"
TARGETS = {"csv": 4.0, "geojson": 6.0, "gpkg": 8.0, "xlsx": 40.0}


def simulate(db_url: str, events: int) -> None:
    cmd = [sys.executable, "-m", "floodpost", "simulate", "--db", db_url, "--events", str(events)]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    print(f"simulate {events:,} events: {time.perf_counter() - t:.1f} s")


def report_count(db_url: str) -> int:
    from floodpost.storage import open_store

    store = open_store(db_url)
    try:
        return int(store.read("SELECT COUNT(*) AS n FROM reports")[0]["n"])
    finally:
        store.close()


def csv_baseline(db_url: str, folder: Path) -> tuple[float, float, int]:
    """Seconds (wall and CPU) the csv module needs to write every report's row (rows prepared
    untimed)."""
    from floodpost.export.columns import FIELD_NAMES, report_values
    from floodpost.storage import open_store

    store = open_store(db_url)
    spent, cpu, rows = 0.0, 0.0, 0
    try:
        with open(folder / "baseline.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(FIELD_NAMES)
            cursor: int | None = 0
            while cursor is not None:
                page, cursor = store.list_reports(after_seq=cursor, limit=5000)
                data = [["" if v is None else v for v in report_values(r)] for r in page]
                t, c = time.perf_counter(), time.process_time()
                writer.writerows(data)
                fh.flush()
                spent += time.perf_counter() - t
                cpu += time.process_time() - c
                rows += len(data)
    finally:
        store.close()
    return spent, cpu, rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db_url: str, folder: Path, port: int, src: Path) -> subprocess.Popen[bytes]:
    py = sys.executable
    subprocess.run(
        [
            py,
            "-m",
            "floodpost",
            "user",
            "add",
            "bench",
            "--role",
            "viewer",
            "--password-stdin",
            "--db",
            db_url,
        ],
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
    )  # fmt: skip  (exists already when --db is reused: that is fine)
    env = {
        **os.environ,
        "FLOODPOST_SECRET_KEY": secrets.token_urlsafe(32),
        "PYTHONPATH": str(src / "src"),
    }
    cmd = [py, "-m", "floodpost", "serve", "--db", db_url, "--port", str(port), "--workers", "1"]
    log = open(folder / f"server-{port}.log", "wb")  # noqa: SIM115 - lives as long as the server
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


def http(port: int, method: str, path: str, body: bytes = b"", headers: str = "") -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        out = bytearray()
        while chunk := s.recv(1 << 16):
            out += chunk
    return bytes(out)


def wait_ready(port: int, timeout_s: float = 600.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if http(port, "GET", "/healthz").startswith(b"HTTP/1.1 200"):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


def token(port: int) -> str:
    raw = http(
        port,
        "POST",
        "/api/auth/token",
        f"username=bench&password={PASSWORD}".encode(),
        "Content-Type: application/x-www-form-urlencoded\r\n",
    )
    return str(json.loads(raw.split(b"\r\n\r\n", 1)[1])["access_token"])


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.02)


def download(port: int, tok: str, path: str, gzip: bool = False) -> dict[str, Any]:
    """Times to headers, first body byte and end; body bytes (chunk framing included)."""
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port))
    accept = "Accept-Encoding: gzip\r\n" if gzip else ""
    s.sendall(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{accept}"
        f"Authorization: Bearer {tok}\r\n\r\n".encode()
    )
    buf = b""
    t_head = t_first = None
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(1 << 16)
        if not chunk:
            raise RuntimeError(f"closed before headers: {buf[:200]!r}")
        t_head = t_head or time.perf_counter()
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    status = int(head.split()[1])
    size = len(body)
    if body:
        t_first = time.perf_counter()
    while chunk := s.recv(1 << 20):
        # a chunked body's first data: past the first chunk-size line
        t_first = t_first or time.perf_counter()
        size += len(chunk)
    t_end = time.perf_counter()
    s.close()
    return {
        "status": status,
        "headers": (t_head or t_end) - t0,
        "first": (t_first or t_end) - t0,
        "total": t_end - t0,
        "bytes": size,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--db", default=None, help="reuse this store (filled first if empty)")
    ap.add_argument("--formats", default="csv,geojson,gpkg,xlsx")
    ap.add_argument("--query", default="", help="extra query string, e.g. kind=rescue")
    ap.add_argument("--base", default=None, help="checkout of the old code, measured alongside")
    ap.add_argument("--gzip", action="store_true", help="send Accept-Encoding: gzip")
    ap.add_argument("--repeat", type=int, default=1, help="downloads per format; least CPU shown")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 shared cores)")
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())

    tmp = tempfile.TemporaryDirectory(prefix="floodpost-bench-export-")
    folder = Path(tmp.name)
    db_url = args.db or f"sqlite:///{folder / 'bench.db'}"
    if report_count(db_url) == 0:
        simulate(db_url, args.events)
    n = report_count(db_url)
    baselines = [csv_baseline(db_url, folder) for _ in range(args.repeat)]
    base_s, base_cpu, rows = min(baselines, key=lambda b: b[1])  # least CPU, as below
    print(
        f"store: {n:,} reports; baseline csv module: {rows:,} rows in {base_s:.2f} s "
        f"({base_cpu:.2f} s CPU)"
    )

    servers: list[tuple[str, Server]] = []
    try:
        if args.base:
            servers.append(("old", Server(db_url, folder, Path(args.base))))
        servers.append(("new" if args.base else "", Server(db_url, folder, ROOT)))
        for _, server in servers:
            print(f"server {server.src}: RSS after warm-up {rss_kb(server.pid) / 1024:.0f} MB")
        print(
            f"{'format':<12} {'headers':>8} {'1st byte':>9} {'total':>8} {'MB':>7} "
            f"{'ratio':>6} {'target':>6} {'peak RSS':>9} {'server CPU':>10} {'CPU ratio':>9}"
        )
        for fmt in args.formats.split(","):
            query = f"format={fmt}" + (f"&{args.query}" if args.query else "")
            runs: dict[str, list[tuple[dict[str, Any], float, int]]] = {k: [] for k, _ in servers}
            for _ in range(args.repeat):  # old and new alternately: both meet the same load
                for label, server in servers:
                    runs[label].append(server.measure(f"/api/export?{query}", args.gzip))
            cpus = []
            for label, _ in servers:
                # The run with the least CPU: a neighbour's load only ever adds to it.
                r, cpu, peak = min(runs[label], key=lambda run: run[1])
                cpus.append(cpu)
                ratio = r["total"] / base_s
                ok = "ok" if ratio <= TARGETS[fmt] and r["first"] <= 2.0 else "MISS"
                vs = f"  new/old CPU {cpus[1] / cpus[0]:.2f}" if len(cpus) == 2 else ""
                spread = ""
                if args.repeat > 1:
                    spread = "  CPU " + "/".join(f"{run[1]:.1f}" for run in runs[label])
                print(
                    f"{(fmt + ' ' + label).strip():<12} {r['headers']:7.2f}s {r['first']:8.2f}s "
                    f"{r['total']:7.1f}s {r['bytes'] / 1e6:7.1f} {ratio:6.1f} {TARGETS[fmt]:6.0f} "
                    f"{peak / 1024:7.0f}MB {cpu:9.1f}s {cpu / base_cpu:9.1f}  {ok}{vs}{spread}"
                    + ("" if r["status"] == 200 else f"  HTTP {r['status']}")
                )
        for label, server in servers:
            hwm = rss_kb(server.pid, "VmHWM") / 1024
            print(f"server {label or server.src} peak RSS over the run (VmHWM): {hwm:.0f} MB")
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
    finally:
        for _, server in servers:
            server.stop()
        tmp.cleanup()


class Server:
    """`floodpost serve` of the sources in `src` (its src/ first on the path), signed in, with
    the statistics roll-up warm (the xlsx/gpkg exports use it) before anything is measured."""

    def __init__(self, db_url: str, folder: Path, src: Path) -> None:
        self.src, self.port = src, free_port()
        self.log = folder / f"server-{self.port}.log"
        self.proc = start_server(db_url, folder, self.port, src)
        self.pid = self.proc.pid
        try:
            wait_ready(self.port)
        except RuntimeError:
            print(self.log.read_text(errors="replace")[-3000:])
            self.stop()
            raise
        self.tok = token(self.port)
        http(
            self.port, "GET", "/api/stats/summary", headers=f"Authorization: Bearer {self.tok}\r\n"
        )

    def measure(self, path: str, gzip: bool) -> tuple[dict[str, Any], float, int]:
        """One download: its times, the server's CPU seconds and its peak RSS (kB) meanwhile."""
        sampler = RssSampler(self.pid)
        sampler.start()
        cpu0 = cpu_s(self.pid)
        r = download(self.port, self.tok, path, gzip)
        cpu = cpu_s(self.pid) - cpu0
        sampler.running = False
        sampler.join()
        return r, cpu, sampler.peak

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


if __name__ == "__main__":
    main()
