"""How fast `floodpost simulate` writes a synthetic log, before/after in one run.

    .venv/bin/python bench/bench_simulate.py [--events 1000000] [--seed 0] [--dir /tmp]
        [--base /tmp/simulate-base/src] [--pg] [--phases]

For each variant (`--base SRC`: the code in SRC first, "before"; then this checkout, "after"),
in a fresh interpreter with that code first on the path, on a fresh store:
- simulate end to end on SQLite (`simulate(store, catalogue, events=N)`: the log built, bulk
  loaded and the audited corrections written; returns once all of it is durable);
- with `--pg`, the same on PostgreSQL (a throw-away cluster from scripts/pg_cluster.sh, stopped
  afterwards);
- with `--phases`, also build only (`build_reports`) and bulk_load only (the pre-built reports
  through `store.bulk_load`, SQLite).
Prints the load average before and after each variant, events/s, the file size, and the ratio
after/before of each figure (target of issue 14: 1,000,000 events in ≤ 45 s on SQLite).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
PG_PORT = "54371"  # not pg_cluster.sh's default, which other benchmarks and people use


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def timed(fn):  # noqa: ANN001, ANN201
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def measure(events: int, seed: int, work: Path, pg_url: str | None, phases: bool) -> dict:
    """One variant, in this interpreter (the code first on sys.path is the one measured)."""
    from floodpost.geo.catalogue import Catalogue
    from floodpost.paths import default_geodata
    from floodpost.replay import simulate as sim
    from floodpost.storage import open_store

    catalogue = Catalogue.load(default_geodata())
    out: dict = {}
    if phases:
        reports, out["build"] = timed(lambda: sim.build_reports(catalogue, events, seed))
        store = open_store(f"sqlite:///{work}/bulk.db")
        try:
            _, out["bulk_load"] = timed(lambda: store.bulk_load(iter(reports), actor="bench"))
        finally:
            store.close()
        del reports
    targets = [("sqlite", f"sqlite:///{work}/sim.db")]
    if pg_url:
        targets.append(("postgres", pg_url))
    for name, url in targets:
        store = open_store(url)
        try:
            t0 = time.perf_counter()
            written = sim.simulate(store, catalogue, events=events, seed=seed)
            seconds = time.perf_counter() - t0
        finally:
            store.close()
        assert written == events, (written, events)  # noqa: S101
        out[name] = seconds
    out["sqlite_mb"] = sum(p.stat().st_size for p in work.glob("sim.db*")) / 1e6
    return out


def run_variant(src: Path, args: argparse.Namespace, pg_url: str | None) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-sim-", dir=args.dir))
    env = dict(os.environ, PYTHONPATH=str(src))
    cmd = [sys.executable, __file__, "--child", str(work), "--events", str(args.events),
           "--seed", str(args.seed)] + (["--pg-url", pg_url] if pg_url else []) + (
           ["--phases"] if args.phases else [])  # fmt: skip
    try:
        before = load()
        text = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout  # noqa: S603
        result = json.loads(text.strip().splitlines()[-1])
        result["load"] = f"{before} → {load()}"
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def new_pg_database(cluster_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(cluster_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return cluster_url.replace("/floodpost?", f"/{name}?")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", default=None, help="where the temporary stores go")
    ap.add_argument("--base", default=None, help="src folder of the code to compare against")
    ap.add_argument("--pg", action="store_true", help="also simulate on PostgreSQL")
    ap.add_argument("--phases", action="store_true", help="also build only / bulk_load only")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--pg-url", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(
            json.dumps(measure(args.events, args.seed, Path(args.child), args.pg_url, args.phases))
        )
        return
    n = args.events
    variants = ([("before", Path(args.base))] if args.base else []) + [("after", SRC)]
    print(f"{n:,} events, seed {args.seed}, {os.cpu_count()} CPUs, load average {load()}")
    cluster = None
    if args.pg:
        cluster = Path(tempfile.mkdtemp(prefix="bench-sim-pg-"))
        started = subprocess.run(  # noqa: S603
            [str(HERE.parent / "scripts" / "pg_cluster.sh"), "start", str(cluster), PG_PORT],
            check=True, capture_output=True, text=True,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
    results = {}
    try:
        for i, (name, src) in enumerate(variants):
            pg_url = new_pg_database(started, f"bench_sim_{i}") if cluster else None
            results[name] = run_variant(src, args, pg_url)
            r = results[name]
            print(f"{name:7s} (load {r['load']})")
            for key in ("build", "bulk_load", "sqlite", "postgres"):
                if key in r:
                    label = {"build": "build only", "bulk_load": "bulk_load only (prebuilt)",
                             "sqlite": "simulate SQLite", "postgres": "simulate PostgreSQL"}[key]  # fmt: skip
                    print(f"  {label:26s} {r[key]:8.1f} s  {n / r[key]:>10,.0f} events/s")
            print(f"  SQLite file                {r['sqlite_mb']:8,.0f} MB")
    finally:
        if cluster:
            subprocess.run(  # noqa: S603
                [str(HERE.parent / "scripts" / "pg_cluster.sh"), "stop", str(cluster)], check=False
            )
            shutil.rmtree(cluster, ignore_errors=True)
    if "before" in results:
        for key in ("build", "bulk_load", "sqlite", "postgres"):
            if key in results["after"] and key in results["before"]:
                ratio = results["after"][key] / results["before"][key]
                print(f"after/before {key:10s} {ratio:6.2f}")
    after = results["after"]["sqlite"]
    print(f"SQLite 1,000,000 events: {after * 1_000_000 / n:.0f} s projected linearly"
          f"{' (measured)' if n == 1_000_000 else ''}; target ≤ 45 s")  # fmt: skip


if __name__ == "__main__":
    main()
