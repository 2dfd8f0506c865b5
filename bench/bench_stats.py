"""Review statistics over a large log: each /api/stats answer, timed (median of several runs).

    .venv/bin/python bench/bench_stats.py [--events 1000000] [--db sqlite:///path] [--runs 5]

Builds the log with `floodpost.replay.simulate` (unless --db names a store that already holds
one), then prints the median time of each statistic and its ratio to two baselines measured in
the same run on the same store: `SELECT COUNT(*) FROM reports` and a naive
`SUM(people) … GROUP BY township_code` over the reports table. Target: every statistic < 200 ms.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from floodpost.geo.catalogue import Catalogue
from floodpost.paths import default_geodata
from floodpost.replay.simulate import simulate
from floodpost.stats.service import ReviewStats
from floodpost.storage import open_store


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm the page cache and the statement cache once
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--db", default=None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corrections", type=int, default=1000)
    args = ap.parse_args()

    tmp = None
    url = args.db
    if url is None:
        tmp = tempfile.TemporaryDirectory(prefix="floodpost-bench-")
        url = f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    catalogue = Catalogue.load(default_geodata())
    store = open_store(url)
    try:
        n = int(store.read("SELECT COUNT(*) AS n FROM reports")[0]["n"])
        if n == 0:
            t = time.perf_counter()
            written = simulate(store, catalogue, events=args.events, seed=args.seed)
            print(f"built {written:,} events in {time.perf_counter() - t:.0f} s ({url})")
        n = int(store.read("SELECT COUNT(*) AS n FROM reports")[0]["n"])
        agg_rows = int(store.read("SELECT COUNT(*) AS n FROM agg")[0]["n"])
        changes = store.last_change_seq()
        print(f"store: {n:,} reports, {changes:,} events (changes), {agg_rows:,} agg rows")

        stats = ReviewStats(store, catalogue, clock=time.time)
        t = time.perf_counter()
        stats.by_area("township")
        print(
            f"first statistic (builds the roll-up from agg): {(time.perf_counter() - t) * 1000:.0f} ms"
        )
        last_day = (store.read("SELECT MAX(hour) AS h FROM agg")[0]["h"] or "2017-07-01")[:10]
        baselines = {
            "baseline COUNT(*) reports": lambda: store.read("SELECT COUNT(*) AS n FROM reports"),
            "baseline naive GROUP BY": lambda: store.read(
                "SELECT township_code, SUM(people) AS p FROM reports WHERE status = 'active' "
                "AND kind = 'evacuation' GROUP BY township_code"
            ),
        }
        cases = {
            "summary": stats.summary,
            "by-township": lambda: stats.by_area("township"),
            "by-zone": lambda: stats.by_area("zone"),
            "by-village": lambda: stats.by_area("village"),
            "by-day": stats.by_day,
            f"by-day?date={last_day}": lambda: stats.by_day(last_day),
            f"at?t={last_day}T12:00": lambda: stats.at(f"{last_day}T12:00"),
            "flows": stats.flows,
            "shelters": stats.shelters,
            "reservoirs": stats.reservoirs,
        }
        base = {name: median_ms(fn, args.runs) for name, fn in baselines.items()}
        count_ms, naive_ms = base.values()
        for name, ms in base.items():
            print(f"{name:<32} {ms:9.1f} ms")
        print(f"{'statistic':<32} {'median':>9}    {'÷COUNT(*)':>9} {'÷naive':>8}  (<200 ms)")
        worst = 0.0
        for name, fn in cases.items():
            ms = median_ms(fn, args.runs)
            worst = max(worst, ms)
            ok = "ok" if ms < 200 else "SLOW"
            print(f"{name:<32} {ms:9.1f} ms {ms / count_ms:9.2f} {ms / naive_ms:8.2f}  {ok}")
        print(f"slowest statistic: {worst:.1f} ms")

        # Following the log: corrections arrive, the next statistic applies them first (and
        # recomputes what is memoised per log position: the help-request figures).
        ids = [
            r["id"]
            for r in store.read(
                "SELECT id FROM reports WHERE kind = 'evacuation' AND status = 'active' LIMIT ?",
                (args.corrections + 1,),
            )
        ]

        def correct(rid: str) -> None:
            store.modify_report(
                rid,
                lambda r: {**r, "people": int(r["people"]) + 1},
                actor="bench",
                action="correct",
                reason="bench",
            )

        for rid in ids[:-1]:
            correct(rid)
        t = time.perf_counter()
        stats.summary()
        ms = (time.perf_counter() - t) * 1000
        print(f"summary after {len(ids) - 1} corrections (follows the change log): {ms:.1f} ms")
        correct(ids[-1])
        t = time.perf_counter()
        stats.at(f"{last_day}T12:00")
        ms = (time.perf_counter() - t) * 1000
        print(f"at?t= after 1 more correction (memoised figures rebuilt): {ms:.1f} ms")
    finally:
        store.close()
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
