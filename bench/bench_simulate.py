"""How fast `floodpost simulate` builds a synthetic log, and where the time goes.

    .venv/bin/python bench/bench_simulate.py [--events 1000000] [--seed 0] [--dir /tmp]

Prints, for the same N and seed on a fresh SQLite store each:
- build only (numpy + per-report dicts, no storage);
- bulk_load only (the pre-built reports through `store.bulk_load`);
- simulate end to end (build overlapped with bulk_load, plus audited corrections);
and the events/s of each, with the projection to 1,000,000 events (target: about a minute).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from floodpost.geo.catalogue import Catalogue
from floodpost.paths import default_geodata
from floodpost.replay import simulate as sim
from floodpost.storage import open_store


def timed(fn):  # noqa: ANN001, ANN201
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", default=None, help="where the temporary stores go")
    args = ap.parse_args()
    n = args.events
    catalogue = Catalogue.load(default_geodata())
    work = Path(tempfile.mkdtemp(prefix="bench-sim-", dir=args.dir))
    try:
        reports, t_build = timed(lambda: sim.build_reports(catalogue, n, args.seed))
        store = open_store(f"sqlite:///{work}/bulk.db")
        try:
            _, t_bulk = timed(lambda: store.bulk_load(iter(reports), actor="bench"))
        finally:
            store.close()
        store = open_store(f"sqlite:///{work}/sim.db")
        try:
            written, t_sim = timed(lambda: sim.simulate(store, catalogue, events=n, seed=args.seed))
        finally:
            store.close()
        sim_mb = sum(p.stat().st_size for p in work.glob("sim.db*")) / 1e6
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"events requested           {n:>10,}")
    print(f"build only                 {t_build:8.1f} s  {n / t_build:>10,.0f} events/s")
    print(f"bulk_load only (prebuilt)  {t_bulk:8.1f} s  {n / t_bulk:>10,.0f} events/s")
    print(
        f"simulate end to end        {t_sim:8.1f} s  {written / t_sim:>10,.0f} events/s  ({written:,} written)"
    )
    print(
        f"simulate file size         {sim_mb:8,.0f} MB  ({sim_mb * 1e6 / max(1, written):,.0f} B/event)"
    )
    print(f"ratio simulate / bulk_load {t_sim / t_bulk:8.2f}  (1.0 = storage is the whole cost)")
    print(f"projected 1,000,000 events {t_sim * 1_000_000 / n:8.0f} s  (target: about 60 s)")


if __name__ == "__main__":
    main()
