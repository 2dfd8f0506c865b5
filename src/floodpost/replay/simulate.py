"""`floodpost simulate`: a large, realistic synthetic flood log, deterministic for a seed.

For benchmarks and load tests (the live map with 100,000 events, review statistics over a
million). Built with numpy in one pass, routed by village (each report carries the village chosen
in the form, so routing is a dictionary lookup, as `ReportRouter.route` answers for a village
code), and written through `store.bulk_load` in the order the command post received it.

The log:
- all four kinds (evacuation 45 %, help request 22 %, incident 18 %, rescue 15 %), from villages
  weighted by population, three times as often from low-lying or riverside ones;
- over 24 June – 1 July 2017, getting heavier towards 1 July; above 200,000 events the log runs on
  for proportionally more days, so the density of a day stays realistic;
- evacuations go to shelters of the same township; reservoir incidents report seepage or danger;
- help requests in every lifecycle state: those older than a few hours when the log ends are
  resolved (mostly "rescued N", each with its linked rescue report — counted as an event), the
  newest are new, assigned or en route;
- about 0.2 % of reports are later corrected or retracted through `store.modify_report` (audited).

The returned count is the number of events written (changes rows): reports plus corrections.
"""

from __future__ import annotations

import gc
import hashlib
import heapq
import json
import os
import pickle
import subprocess
import sys
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

import floodpost
from floodpost.geo.catalogue import Catalogue
from floodpost.geo.routing import ReportRouter
from floodpost.live.places import places_from_catalogue
from floodpost.reports.lifecycle import rescue_id_for
from floodpost.storage import bulk
from floodpost.storage.base import Store

ACTOR = "simulate"
START_TS = datetime(2017, 6, 23, 16, 0, tzinfo=UTC).timestamp()  # 24 June 00:00 Asia/Shanghai
BASE_DAYS = 8
DENSE_EVENTS = 200_000
KINDS = np.array(["evacuation", "help_request", "incident", "rescue"])
KIND_P = [0.45, 0.22, 0.18, 0.15]
SUBTYPES = np.array(
    ["seepage", "piping", "overtopping", "dam_damage", "landslide", "road_cut",
     "power_outage", "telecom_outage", "death", "missing", "other"]
)  # fmt: skip
SUBTYPE_P = [0.12, 0.05, 0.02, 0.02, 0.17, 0.22, 0.15, 0.12, 0.002, 0.004, 0.124]
RESERVOIR_SUBTYPES = {"seepage", "piping", "overtopping", "dam_damage"}
STATUS_BY_SUBTYPE = {"seepage": ("seepage", "normal"), "piping": ("danger", "seepage"),
                     "overtopping": ("danger",), "dam_damage": ("danger", "seepage")}  # fmt: skip
URGENCIES = np.array(["normal", "urgent", "critical"])
TEAMS = ("县消防救援大队", "蓝天救援队", "武警绥宁中队", "民兵应急分队", "乡镇干部突击队",
         "县人武部民兵", "电力抢修队")  # fmt: skip
NOTES = {
    "evacuation": ("", "组织群众转移", "老人儿童先转移", "已转移至安置点", "沿河低洼户转移"),
    "help_request": ("", "房屋进水被困", "老人行动不便需救援", "道路冲毁被困", "二楼被困等待救援"),
    "incident": ("", "巡查发现险情", "已设警戒", "派人值守", "正在处置"),
    "rescue": ("", "冲锋舟转移被困群众", "救出被困人员", "已送安置点"),
}
JITTER_DEG = 0.004
OPEN_WINDOW_S = 6 * 3600
CORRECTION_SHARE = 0.002
CORRECTION_MAX = 2000
CHUNK = 50_000
_MASK64 = (1 << 64) - 1


# One encoder for every report: json.dumps with options builds a new one per call.
_CANON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _canon_hash(submitted: dict[str, Any]) -> str:
    """ReportCreate.content_hash() of the same content (canonical JSON, sha256)."""
    return hashlib.sha256(_CANON.encode(submitted).encode()).hexdigest()


def _iso_z(ts: np.ndarray) -> np.ndarray:
    """iso_utc of each timestamp, vectorised: rounded to the microsecond as
    datetime.fromtimestamp does (whole seconds and fraction apart, half to even), then cut to
    milliseconds as isoformat does."""
    whole = np.floor(ts)
    micros = whole.astype("int64") * 1_000_000 + np.round((ts - whole) * 1e6).astype("int64")
    return np.char.add(np.datetime_as_string(micros.astype("datetime64[us]"), unit="ms"), "Z")


