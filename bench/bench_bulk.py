"""How close `store.bulk_load` on SQLite comes to raw inserts of the same rows.

    .venv/bin/python bench/bench_bulk.py [--events 1000000] [--seed 0] [--dir /tmp]

Builds the simulate log once (not timed), then, each on a fresh file with the store's pragmas
(WAL, synchronous=FULL, 256 MiB cache) and the store's transaction size:
- baseline: the same report rows (prepared as the store does: JSON bodies, column values)
  executemany'd into a bare table (no indexes, no audit rows, no aggregates), one step after
  the other — what the data alone costs;
- bulk_load: the store's real path (JSON bodies, eight indexes on reports, the audit log, the
  aggregates).
Prints events/s, the file sizes and the ratio bulk_load / baseline.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from floodpost.geo.catalogue import Catalogue
from floodpost.paths import default_geodata
from floodpost.replay import simulate as sim
from floodpost.storage import bulk, common, open_store
from floodpost.storage import sqlite as sqlite_store


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6


def baseline(path: Path, reports: list, chunk: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "cache_size=-262144"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(f"CREATE TABLE reports ({common.REPORT_FIELDS})")
    t0 = time.perf_counter()
    for batch in bulk.batches(reports, chunk):
        rows, _changes, _sums = bulk.bulk_rows(batch, "bench")
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(common.INSERT_REPORT, rows)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", default=None, help="where the temporary stores go")
    args = ap.parse_args()
    catalogue = Catalogue.load(default_geodata())
    gc.disable()  # a million live dicts: the cyclic GC would be most of the time otherwise
    reports = sim.build_reports(catalogue, args.events, args.seed)
    n = len(reports)
    work = Path(tempfile.mkdtemp(prefix="bench-bulk-", dir=args.dir))
    try:
        raw_db, store_db = work / "raw.db", work / "store.db"
        t_raw = baseline(raw_db, reports, sqlite_store._BULK_CHUNK)
        store = open_store(f"sqlite:///{store_db}")
        try:
            t0 = time.perf_counter()
            store.bulk_load(iter(reports), actor="bench")
            t_bulk = time.perf_counter() - t0
        finally:
            store.close()
        raw_mb, store_mb = size_mb(raw_db), size_mb(store_db)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"reports                    {n:>10,}  (transactions of {sqlite_store._BULK_CHUNK:,})")
    print(f"baseline: raw rows         {t_raw:8.1f} s  {n / t_raw:>10,.0f} /s  {raw_mb:8,.0f} MB")
    print(
        f"bulk_load (store)          {t_bulk:8.1f} s  {n / t_bulk:>10,.0f} /s  {store_mb:8,.0f} MB"
    )
    print(f"ratio bulk_load / baseline {t_bulk / t_raw:8.2f}")


if __name__ == "__main__":
    main()
