"""`floodpost simulate`: a large, realistic synthetic flood log, deterministic for a seed.

For benchmarks and load tests (the live map with 100,000 events, review statistics over a
million). Drawn with numpy in one pass, routed by village (each report carries the village chosen
in the form, so routing is a dictionary lookup, as `ReportRouter.route` answers for a village
code), each report written straight into its row (content hash and stored body as text), and
loaded through `store.bulk_load_rows` in the order the command post received it — the rows built
in a worker process while this one inserts the previous chunk (1,000,000 events: see
bench/README.md, bench_simulate.py).

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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import numpy as np

from floodpost.geo.catalogue import Catalogue
from floodpost.geo.routing import ReportRouter
from floodpost.live.places import places_from_catalogue
from floodpost.reports.lifecycle import rescue_id_for
from floodpost.storage import bulk
from floodpost.storage.base import Store, dumps

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
    """The final state of every synthetic report, in received order (for bulk_load): each stored
    body read back, with its content hash."""
    world = _World(catalogue)
    return [
        (json.loads(row[-1]), row[-2])
        for part in _iter_parts(world, events, seed, CHUNK)
        for row in part
    ]


def base_count(events: int) -> int:
    """Reports to bulk-load for `events` events; the rest are corrections/retractions."""
    return max(0, events - min(int(events * CORRECTION_SHARE), CORRECTION_MAX))


Row = tuple[Any, ...]  # storage.base.report_row's: the REPORT_COLUMNS, content hash, JSON body


class _Json(dict[Any, str]):
    """The JSON text of each value (as storage.base.dumps writes it), encoded once: the same
    names, notes and codes recur hundreds of thousands of times."""

    def __missing__(self, value: Any) -> str:
        text = self[value] = dumps(value)
        return text


_OPEN_TAIL = (
    ',"resolution":null,"resolved_at":null,"resolved_ts":null,"duplicate_of":null,"rescued":null'
)


def _iter_parts(world: _World, events: int, seed: int, chunk: int) -> Iterator[list[Row]]:
    """The log in received order as report rows, `chunk` (or a few more) at a time.

    Each report is written straight into its row: the canonical JSON of what the phone sent
    (for the content hash) and the stored body are put together from JSON fragments instead of
    building dicts and encoding them twice — most of the build's time went to json's encoder,
    a third of it formatting the same floats again. The text is what ReportCreate.content_hash()
    and storage.base.dumps write for the same reports, byte for byte (tests/test_stored_report.py
    reads the bodies back and compares them with intake's build_stored)."""
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

    def columns(idx: np.ndarray) -> tuple[list[Any], ...]:
        """The values of reports `idx` as plain lists (indexing a numpy array per element costs
        more than the rest of the loop), formatted a slice at a time: formatting the whole
        million up front held the first chunk — and the database — back by 6 s."""
        occurred_i, received_i = occurred[idx], received[idx]
        return (
            _iso_local(occurred_i).tolist(), _iso_z(received_i).tolist(),
            kind[idx].tolist(), village[idx].tolist(), subtype[idx].tolist(),
            urgency[idx].tolist(),
            # occurred_at is written to the second; occurred_ts is read back from it.
            np.floor(occurred_i).tolist(), received_i.tolist(), delay[idx].tolist(),
            lon[idx].tolist(), lat[idx].tolist(), people[idx].tolist(), pick[idx].tolist(),
            [f"{hi & 0x7FFFFFFFFFFFFFFF:016x}{lo & _MASK64:016x}" for hi, lo in ids[idx].tolist()],
        )  # fmt: skip

    kinds, subtypes, urgencies = KINDS.tolist(), SUBTYPES.tolist(), URGENCIES.tolist()
    j = _Json()
    codes = [j[c] for c in world.codes]
    # The routed fields of each village's reports, from township_code to the reporter's name.
    routed = [
        f',"township_code":{j[r.township_code]},"zone_id":{j[r.zone_id]},'
        f'"responsible":{j[r.responsible]},"outside_county":false,"distance_outside_m":0.0,'
        '"reporter":"'
        for r in world.routing
    ]
    pending: list[tuple[float, str, Row]] = []  # linked rescues, by time
    out: list[Row] = []

    # Millions of new tuples would trigger the cyclic GC over and over (none are cyclic).
    enabled = gc.isenabled()
    gc.disable()
    try:
        for start in range(0, len(order), chunk):
            (occurred_at, received_at, kind_l, village_l, subtype_l, urgency_l, occurred_l,
             received_l, delay_l, lon_l, lat_l, people_l, pick_l, hexes) = columns(
                order[start : start + chunk]
            )  # fmt: skip
            for i in range(len(hexes)):
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
                n_people = people_l[i]
                shelter = team = st = reservoir = reservoir_status = urgency_s = contact = None
                if k == "evacuation":
                    options = world.shelters[vi]
                    if options and p[2] < 0.8:
                        shelter = options[int(p[3] * len(options))]
                elif k == "rescue":
                    team = TEAMS[int(p[2] * len(TEAMS))]
                elif k == "incident":
                    st = subtypes[subtype_l[i]]
                    n_people = 1 if st in ("death", "missing") else 0
                    if st in RESERVOIR_SUBTYPES and world.reservoirs[vi]:
                        options = world.reservoirs[vi]
                        reservoir = options[int(p[2] * len(options))]
                        statuses = STATUS_BY_SUBTYPE[st]
                        reservoir_status = statuses[int(p[3] * len(statuses))]
                else:
                    urgency_s = urgencies[urgency_l[i]]
                    contact = f"示例 139-0000-{int(h[-4:], 16) % 10000:04d}"
                lon_s, lat_s = repr(lon_l[i]), repr(lat_l[i])
                note, accuracy, oa = j[notes[int(p[0] * len(notes))]], repr(10.0 + round(p[1] * 90, 1)), occurred_at[i]  # fmt: skip
                contact_s, shelter_s, team_s = j[contact], j[shelter], j[team]
                reservoir_s, status_s = j[reservoir], j[reservoir_status]
                canonical = (
                    f'{{"accuracy_m":{accuracy},"contact":{contact_s},"id":"{rid}","kind":"{k}",'
                    f'"lat":{lat_s},"lon":{lon_s},"note":{note},"occurred_at":"{oa}",'
                    f'"people":{n_people},"reservoir_id":{reservoir_s},'
                    f'"reservoir_status":{status_s},"shelter_id":{shelter_s},'
                    f'"subtype":{j[st or "other"]},"team":{team_s},'
                    f'"urgency":{j[urgency_s or "normal"]},"village_code":{codes[vi]}}}'
                )
                chash = hashlib.sha256(canonical.encode()).hexdigest()
                head = (
                    f'{{"id":"{rid}","kind":"{k}","occurred_at":"{oa}","lon":{lon_s},"lat":{lat_s},'
                    f'"village_code":{codes[vi]},"people":{n_people},"note":{note},'
                    f'"accuracy_m":{accuracy},"shelter_id":{shelter_s},"team":{team_s},'
                    f'"subtype":{j[st]},"reservoir_id":{reservoir_s},"reservoir_status":{status_s},'
                    f'"urgency":{j[urgency_s]},"contact":{contact_s},'
                    f'"occurred_ts":{occurred_l[i]!r},"received_at":"{received_at[i]}",'
                    f'"received_ts":{rts!r},"updated_at":"'
                )
                reporter = f"field{(vi * 7 + int(p[1] * 5)) % 400:03d}"
                state = resolved_ts = None
                updated_ts, updated_at, version, tail = rts, received_at[i], 1, ""
                if k == "help_request":
                    state, resolved, tail, rescue = _lifecycle(
                        rts, log_end, p, delay_l[i], rid, j, n_people, (lon_s, lat_s, vi)
                    )
                    if resolved is not None:
                        resolved_ts = updated_ts = resolved[0]
                        updated_at, version = resolved[1], 4
                    if rescue is not None:
                        linked = _rescue_row(rescue, world, j, codes, routed)
                        heapq.heappush(pending, (linked[4], linked[0], linked))
                body = (
                    f'{head}{updated_at}","updated_ts":{updated_ts!r}{routed[vi]}{reporter}",'
                    f'"status":"active","version":{version}{tail}}}'
                )
                out.append(
                    (rid, k, st, occurred_l[i], rts, updated_ts, lon_l[i], lat_l[i],
                     world.codes[vi], routing.township_code, routing.zone_id, shelter, reservoir,
                     n_people, "active", state, reporter, version, resolved_ts, chash, body)
                )  # fmt: skip
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


# A 'rescued N' resolution's linked rescue, before it is written: (its id, the help request's
# id, resolution time and its text, team, people, lon text, lat text, village index).
_Rescue = tuple[str, str, float, str, str, int, str, str, int]


def _lifecycle(
    t0: float,
    log_end: float,
    pick: list[float],
    rng_value: float,
    rid: str,
    j: _Json,
    people: int,
    place: tuple[str, str, int],
) -> tuple[str, tuple[float, str] | None, str, _Rescue | None]:
    """A help request's lifecycle state by its age at the end of the log: (state, resolution
    time and its text or None, the body's lifecycle fields, the linked rescue of a 'rescued'
    resolution).

    The fields come in the order the stored dict gets them (kept from when it was built with
    dict.update): state to rescued, then the times of each step taken, then rescue_id."""
    age = log_end - t0
    team = TEAMS[int(pick[3] * len(TEAMS))]
    step = 300 + (rng_value % 1500)
    if age < OPEN_WINDOW_S:
        phase = int(pick[2] * 3)  # new / assigned / en_route
        if phase == 0 or age < step:
            return "new", None, f',"state":"new","assignee":null{_OPEN_TAIL}', None
        assigned = repr(t0 + step)
        if phase == 2 and age > 2 * step:
            en_route = repr(t0 + 2 * step)
            times = f',"assigned_ts":{assigned},"state_ts":{en_route},"en_route_ts":{en_route}'
            return "en_route", None, f',"state":"en_route","assignee":{j[team]}{_OPEN_TAIL}{times}', None  # fmt: skip
        times = f',"assigned_ts":{assigned},"state_ts":{assigned}'
        return "assigned", None, f',"state":"assigned","assignee":{j[team]}{_OPEN_TAIL}{times}', None  # fmt: skip
    done = t0 + 3 * step + (pick[0] * 4 * 3600)
    done_s, done_at = repr(done), _iso1(done)
    head = f',"state":"resolved","assignee":{j[team]}'
    times = f',"assigned_ts":{t0 + step!r},"en_route_ts":{t0 + 2 * step!r},"state_ts":{done_s}'
    resolved = f'"resolved_at":"{done_at}","resolved_ts":{done_s},"duplicate_of":null'
    if pick[2] < 0.6:
        n = max(1, int(people))
        rescue_id = rescue_id_for(rid)
        tail = f'{head},"resolution":"rescued",{resolved},"rescued":{n}{times},"rescue_id":"{rescue_id}"'  # fmt: skip
        return "resolved", (done, done_at), tail, (rescue_id, rid, done, done_at, team, n, *place)
    resolution = "not_needed" if pick[2] < 0.9 else "duplicate"
    return "resolved", (done, done_at), f'{head},"resolution":"{resolution}",{resolved},"rescued":null{times}', None  # fmt: skip


def _rescue_row(
    rescue: _Rescue, world: _World, j: _Json, codes: list[str], routed: list[str]
) -> Row:
    """The rescue report a 'rescued N' resolution creates, as the API stores it."""
    rescue_id, help_id, done, done_at, team, n, lon_s, lat_s, vi = rescue
    # Its occurred_at as the API stores it: parsed, then written by pydantic ("...:40Z" on a
    # whole second, "...:40.123000Z" otherwise), and occurred_ts read from it.
    occurred_at = _pydantic_utc(done_at)
    occurred_ts = datetime.fromisoformat(occurred_at).timestamp()
    canonical = (
        f'{{"accuracy_m":null,"contact":null,"id":"{rescue_id}","kind":"rescue","lat":{lat_s},'
        f'"lon":{lon_s},"note":"","occurred_at":"{occurred_at}","people":{n},'
        f'"reservoir_id":null,"reservoir_status":null,"shelter_id":null,"subtype":"other",'
        f'"team":{j[team]},"urgency":"normal","village_code":{codes[vi]}}}'
    )
    body = (
        f'{{"id":"{rescue_id}","kind":"rescue","occurred_at":"{occurred_at}","lon":{lon_s},'
        f'"lat":{lat_s},"village_code":{codes[vi]},"people":{n},"note":"","accuracy_m":null,'
        f'"shelter_id":null,"team":{j[team]},"subtype":null,"reservoir_id":null,'
        f'"reservoir_status":null,"urgency":null,"contact":null,"occurred_ts":{occurred_ts!r},'
        f'"received_at":"{done_at}","received_ts":{done!r},"updated_at":"{done_at}",'
        f'"updated_ts":{done!r}{routed[vi]}{ACTOR}","status":"active","version":1,'
        f'"help_request_id":"{help_id}"}}'
    )
    routing = world.routing[vi]
    return (
        rescue_id, "rescue", None, occurred_ts, done, done, float(lon_s), float(lat_s),
        world.codes[vi], routing.township_code, routing.zone_id, None, None, n, "active", None,
        ACTOR, 1, None, hashlib.sha256(canonical.encode()).hexdigest(), body,
    )  # fmt: skip


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


# A bulk-load transaction: two of _iter_parts' parts (SQLite: fewer, bigger transactions write
# the randomly keyed indexes out fewer times; storage/sqlite.py).
LOAD_PARTS = 2
# Below this many events the log is built in the calling thread: starting the worker process
# (a fresh interpreter importing floodpost) costs more than it saves.
WORKER_MIN_EVENTS = 50_000
Prepared = tuple[bulk.BulkRows, list[tuple[str, str]]]  # a chunk's rows, its sampled (id, kind)


def prepared(world: _World, events: int, seed: int) -> Iterator[Prepared]:
    """The log as bulk_load_rows chunks, each with the sample corrections are drawn from (every
    ~25th report of each part: the same reports whichever process builds the log)."""
    group: list[Row] = []
    sample: list[tuple[str, str]] = []
    parts = 0
    for part in _iter_parts(world, events, seed, CHUNK):
        sample.extend((row[0], row[1]) for row in part[:: max(1, len(part) // 2000)])
        group.extend(part)
        parts += 1
        if parts % LOAD_PARTS == 0:
            yield bulk.from_report_rows(group, ACTOR), sample
            group, sample = [], []
    if group:
        yield bulk.from_report_rows(group, ACTOR), sample


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
        from floodpost.replay.simulate_worker import from_worker  # it imports this module

        with from_worker(world, events, seed) as source:
            written = store.bulk_load_rows(rows(source), actor=ACTOR)
    else:
        written = store.bulk_load_rows(rows(prepared(world, events, seed)), actor=ACTOR)
    written += _corrections(store, sample, events - written, seed)
    return written