def _iso_local(ts: np.ndarray) -> np.ndarray:
    local = (ts + 8 * 3600).astype("int64").astype("datetime64[s]")
    return np.char.add(np.datetime_as_string(local, unit="s"), "+08:00")


class _World:
    """The catalogue as arrays: villages with weights and routing, shelters and reservoirs by
    township."""

    def __init__(self, catalogue: Catalogue) -> None:
        places = places_from_catalogue(catalogue)
        router = ReportRouter(catalogue)
        self.codes = list(places.villages)
        vs = [places.villages[c] for c in self.codes]
        self.lon = np.array([v["lon"] for v in vs])
        self.lat = np.array([v["lat"] for v in vs])
        w = np.array([float(v.get("population") or 100) for v in vs])
        w *= np.array([3.0 if (v.get("low_lying") or v.get("near_river")) else 1.0 for v in vs])
        self.weights = w / w.sum()
        self.routing = [router.route(None, None, c) for c in self.codes]
        shelters_by_t: dict[str, list[str]] = {}
        for sid, s in places.shelters.items():
            shelters_by_t.setdefault(str(s.get("township_code")), []).append(sid)
        all_shelters = list(places.shelters)
        self.shelters = [
            shelters_by_t.get(r.township_code or "", all_shelters) for r in self.routing
        ]
        res_by_t: dict[str, list[str]] = {}
        for rid, r in places.reservoirs.items():
            res_by_t.setdefault(str(r.get("township_code")), []).append(rid)
        all_res = list(places.reservoirs)
        self.reservoirs = [res_by_t.get(r.township_code or "", all_res) for r in self.routing]


def _times(rng: np.random.Generator, n: int, span_s: float) -> np.ndarray:
    # Heavier towards the end (the flood peak), with a daily rhythm (more by day than at night).
    u = rng.random(n) ** 0.6
    t = START_TS + u * span_s
    hour = ((t + 8 * 3600) % 86400) / 3600
    night = (hour < 6) & (rng.random(n) < 0.4)
    return np.where(night, t + 8 * 3600 * rng.random(n), t).clip(START_TS, START_TS + span_s)


def build_reports(catalogue: Catalogue, events: int, seed: int) -> list[tuple[dict[str, Any], str]]:
    """The final state of every synthetic report, in received order (for bulk_load)."""
    return [item for chunk in iter_chunks(catalogue, events, seed) for item in chunk]


def base_count(events: int) -> int:
    """Reports to bulk-load for `events` events; the rest are corrections/retractions."""
    return max(0, events - min(int(events * CORRECTION_SHARE), CORRECTION_MAX))


def iter_chunks(
    catalogue: Catalogue, events: int, seed: int, chunk: int = CHUNK
) -> Iterator[list[tuple[dict[str, Any], str]]]:
    """The log in received order, `chunk` reports at a time (so writing one chunk can overlap
    with building the next)."""
    return _iter_chunks(_World(catalogue), events, seed, chunk)


