"""Gauge readings intake (issue 9): throughput in batches of 100, and the cost of one reading
against the station's history length (1k vs 1M readings stored).

.venv/bin/python bench/bench_readings.py [--batches 200] [--big 1000000] [--dir /path]

1. **raw** — baseline: the same number of 100-row transactions inserting plain rows into a table
   of the same shape (SQLite, synchronous=FULL, fsync per commit): what the disk allows.
2. **intake** — `check_batch` + `store_readings` (the work of POST /api/readings without HTTP):
   batches of 100 rain readings, one per gauge, every 5 minutes, through the one writer; prints
   readings/s and the ratio to raw. Target ≥ 2,000 readings/s.
3. **history** — one gauge with 1,000 readings stored vs one with `--big` (1,000,000) readings
   stored (filled directly with SQL): the time of 100-reading batches of that gauge's next
   readings (in order, and each batch also back-fills one reading of the last 24 h). Prints the
   ratio big/small. Target ≤ 1.5×.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from floodpost.geo.catalogue import Catalogue
from floodpost.hydro.intake import store_readings
from floodpost.hydro.network import GaugeNetwork
from floodpost.hydro.readings import check_batch
from floodpost.hydro.rules import to_units
from floodpost.paths import default_geodata
from floodpost.storage import open_store

T0 = datetime(2024, 6, 1, tzinfo=UTC).timestamp()
STEP = 300.0  # 5-minute gauges


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def raw_baseline(path: Path, batches: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE r (station TEXT, kind TEXT, ts REAL, value REAL, interval_h REAL,"
        " units INTEGER, body TEXT, received_ts REAL, actor TEXT,"
        " PRIMARY KEY (station, kind, ts)) WITHOUT ROWID"
    )
    t = time.perf_counter()
    for b in range(batches):
        rows = [
            (f"S{i:07d}", "rain", T0 + b * STEP, 0.5, 1 / 12, 500, '{"rain_mm": 0.5}', 0.0, "x")
            for i in range(100)
        ]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO r VALUES (?,?,?,?,?,?,?,?,?)", rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t
    conn.close()
    return batches * 100 / elapsed


def intake(url: str, net: GaugeNetwork, batches: int) -> float:
    store = open_store(url)
    gauges = sorted(s for s, st in net.stations.items() if st["kind"] == "PP")[:90]
    levels = sorted(s for s, st in net.stations.items() if st["kind"] == "RR")[:10]
    now = T0 + batches * STEP + 3600
    payloads = []
    for b in range(batches):
        ts = iso(T0 + b * STEP)
        items = [{"station": g, "time": ts, "rain_mm": 0.5, "interval_h": 1 / 12} for g in gauges]
        items += [{"station": s, "time": ts, "level_m": 100.0} for s in levels]
        payloads.append(json.dumps({"readings": items}))
    t = time.perf_counter()
    for body in payloads:
        readings = check_batch(json.loads(body)["readings"], net.infos, now)
        store_readings(store, net, readings, actor="bench", source="bench")
    elapsed = time.perf_counter() - t
    store.close()
    return batches * 100 / elapsed


def fill(url: str, station: str, n: int) -> None:
    """`n` 5-minute readings of `station` ending just before T0, inserted directly."""
    store = open_store(url)
    chunk = 50_000
    body = json.dumps({"interval_h": 1 / 12, "rain_mm": 0.1}, sort_keys=True)
    for start in range(0, n, chunk):
        rows = [
            (station, "rain", T0 - (n - k) * STEP, 0.1, 1 / 12, to_units(0.1), body, 0.0, "fill")
            for k in range(start, min(n, start + chunk))
        ]
        store.transact(
            lambda tx, rows=rows: tx.executemany(
                "INSERT INTO readings (station, kind, ts, value, interval_h, units, body,"
                " received_ts, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        )
    store.transact(
        lambda tx: tx.execute(
            "INSERT INTO station_latest (station, last_ts, received_ts) VALUES (?, ?, 0)",
            (station, T0 - STEP),
        )
    )
    store.close()


def per_reading_ms(url: str, net: GaugeNetwork, station: str, rounds: int) -> float:
    store = open_store(url)
    times = []
    for r in range(rounds):
        base = T0 + r * 100 * STEP
        items = [
            {"station": station, "time": iso(base + k * STEP), "rain_mm": 0.2, "interval_h": 1 / 12}
            for k in range(99)
        ]
        # and one back-filled reading inside the last 24 hours (between two stored ones)
        items.append({"station": station, "time": iso(base - 7 * STEP - 60), "rain_mm": 0.1,
                      "interval_h": 1 / 60})  # fmt: skip
        readings = check_batch(items, net.infos, T0 + 10**7)
        t = time.perf_counter()
        store_readings(store, net, readings, actor="bench", source="bench")
        times.append((time.perf_counter() - t) / 100 * 1000)
    store.close()
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=200)
    ap.add_argument("--big", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    net = GaugeNetwork.of(Catalogue.load(default_geodata()))
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        raw = raw_baseline(Path(d) / "raw.db", args.batches)
        print(f"raw      : {raw:10,.0f} rows/s (100-row transactions, fsync each)")
        rate = intake(f"sqlite:///{d}/intake.db", net, args.batches)
        print(f"intake   : {rate:10,.0f} readings/s in batches of 100 (target >= 2,000)")
        print(f"ratio intake/raw: {rate / raw:.2f}")
        gauge = sorted(s for s, st in net.stations.items() if st["kind"] == "PP")[0]
        small_url, big_url = f"sqlite:///{d}/small.db", f"sqlite:///{d}/big.db"
        fill(small_url, gauge, 1_000)
        t = time.perf_counter()
        fill(big_url, gauge, args.big)
        print(f"filled {args.big:,} readings of {gauge} in {time.perf_counter() - t:.1f} s")
        small = per_reading_ms(small_url, net, gauge, args.rounds)
        big = per_reading_ms(big_url, net, gauge, args.rounds)
        print(f"history 1k : {small:.3f} ms per reading (median of {args.rounds} batches of 100)")
        print(f"history {args.big // 1000}k: {big:.3f} ms per reading")
        print(f"ratio big/small: {big / small:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
