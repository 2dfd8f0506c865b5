"""`floodpost demo`: the June 2017 Suining flood replayed on a fresh store, served at once.

- `--speed max` loads the whole log first (bulk load), then serves: the review shows the totals.
- `--speed X` serves at once and plays the log through the store in simulated time, X simulated
  seconds per real second, so the live map (SSE) shows the flood as it happened. The service
  keeps the real clock (sign-in tokens, escalation, silent zones): each report is *received* now
  and *occurred* at its 2017 moment, as if the phones were sending them live; a rescue made by
  resolving a help request happens at the flood's moment too.

Demo accounts (commander, staff, field, viewer) get random passwords, printed at start; the
service runs with `demo=True` (badge on every page) and a freshly generated secret key.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from floodpost.errors import ConfigError, FloodpostError
from floodpost.replay import flood2017, rain2017
from floodpost.storage.base import Store

DEMO_ROLES = ("commander", "staff", "field", "viewer")
DEMO_ACTOR = "demo-replay"
GAUGE_ACTOR = "demo-gauges"


def parse_speed(text: str | None) -> float | None:
    """None for "max", else the positive number of simulated seconds per real second."""
    if text is None or str(text).strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise ConfigError("--speed must be a number or 'max'", field="speed") from None
    if not speed > 0:
        raise ConfigError("--speed must be greater than 0", field="speed")
    return speed


def store_is_empty(store: Store) -> bool:
    rows = store.read("SELECT COUNT(*) AS n FROM reports")
    users = store.read("SELECT COUNT(*) AS n FROM users")
    return int(rows[0]["n"]) == 0 and int(users[0]["n"]) == 0


def create_demo_accounts(store: Store) -> dict[str, str]:
    """One account per role, named after it, with a random password: {name: password}."""
    from floodpost.auth.accounts import create_account

    accounts = {}
    for role in DEMO_ROLES:
        password = secrets.token_urlsafe(12)
        create_account(store, role, role, password)
        accounts[role] = password
    return accounts


def load_all(store: Store, catalogue: Any, seed: int = 2017, *, readings: bool = True) -> int:
    """The whole flood in its final state (for `--speed max` and tests): the gauges' readings
    first, hour by hour (so their warnings come before the evacuations in the log), then the
    reports. Returns the number of reports."""
    if readings:
        load_readings(store, catalogue, flood2017.build_timeline(catalogue, seed), seed)
    return store.bulk_load(flood2017.build_log(catalogue, seed), actor=DEMO_ACTOR)


def load_readings(
    store: Store, catalogue: Any, steps: list[flood2017.Step], seed: int = 2017
) -> int:
    """Every hourly batch of the replay's gauges through the readings intake; returns readings."""
    from floodpost.hydro.intake import store_readings
    from floodpost.hydro.network import GaugeNetwork

    network = GaugeNetwork.of(catalogue)
    batches = rain2017.build_batches(catalogue, steps, seed)
    n = 0
    # A day of hours per transaction: the warnings still rise at the hour they are reached.
    for day in range(0, len(batches), 24):
        readings = [r for b in batches[day : day + 24] for r in b.readings]
        n += store_readings(store, network, readings, actor=GAUGE_ACTOR, source="demo")["accepted"]
    return n


class SimClock:
    """Simulated time: the flood's start plus `speed` × real seconds since `start()`."""

    def __init__(self, speed: float, origin_ts: float = flood2017.START.timestamp()) -> None:
        self.speed = speed
        self.origin_ts = origin_ts
        self._t0 = time.monotonic()

    def start(self) -> None:
        self._t0 = time.monotonic()

    def __call__(self) -> float:
        return self.origin_ts + (time.monotonic() - self._t0) * self.speed


def play(
    store: Store,
    steps: list[flood2017.Step] | list[flood2017.Step | rain2017.ReadingBatch],
    clock: Callable[[], float],
    stop: threading.Event,
    *,
    speed: float,
    network: Any = None,
) -> int:
    """Send each step (a report step, or an hour of gauge readings when `network` is given) to
    the store when the simulated clock reaches it; returns steps done."""
    done = 0
    for step in steps:
        if isinstance(step, rain2017.ReadingBatch):
            while not stop.is_set() and (wait := (step.ts - clock()) / speed) > 0:
                stop.wait(min(wait, 0.5))
            if stop.is_set():
                break
            _send_readings(store, network, step)
            done += 1
            continue
        while not stop.is_set() and (wait := (step.ts - clock()) / speed) > 0:
            stop.wait(min(wait, 0.5))
        if stop.is_set():
            break
        try:
            _send(store, step, live=True)
        except FloodpostError as exc:  # one refused step must not stop the replay
            print(f"floodpost demo: step {step.action} {step.report_id}: {exc}", file=sys.stderr)
        done += 1
    return done


