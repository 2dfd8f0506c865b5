"""Export benchmark (issue 14 §2): every format over HTTP against a real `floodpost serve`.

    .venv/bin/python bench/bench_export.py [--events 100000] [--db sqlite:///path]
                                           [--formats csv,geojson,gpkg,xlsx] [--query 'kind=rescue']

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


def start_server(db_url: str, folder: Path, port: int) -> subprocess.Popen[bytes]:
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
    env = {**os.environ, "FLOODPOST_SECRET_KEY": secrets.token_urlsafe(32)}
    cmd = [py, "-m", "floodpost", "serve", "--db", db_url, "--port", str(port), "--workers", "1"]
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
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


def download(port: int, tok: str, path: str) -> dict[str, Any]:
    """Times to headers, first body byte and end; body bytes (chunk framing included)."""
    t0 = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
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
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 shared cores)")

    tmp = tempfile.TemporaryDirectory(prefix="floodpost-bench-export-")
    folder = Path(tmp.name)
    db_url = args.db or f"sqlite:///{folder / 'bench.db'}"
    if report_count(db_url) == 0:
        simulate(db_url, args.events)
    n = report_count(db_url)
    base_s, base_cpu, rows = csv_baseline(db_url, folder)
    print(
        f"store: {n:,} reports; baseline csv module: {rows:,} rows in {base_s:.2f} s "
        f"({base_cpu:.2f} s CPU)"
    )

    port = free_port()
    proc = start_server(db_url, folder, port)
    try:
        try:
            wait_ready(port)
        except RuntimeError:
            print((folder / "server.log").read_text(errors="replace")[-3000:])
            raise
        tok = token(port)
        # Let the statistics roll-up warm (the xlsx/gpkg exports use it) before measuring RSS.
        http(port, "GET", "/api/stats/summary", headers=f"Authorization: Bearer {tok}\r\n")
        print(f"server RSS after warm-up: {rss_kb(proc.pid) / 1024:.0f} MB")
        print(
            f"{'format':<8} {'headers':>8} {'1st byte':>9} {'total':>8} {'MB':>7} "
            f"{'ratio':>6} {'target':>6} {'peak RSS':>9} {'server CPU':>10} {'CPU ratio':>9}"
        )
        for fmt in args.formats.split(","):
            sampler = RssSampler(proc.pid)
            sampler.start()
            query = f"format={fmt}" + (f"&{args.query}" if args.query else "")
            cpu0 = cpu_s(proc.pid)
            r = download(port, tok, f"/api/export?{query}")
            cpu = cpu_s(proc.pid) - cpu0
            sampler.running = False
            sampler.join()
            ratio = r["total"] / base_s
            ok = "ok" if ratio <= TARGETS[fmt] and r["first"] <= 2.0 else "MISS"
            print(
                f"{fmt:<8} {r['headers']:7.2f}s {r['first']:8.2f}s {r['total']:7.1f}s "
                f"{r['bytes'] / 1e6:7.1f} {ratio:6.1f} {TARGETS[fmt]:6.0f} "
                f"{sampler.peak / 1024:7.0f}MB {cpu:9.1f}s {cpu / base_cpu:9.1f}  {ok}"
                + ("" if r["status"] == 200 else f"  HTTP {r['status']}")
            )
        print(f"server peak RSS over the run (VmHWM): {rss_kb(proc.pid, 'VmHWM') / 1024:.0f} MB")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        tmp.cleanup()


if __name__ == "__main__":
    main()
