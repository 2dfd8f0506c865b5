"""Evacuation orders at county scale (issue #10 §Speed): an order over 50 villages whose roster
holds 20,000 households.

    .venv/bin/python bench/bench_orders.py [--db URL] [--events 100000] [--seconds 10]

On a fresh store (a temporary SQLite file unless --db) holding a simulated flood log of
`--events` reports (bulk-loaded, not timed) and a 20,000-household roster over 50 villages:
- baselines, measured in the same run on the same store: one durable report write
  (`create_report`, what every POST /api/reports costs) and one report read (`get_report`);
- issue: `OrderBook.issue` of a new 50-village order (durable, logged with its progress);
- progress: `OrderBook.get` of that order, repeatedly, while a thread writes 100 evacuation
  reports per second into its villages;
- CAP: `OrderBook.cap` of the order (50 areas), the first call (builds every village's outline
  once) and later ones; the Atom feed;
- roll-call: the roster of one 400-household village (read and audited).
Prints medians, p95 and the ratio to the matching baseline.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from floodpost.geo.catalogue import Catalogue
from floodpost.geo.routing import ReportRouter
from floodpost.orders.households import Household, derived_id
from floodpost.orders.rollcall import RollCall, import_households
from floodpost.orders.service import Actor, OrderBook
from floodpost.orders.zones import zone_lookup
from floodpost.paths import default_geodata
from floodpost.replay import simulate as sim
from floodpost.reports.intake import prepare_report
from floodpost.storage import open_store

VILLAGES = 50
HOUSEHOLDS = 20_000
RATE = 100  # reports per second while progress is read


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def show(name: str, ms: list[float], base: float | None = None) -> None:
    med = statistics.median(ms)
    p95 = sorted(ms)[max(0, int(len(ms) * 0.95) - 1)]
    ratio = f"  ×{med / base:.1f} baseline" if base else ""
    print(
        f"{name:<44} median {med:8.2f} ms  p95 {p95:8.2f} ms  max {max(ms):8.2f} ms  (n={len(ms)}){ratio}"
    )


def report_body(code: str, people: int) -> dict:
    now = datetime.now(UTC).isoformat()
    return {"id": str(uuid.uuid4()), "kind": "evacuation", "occurred_at": now,
            "village_code": code, "people": people, "note": "bench"}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=None)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="fp-bench-orders-")
    url = args.db or f"sqlite:///{Path(tmp) / 'orders.db'}"
    catalogue = Catalogue.load(default_geodata())
    router = ReportRouter(catalogue)
    zone_of = zone_lookup(catalogue, router)
    store = open_store(url)
    try:
        t0 = time.perf_counter()
        store.bulk_load(sim.build_reports(catalogue, args.events, 0), actor="bench")
        print(
            f"store {url}: {args.events} simulated reports loaded in {time.perf_counter() - t0:.1f} s (not timed below)"
        )
        codes = list(catalogue.villages_by_code)[:VILLAGES]
        per = HOUSEHOLDS // VILLAGES
        households = [
            Household(derived_id(c, f"户主{c[-3:]}-{i}", None), c, f"户主{c[-3:]}-{i}", 1 + i % 6,
                      None, ("elderly",) if i % 7 == 0 else (), None, None, i + 2)
            for c in codes for i in range(per)
        ]  # fmt: skip
        t0 = time.perf_counter()
        counts = import_households(store, households, zone_of=zone_of, actor="bench")
        print(
            f"roster: {counts['added']} households over {len(codes)} villages imported in {(time.perf_counter() - t0) * 1000:.0f} ms"
        )

        def write_one() -> None:
            stored, digest = prepare_report(router, report_body(codes[0], 3), reporter="bench")
            store.create_report(stored, digest, actor="bench")

        some_id = store.list_reports(limit=1)[0][0]["id"]
        base_write = timed(write_one, 50)
        base_read = timed(lambda: store.get_report(some_id), 200)
        show("baseline: one durable report write", base_write)
        show("baseline: one report read", base_read)
        bw, br = statistics.median(base_write), statistics.median(base_read)

        book = OrderBook(store, catalogue, zone_of=zone_of, clock=time.time)
        order_ids: list[str] = []

        def issue() -> None:
            oid = str(uuid.uuid4())
            book.issue(
                {"id": oid, "level": "evacuate", "villages": codes, "message": "立即转移"},
                actor="bench",
            )
            order_ids.append(oid)

        show(f"issue an order over {VILLAGES} villages", timed(issue, 10), bw)
        oid = order_ids[0]
        who = Actor("bench", "commander")
        show("progress read, idle", timed(lambda: book.get(oid, who), 50), br)

        stop = threading.Event()
        written = [0]

        def writer() -> None:
            i = 0
            next_at = time.perf_counter()
            while not stop.is_set():
                stored, digest = prepare_report(
                    router, report_body(codes[i % len(codes)], 2), reporter="bench"
                )
                store.create_report(stored, digest, actor="bench")
                written[0] += 1
                i += 1
                next_at += 1.0 / RATE
                time.sleep(max(0.0, next_at - time.perf_counter()))

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        reads: list[float] = []
        end = time.perf_counter() + args.seconds
        while time.perf_counter() < end:
            reads += timed(lambda: book.get(oid, who), 1)
            time.sleep(0.02)
        stop.set()
        thread.join()
        rate = written[0] / args.seconds
        show(f"progress read while {rate:.0f} reports/s arrive", reads, br)
        final = book.get(oid, who)
        print(
            f"  (order now: {final['evacuated']} people evacuated since issue, {final['households']} households)"
        )

        first = timed(lambda: book.cap(oid), 1)
        show(f"CAP alert, {VILLAGES} areas, first call (outlines built)", first)
        show(f"CAP alert, {VILLAGES} areas", timed(lambda: book.cap(oid), 20), br)
        show("Atom feed (11 orders)", timed(lambda: book.atom("http://cp.example/"), 20), br)
        rc = RollCall(book)
        show(
            f"roll-call of a {per}-household village (audited)",
            timed(lambda: rc.village(codes[1], who), 20),
            br,
        )
    finally:
        store.close()


if __name__ == "__main__":
    main()