def _send_readings(store: Store, network: Any, batch: rain2017.ReadingBatch) -> None:
    from floodpost.hydro.intake import store_readings

    try:
        store_readings(store, network, batch.readings, actor=GAUGE_ACTOR, source="demo")
    except FloodpostError as exc:  # one refused hour must not stop the replay
        print(f"floodpost demo: readings at {batch.ts}: {exc}", file=sys.stderr)


def timeline_with_readings(
    catalogue: Any, seed: int = 2017
) -> list[flood2017.Step | rain2017.ReadingBatch]:
    """The report steps and the hourly reading batches, merged in time order."""
    steps = flood2017.build_timeline(catalogue, seed)
    merged: list[flood2017.Step | rain2017.ReadingBatch] = [
        *steps,
        *rain2017.build_batches(catalogue, steps, seed),
    ]
    # A batch sorts before a report of the same second: the warning comes first.
    merged.sort(key=lambda s: (s.ts, 0 if isinstance(s, rain2017.ReadingBatch) else 1))
    return merged


def _send(store: Store, step: flood2017.Step, *, live: bool = False) -> None:
    """One step into the store. `live`: stamp receipt and lifecycle steps with the real time."""
    from floodpost.reports import lifecycle
    from floodpost.reports.model import iso_utc

    def at() -> float:  # the step's own simulated moment
        return step.ts

    now = time.time if live else at
    if step.action == "create":
        assert step.stored is not None and step.content_hash is not None
        report = dict(step.stored)
        if live:
            t = time.time()
            report.update(
                received_ts=t, received_at=iso_utc(t), updated_ts=t, updated_at=iso_utc(t)
            )
        store.create_report(report, step.content_hash, actor=report["reporter"])
    elif step.action == "assign":
        lifecycle.assign(store, step.report_id, step.assignee, actor="staff", clock=now)
    elif step.action == "en_route":
        lifecycle.en_route(store, step.report_id, actor="staff", clock=now)
    else:
        resolution = lifecycle.Resolution(
            kind=step.resolution or "not_needed",
            rescued=step.rescued,
            duplicate_of=step.duplicate_of,
        )
        lifecycle.resolve(store, step.report_id, resolution, actor="staff", clock=at)


def run_demo(args: argparse.Namespace) -> int:
    import uvicorn

    from floodpost.geo.catalogue import Catalogue
    from floodpost.settings import Settings
    from floodpost.storage import open_store
    from floodpost.web.app import create_app, tune_serving_process

    speed = parse_speed(getattr(args, "speed", "max"))
    tmp: tempfile.TemporaryDirectory[str] | None = None
    db_url = getattr(args, "db", None)
    if not db_url:
        tmp = tempfile.TemporaryDirectory(prefix="floodpost-demo-")
        db_url = f"sqlite:///{Path(tmp.name) / 'demo.db'}"
    host = getattr(args, "host", None) or "127.0.0.1"
    port = int(getattr(args, "port", None) or 8000)
    settings = Settings(
        db_url=db_url, demo=True, secret_key=secrets.token_urlsafe(48), host=host, port=port
    )
    store = open_store(settings.db_url)
    try:
        if not store_is_empty(store):
            print(
                f"floodpost demo: {db_url} already holds reports or accounts; the demo needs an "
                "empty store and never touches existing data. Give a new --db or leave it out "
                "(a temporary store is used).",
                file=sys.stderr,
            )
            return 2
        catalogue = Catalogue.load(settings.geodata_dir)
        accounts = create_demo_accounts(store)
        print(f"floodpost demo: store {db_url}", flush=True)
        print("floodpost demo: sign-in accounts (demo only, valid for this run):", flush=True)
        for name, password in accounts.items():
            print(f"  {name:<10} {password}", flush=True)
        stop = threading.Event()
        player: threading.Thread | None = None
        if speed is None:
            started = time.monotonic()
            n = load_all(store, catalogue)
            print(
                f"floodpost demo: {n} reports of 24 June – 1 July 2017 loaded in "
                f"{time.monotonic() - started:.1f} s",
                flush=True,
            )
        else:
            from floodpost.hydro.network import GaugeNetwork

            sim = SimClock(speed, origin_ts=rain2017.RAIN_START.timestamp())
            steps = timeline_with_readings(catalogue)
            print(
                f"floodpost demo: playing {len(steps)} steps at {speed:g}× "
                f"(the whole week takes {(8 * 86400 + 16 * 3600) / speed / 60:.1f} min)",
                flush=True,
            )
            sim.start()
            player = threading.Thread(
                target=play,
                args=(store, steps, sim, stop),
                kwargs={"speed": speed, "network": GaugeNetwork.of(catalogue)},
                daemon=True,
            )
            player.start()
        app = create_app(settings, store=store)
        tune_serving_process()
        print(f"floodpost demo: http://{host}:{port}/review", flush=True)
        uvicorn.run(app, host=host, port=port, log_level="warning")
        stop.set()
        if player is not None:
            player.join(timeout=10)
        return 0
    finally:
        store.close()
        if tmp is not None:
            tmp.cleanup()