def _iter_chunks(
    world: _World, events: int, seed: int, chunk: int
) -> Iterator[list[tuple[dict[str, Any], str]]]:
    rng = np.random.default_rng(seed)
    target = base_count(events)
    n = target
    span_s = BASE_DAYS * 86400 * max(1.0, events / DENSE_EVENTS)
    end_ts = START_TS + span_s

    kind = rng.choice(len(KINDS), size=n, p=KIND_P)
    village = rng.choice(len(world.codes), size=n, p=world.weights)
    occurred = _times(rng, n, span_s)
    delay = rng.exponential(300, n)
    delay = np.where(rng.random(n) < 0.05, rng.uniform(3600, 12 * 3600, n), delay)
    received = np.minimum(occurred + delay + 1.0, end_ts)  # late uploads arrive by the end
    lon = np.round(world.lon[village] + rng.uniform(-JITTER_DEG, JITTER_DEG, n), 6)
    lat = np.round(world.lat[village] + rng.uniform(-JITTER_DEG, JITTER_DEG, n), 6)
    # Households and small groups: a county of ~380,000 people is not evacuated twice over.
    people = np.where(kind == 0, rng.integers(1, 25, n), rng.integers(1, 12, n))
    subtype = rng.choice(len(SUBTYPES), size=n, p=np.array(SUBTYPE_P) / sum(SUBTYPE_P))
    urgency = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    pick = rng.random((n, 4))
    ids = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)
    log_end = end_ts

    # Rescued help requests each add a linked rescue (known up front from their age): drop as
    # many standalone reports, spread over the log, so the total is exactly `target` — never a
    # help request, so no link breaks.
    is_help = kind == 1
    rescued = is_help & (log_end - received >= OPEN_WINDOW_S) & (pick[:, 2] < 0.6)
    excess = int(rescued.sum())
    keep = np.ones(n, dtype=bool)
    if excess:
        standalone = np.flatnonzero(~is_help)
        keep[rng.choice(standalone, size=min(excess, len(standalone)), replace=False)] = False
    order = np.flatnonzero(keep)
    order = order[np.argsort(received[order], kind="stable")]

    occurred_at = _iso_local(occurred).tolist()
    received_at = _iso_z(received).tolist()
    # Plain lists: indexing a numpy array per element costs more than the rest of the loop.
    kind_l, village_l, subtype_l, urgency_l = (
        kind.tolist(), village.tolist(), subtype.tolist(), urgency.tolist()
    )  # fmt: skip
    # occurred_at is written to the second, and occurred_ts is read back from it (build_stored).
    occurred_l, received_l = np.floor(occurred).tolist(), received.tolist()
    delay_l = delay.tolist()
    lon_l, lat_l, people_l, pick_l = lon.tolist(), lat.tolist(), people.tolist(), pick.tolist()
    hexes = [f"{hi & 0x7FFFFFFFFFFFFFFF:016x}{lo & _MASK64:016x}" for hi, lo in ids.tolist()]
    kinds, subtypes, urgencies = KINDS.tolist(), SUBTYPES.tolist(), URGENCIES.tolist()
    pending: list[tuple[float, str, tuple[dict[str, Any], str]]] = []  # linked rescues, by time
    out: list[tuple[dict[str, Any], str]] = []

    # Millions of new dicts would trigger the cyclic GC over and over (none are cyclic).
    enabled = gc.isenabled()
    gc.disable()
    try:
        for i in order.tolist():
            rts = received_l[i]
            while pending and pending[0][0] <= rts:
                out.append(heapq.heappop(pending)[2])
            k = kinds[kind_l[i]]
            vi = village_l[i]
            routing = world.routing[vi]
            h = hexes[i]
            rid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"
            notes = NOTES[k]
            p = pick_l[i]
            sub: dict[str, Any] = {
                "id": rid,
                "kind": k,
                "occurred_at": occurred_at[i],
                "lon": lon_l[i],
                "lat": lat_l[i],
                "village_code": world.codes[vi],
                "people": people_l[i],
                "note": notes[int(p[0] * len(notes))],
                "accuracy_m": 10.0 + round(p[1] * 90, 1),
                "shelter_id": None,
                "team": None,
                "subtype": "other",
                "reservoir_id": None,
                "reservoir_status": None,
                "urgency": "normal",
                "contact": None,
            }
            if k == "evacuation":
                options = world.shelters[vi]
                if options and p[2] < 0.8:
                    sub["shelter_id"] = options[int(p[3] * len(options))]
            elif k == "rescue":
                sub["team"] = TEAMS[int(p[2] * len(TEAMS))]
            elif k == "incident":
                st = subtypes[subtype_l[i]]
                sub["subtype"] = st
                sub["people"] = 1 if st in ("death", "missing") else 0
                if st in RESERVOIR_SUBTYPES and world.reservoirs[vi]:
                    options = world.reservoirs[vi]
                    sub["reservoir_id"] = options[int(p[2] * len(options))]
                    statuses = STATUS_BY_SUBTYPE[st]
                    sub["reservoir_status"] = statuses[int(p[3] * len(statuses))]
            else:
                sub["urgency"] = urgencies[urgency_l[i]]
                sub["contact"] = f"示例 139-0000-{int(h[-4:], 16) % 10000:04d}"
            chash = _canon_hash(sub)
            stored = dict(sub)
            stored.update(
                occurred_ts=occurred_l[i],
                received_at=received_at[i],
                received_ts=rts,
                updated_at=received_at[i],
                updated_ts=rts,
                township_code=routing.township_code,
                zone_id=routing.zone_id,
                responsible=routing.responsible,
                outside_county=False,
                distance_outside_m=0.0,
                reporter=f"field{(vi * 7 + int(p[1] * 5)) % 400:03d}",
                status="active",
                version=1,
            )
            if k != "incident":
                stored.update(subtype=None, reservoir_id=None, reservoir_status=None)
            if k != "help_request":
                stored.update(urgency=None, contact=None)
            else:
                rescue = _lifecycle(stored, log_end, p, rng_value=delay_l[i])
                if rescue is not None:
                    heapq.heappush(pending, (rescue[0]["received_ts"], rescue[0]["id"], rescue))
            out.append((stored, chash))
            if len(out) >= chunk:
                yield out
                out = []
        while pending:
            out.append(heapq.heappop(pending)[2])
        if out:
            yield out
    finally:
        if enabled:
            gc.enable()


