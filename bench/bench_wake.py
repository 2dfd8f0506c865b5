"""How soon a SQLite commit in one process wakes the change watcher in another (issue 14 §1).

    .venv/bin/python bench/bench_wake.py [--commits 200] [--interval 0.03]

A writer subprocess commits through the floodpost store (`Store.transact`) every `--interval`
seconds and prints, for each, the CLOCK_MONOTONIC time (shared by all processes on Linux) when
`transact` was called and when it returned (durable); this process runs the store's watcher
(storage/signals.py, the one the event broker uses) and records when it was woken. Delay = the
first wake-up after the call − the return: negative when the other process was woken before the
writer's caller had its answer (the nudge is sent right after COMMIT, before the caller is told).
Run twice: with the writer's nudge (storage/peer_wake.py) and with it switched off in the writer,
which leaves the periodic `PRAGMA data_version` check (every 10 ms) alone.
"""

from __future__ import annotations

import argparse
import bisect
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_WRITER = """
import sys, time
from floodpost.storage import open_store, peer_wake
if sys.argv[4] == "off":
    peer_wake.Peers.notify = lambda self: None
store = open_store(sys.argv[1])
n, interval = int(sys.argv[2]), float(sys.argv[3])
time.sleep(1.0)  # the watcher is listening
for i in range(n):
    t0 = time.monotonic()
    store.transact(lambda tx, i=i: tx.log("note", f"n{i}", "create", {"i": i}, actor="bench"))
    print(t0, time.monotonic(), flush=True)
    time.sleep(interval)
store.close()
"""


def measure(db_url: str, commits: int, interval: float, nudge: str) -> list[float]:
    from floodpost.storage import signals

    wakes: list[float] = []
    lock = threading.Lock()

    def wake() -> None:
        with lock:
            wakes.append(time.monotonic())

    watcher = signals.SQLiteWatcher(db_url.removeprefix("sqlite:///"), wake)
    watcher.start()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", _WRITER, db_url, str(commits), str(interval), nudge],
        capture_output=True, text=True, check=True, env=env,
    ).stdout  # fmt: skip
    time.sleep(0.1)
    watcher.stop()
    delays = []
    for line in out.splitlines():
        called, returned = map(float, line.split())
        k = bisect.bisect_left(wakes, called)
        if k < len(wakes):
            delays.append((wakes[k] - returned) * 1000)
    return delays


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--commits", type=int, default=200)
    p.add_argument("--interval", type=float, default=0.03)
    args = p.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from floodpost.storage import open_store

    print(
        f"load average {os.getloadavg()[0]:.1f}; {args.commits} commits, one every {args.interval} s"
    )
    with tempfile.TemporaryDirectory(prefix="floodpost-wake-bench-") as folder:
        db_url = f"sqlite:///{folder}/wake.db"
        open_store(db_url).close()  # the schema
        for nudge in ("on", "off"):
            d = measure(db_url, args.commits, args.interval, nudge)
            q = statistics.quantiles(d, n=100)
            label = "nudge + 10 ms check" if nudge == "on" else "10 ms check alone"
            print(
                f"  {label:<20} commit -> other process's watcher woken: p50 {q[49]:5.2f}  "
                f"p95 {q[94]:5.2f}  max {max(d):5.2f} ms  ({len(d)} commits)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