def _lifecycle(
    r: dict[str, Any], log_end: float, pick: list[float], rng_value: float
) -> tuple[dict[str, Any], str] | None:
    """Put a help request into a lifecycle state by its age at the end of the log; a 'rescued'
    resolution returns its linked rescue report."""
    t0 = r["received_ts"]
    age = log_end - t0
    team = TEAMS[int(pick[3] * len(TEAMS))]
    r.update(state="new", assignee=None, resolution=None, resolved_at=None, resolved_ts=None,
             duplicate_of=None, rescued=None)  # fmt: skip
    step = 300 + (rng_value % 1500)
    if age < OPEN_WINDOW_S:
        phase = int(pick[2] * 3)  # new / assigned / en_route
        if phase == 0 or age < step:
            return None
        r.update(state="assigned", assignee=team, assigned_ts=t0 + step, state_ts=t0 + step)
        if phase == 2 and age > 2 * step:
            r.update(state="en_route", en_route_ts=t0 + 2 * step, state_ts=t0 + 2 * step)
        return None
    done = t0 + 3 * step + (pick[0] * 4 * 3600)
    done_at = _iso1(done)  # formatted once: it is four fields of the request and its rescue
    r.update(state="resolved", assignee=team, assigned_ts=t0 + step, en_route_ts=t0 + 2 * step,
             state_ts=done, resolved_ts=done, resolved_at=done_at, updated_ts=done,
             updated_at=done_at, version=4)  # fmt: skip
    if pick[2] < 0.6:
        n = max(1, int(r["people"]))
        r.update(resolution="rescued", rescued=n)
        rescue_id = rescue_id_for(r["id"])
        r["rescue_id"] = rescue_id
        # The rescue's occurred_at as the API stores it: parsed, then written by pydantic
        # ("...:40Z" on a whole second, "...:40.123000Z" otherwise), and occurred_ts read from it.
        occurred_at = _pydantic_utc(done_at)
        occurred_ts = datetime.fromisoformat(occurred_at).timestamp()
        sub = {"id": rescue_id, "kind": "rescue", "occurred_at": occurred_at, "lon": r["lon"],
               "lat": r["lat"], "village_code": r["village_code"], "people": n, "note": "",
               "accuracy_m": None, "shelter_id": None, "team": team, "subtype": "other",
               "reservoir_id": None, "reservoir_status": None, "urgency": "normal",
               "contact": None}  # fmt: skip
        chash = _canon_hash(sub)
        rescue = dict(sub)
        rescue.update(
            occurred_ts=occurred_ts, received_at=done_at, received_ts=done, updated_at=done_at,
            updated_ts=done, township_code=r["township_code"], zone_id=r["zone_id"],
            responsible=r["responsible"], outside_county=False, distance_outside_m=0.0,
            reporter=ACTOR, status="active", version=1, subtype=None, reservoir_id=None,
            reservoir_status=None, urgency=None, contact=None, help_request_id=r["id"],
        )  # fmt: skip
        return rescue, chash
    r["resolution"] = "not_needed" if pick[2] < 0.9 else "duplicate"
    return None


def _iso1(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pydantic_utc(iso_ms: str) -> str:
    """How ReportCreate writes back an occurred_at of "YYYY-MM-DDTHH:MM:SS.mmmZ"."""
    head, _, frac = iso_ms.removesuffix("Z").partition(".")
    return f"{head}Z" if frac.strip("0") == "" else f"{head}.{frac}000Z"


def _corrections(store: Store, sample: list[tuple[str, str]], count: int, seed: int) -> int:
    """Correct or retract `count` of the sampled (id, kind) reports through the audited path
    (parallel: group commit)."""
    if count <= 0 or not sample:
        return 0
    rng = np.random.default_rng(seed + 1)
    # Help requests change through their lifecycle instead; correct the other kinds.
    others = [rid for rid, kind in sample if kind != "help_request"]
    chosen = rng.choice(len(others), size=min(count, len(others)), replace=False)
    targets = [others[int(i)] for i in sorted(chosen)]

    def fix(i_id: tuple[int, str]) -> int:
        i, report_id = i_id
        if i % 4 == 0:

            def retract(d: dict[str, Any]) -> dict[str, Any]:
                d["status"] = "retracted"
                return d

            store.modify_report(report_id, retract, actor="staff01", action="retract",
                                reason="重复上报 / duplicate report")  # fmt: skip
        else:

            def correct(d: dict[str, Any]) -> dict[str, Any]:
                d["people"] = max(0, int(d.get("people") or 0) - 1)
                return d

            store.modify_report(report_id, correct, actor="staff01", action="correct",
                                reason="核实人数 / people count checked")  # fmt: skip
        return 1

    with ThreadPoolExecutor(max_workers=32) as pool:
        return sum(pool.map(fix, enumerate(targets)))


# A bulk-load transaction: two of iter_chunks' parts (SQLite: fewer, bigger transactions write
# the randomly keyed indexes out fewer times; storage/sqlite.py).
LOAD_PARTS = 2
# Below this many events the log is built in the calling thread: starting the worker process
# (a fresh interpreter importing floodpost) costs more than it saves.
WORKER_MIN_EVENTS = 50_000
Prepared = tuple[bulk.BulkRows, list[tuple[str, str]]]  # a chunk's rows, its sampled (id, kind)


def _prepared(world: _World, events: int, seed: int) -> Iterator[Prepared]:
    """The log as bulk_load_rows chunks, each with the sample corrections are drawn from (every
    ~25th report of each part: the same reports whichever process builds the log)."""
    group: list[tuple[dict[str, Any], str]] = []
    sample: list[tuple[str, str]] = []
    parts = 0
    for part in _iter_chunks(world, events, seed, CHUNK):
        sample.extend((r["id"], r["kind"]) for r, _ in part[:: max(1, len(part) // 2000)])
        group.extend(part)
        parts += 1
        if parts % LOAD_PARTS == 0:
            yield bulk.bulk_rows(group, ACTOR), sample
            group, sample = [], []
    if group:
        yield bulk.bulk_rows(group, ACTOR), sample


def worker_main(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """The build process (python -m floodpost.replay.simulate_worker): reads (world, events,
    seed) pickled from stdin, writes each prepared chunk pickled to stdout, then None; on
    failure, the traceback as text."""
    try:
        world, events, seed = pickle.load(stdin)  # noqa: S301 - from our own parent
        for item in _prepared(world, events, seed):
            pickle.dump(item, stdout, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(None, stdout)
        stdout.flush()
    except BrokenPipeError:
        pass  # the parent stopped reading (its load failed) and reports why
    except BaseException:
        pickle.dump(traceback.format_exc(), stdout)
        stdout.flush()


@contextmanager
def _from_worker(world: _World, events: int, seed: int) -> Iterator[Iterator[Prepared]]:
    """_prepared(...) built in a worker process. Building and preparing the rows is Python work
    that holds the GIL; in a thread beside SQLite's inserts it made every inserted row wait for
    the GIL (the end-to-end load took longer than building, then loading). In its own process it
    runs on the second core while this one inserts. A plain subprocess rather than
    multiprocessing: spawn re-runs the caller's main script, fork copies running threads."""
    package_root = str(Path(floodpost.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed module
        [sys.executable, "-m", "floodpost.replay.simulate_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None  # noqa: S101 - PIPE above
    out = proc.stdout

    def items() -> Iterator[Prepared]:
        while True:
            try:
                item = pickle.load(out)  # noqa: S301 - our own child's output
            except EOFError:
                raise RuntimeError(
                    f"simulate: the build process ended early (exit {proc.wait()})"
                ) from None
            if item is None:
                return
            if isinstance(item, str):
                raise RuntimeError(f"simulate: building the log failed\n{item}")
            yield item

    try:
        pickle.dump((world, events, seed), proc.stdin)
        proc.stdin.close()
        yield items()
    finally:
        out.close()  # a worker still writing gets BrokenPipeError and stops
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def simulate(
    store: Store, catalogue: Catalogue, *, events: int, seed: int = 0, worker: bool | None = None
) -> int:
    """Write a synthetic log of exactly `events` events (changes rows); returns that number.

    One bulk_load_rows over the whole log. The log is built and turned into rows in a worker
    process (worker=None: from WORKER_MIN_EVENTS events on) while this process inserts the
    previous chunk; the result is the same either way."""
    if events < 0:
        raise ValueError("events must be ≥ 0")
    world = _World(catalogue)
    sample: list[tuple[str, str]] = []

    def rows(source: Iterator[Prepared]) -> Iterator[bulk.BulkRows]:
        for prepared, part_sample in source:
            sample.extend(part_sample)
            yield prepared

    if worker if worker is not None else events >= WORKER_MIN_EVENTS:
        with _from_worker(world, events, seed) as source:
            written = store.bulk_load_rows(rows(source), actor=ACTOR)
    else:
        written = store.bulk_load_rows(rows(_prepared(world, events, seed)), actor=ACTOR)
    written += _corrections(store, sample, events - written, seed)
    return written
