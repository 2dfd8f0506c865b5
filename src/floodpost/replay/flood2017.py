"""The 24 June – 1 July 2017 Suining flood as a deterministic report log, made from the geodata.

The county's own review gives the totals (seed: 紧急转移 5.97 万人, 营救 1960 人, 不垮一库一坝,
不死一人): 59,700 people evacuated, 1,960 rescued, no reservoir failed, nobody died. Everything
else is generated from the layers with a seeded random generator, so the same geodata and seed
always give the same log:

- rain builds over the week to the worst days, 30 June and 1 July (`DAY_WEIGHTS`);
- people are evacuated from low-lying and riverside villages, and from the villages below a
  reservoir once it is reported in danger; some go to shelters (never above capacity), the rest
  to relatives and higher ground;
- a dozen reservoirs report seepage, some of them danger, and all are brought under control
  (status back to normal) — none fails;
- help requests go through the lifecycle new → assigned → en_route → resolved, most of them
  "rescued N" with the linked rescue report (`floodpost.reports.lifecycle`), the rest not needed
  or duplicates; rescue teams on patrol file rescues of their own;
- incidents (landslides, roads cut, power and telephone lines down) and patrol reports come from
  most zones; a few zones stay silent.

`build_log` gives the final state of every report (for `bulk_load`); `build_timeline` gives the
same log as steps in time order (for playing it through the store at a chosen speed).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from floodpost.geo.routing import ReportRouter
from floodpost.reports.lifecycle import rescue_id_for
from floodpost.reports.model import iso_utc, parse_report
from floodpost.reports.stored import LOCAL_TZ, RoutingOf, as_record, build_stored

EVACUATED = 59_700
RESCUED = 1_960
START = datetime(2017, 6, 24, tzinfo=LOCAL_TZ)
DAYS = 8  # 24 June – 1 July inclusive
END = START + timedelta(days=DAYS)
# Share of the week's evacuations and help requests per day: rain building to 30 June – 1 July.
DAY_WEIGHTS = (2, 3, 4, 6, 9, 14, 28, 34)
# Heavier rain at night and in the early morning.
HOUR_WEIGHTS = (6, 6, 7, 7, 6, 5, 4, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6)
PATROL_RESCUED = 488  # rescued by teams on patrol; the rest through help requests
SILENT_ZONES = 4
NAMESPACE = uuid.UUID("6f1d2a4e-2017-4c6b-9e1a-5e1a1ce2d017")

_INCIDENT_NOTES = {
    "landslide": "山体滑坡，阻断村道",
    "road_cut": "道路被洪水冲毁，交通中断",
    "power_outage": "线路受损，全村停电",
    "telecom_outage": "通信基站断电，手机无信号",
    "other": "巡查：水位上涨，已通知群众做好转移准备",
}


@dataclass
class Step:
    """One thing that happens at `ts`: a report is received, or a help request moves on."""

    ts: float
    action: str  # create / assign / en_route / resolve
    report_id: str
    stored: dict[str, Any] | None = None
    content_hash: str | None = None
    assignee: str | None = None
    resolution: str | None = None
    rescued: int = 0
    duplicate_of: str | None = None

    @property
    def body(self) -> dict[str, Any]:
        """The stored report of a "create" step (the only steps that carry one)."""
        assert self.stored is not None, f"{self.action} step {self.report_id} has no report"
        return self.stored


@dataclass
class _Plan:
    rng: random.Random
    router: ReportRouter
    catalogue: Any
    steps: list[Step] = field(default_factory=list)
    counter: int = 0

    def new_id(self) -> str:
        self.counter += 1
        return str(uuid.uuid5(NAMESPACE, f"report-{self.counter}"))

    def when(self, day: int, hour: int | None = None) -> float:
        if hour is None:
            hour = self.rng.choices(range(24), HOUR_WEIGHTS)[0]
        start = START + timedelta(days=day, hours=hour)
        return start.timestamp() + self.rng.uniform(0, 3599)

    def place(self, code: str) -> tuple[float, float]:
        """A point near the village seat that routes to the village (as a phone would send)."""
        v = self.catalogue.village(code)
        lon, lat = float(v["seat_lon"]), float(v["seat_lat"])
        for _ in range(4):
            jlon = round(lon + self.rng.uniform(-0.0015, 0.0015), 6)
            jlat = round(lat + self.rng.uniform(-0.0012, 0.0012), 6)
            if self.router.route(jlon, jlat).village_code == code:
                return jlon, jlat
        return lon, lat

    def report(self, ts: float, code: str, kind: str, reporter: str, **fields: Any) -> Step:
        lon, lat = self.place(code)
        payload = {
            "id": self.new_id(),
            "kind": kind,
            "occurred_at": datetime.fromtimestamp(ts, LOCAL_TZ).isoformat(timespec="seconds"),
            "lon": lon,
            "lat": lat,
            "accuracy_m": round(self.rng.uniform(5, 60), 1),
            **fields,
        }
        created = parse_report(payload)
        received = ts + self.rng.uniform(20, 600)  # phones queue reports while offline
        stored = build_stored(
            created, self.router.route(lon, lat), reporter=reporter, received_ts=received
        )
        step = Step(received, "create", stored["id"], as_record(stored), created.content_hash())
        self.steps.append(step)
        return step


def _split(total: int, weights: list[float] | tuple[float, ...]) -> list[int]:
    """Integers proportional to `weights` that add up to exactly `total` (largest remainder)."""
    s = float(sum(weights))
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    by_rest = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in by_rest[: total - sum(out)]:
        out[i] += 1
    return out


def _reporter(catalogue: Any, code: str) -> str:
    zone = catalogue.zone_of_village(code)
    return f"field-{zone or catalogue.village(code)['township_code']}"


def build_timeline(catalogue: Any, seed: int = 2017) -> list[Step]:
    """The flood as steps in the order they reach the command post."""
    rng = random.Random(seed)
    plan = _Plan(rng, ReportRouter(catalogue), catalogue)
    villages = catalogue.records("villages")
    zones = sorted(catalogue.records("zones"))
    silent = set(rng.sample(zones, SILENT_ZONES))
    active = [c for c in villages if catalogue.zone_of_village(c) not in silent]

    danger_from = _reservoirs(plan, active)
    _evacuations(plan, active, danger_from)
    _help_and_rescues(plan, active)
    _incidents(plan, active, silent)
    plan.steps.sort(key=lambda s: (s.ts, s.report_id))
    return plan.steps


def _reservoirs(plan: _Plan, active: list[str]) -> dict[str, float]:
    """Seepage, danger for some, and every one brought under control. Returns, per village
    below a reservoir in trouble, when it was first reported (evacuation starts then)."""
    rng, cat = plan.rng, plan.catalogue
    active_set = set(active)
    candidates = [
        rid
        for rid, r in sorted(cat.records("reservoirs").items())
        if r.get("village_code") in active_set and r.get("downstream_villages")
    ]
    chosen = rng.sample(candidates, min(12, len(candidates)))
    danger_from: dict[str, float] = {}
    for i, rid in enumerate(chosen):
        r = cat.reservoir(rid)
        code = r["village_code"]
        who = _reporter(cat, code)
        t0 = plan.when(rng.choice((3, 4, 5)))
        plan.report(
            t0,
            code,
            "incident",
            who,
            subtype="seepage",
            reservoir_id=rid,
            reservoir_status="seepage",
            note=f"{r['name']}坝体出现渗水，加强巡查",
        )
        # Below a seeping dam people start to leave as a precaution.
        for v in r["downstream_villages"]:
            if v in active_set:
                danger_from[v] = min(danger_from.get(v, t0), t0)
        end = t0
        if i < 5:  # these worsen when the heaviest rain comes
            t1 = plan.when(6 + (i % 2))
            subtype = ("piping", "overtopping", "dam_damage")[i % 3]
            plan.report(
                t1,
                code,
                "incident",
                who,
                subtype=subtype,
                reservoir_id=rid,
                reservoir_status="danger",
                note=f"{r['name']}出现险情，组织下游群众转移",
            )
            for v in r["downstream_villages"]:
                if v in active_set:
                    danger_from[v] = min(danger_from.get(v, t1), t1)
            end = t1
        t2 = min(end + rng.uniform(4, 14) * 3600, END.timestamp() - 1800)
        plan.report(
            t2,
            code,
            "incident",
            who,
            subtype="other",
            reservoir_id=rid,
            reservoir_status="normal",
            note=f"{r['name']}险情得到控制，水位回落",
        )
    return danger_from


def _evacuations(plan: _Plan, active: list[str], danger_from: dict[str, float]) -> None:
    rng, cat = plan.rng, plan.catalogue
    room: dict[str, int] = {}
    weight: dict[str, float] = {}
    for code in active:
        v = cat.village(code)
        risk = int(bool(v.get("low_lying"))) + int(bool(v.get("near_river")))
        if risk == 0 and code not in danger_from:
            continue
        share = (0.0, 0.75, 0.92)[risk] if risk else 0.8
        room[code] = int(v["population"] * share * rng.uniform(0.85, 1.0))
        weight[code] = (1.0, 2.0, 3.5)[risk] if risk else 3.0
    assert sum(room.values()) > EVACUATED, "geodata has too few people at risk for the replay"
    shelters: dict[str, list[tuple[str, int]]] = {}
    for sid, s in cat.records("shelters").items():
        shelters.setdefault(s["township_code"], []).append((sid, int(s["capacity"])))
    space = {sid: cap for lst in shelters.values() for sid, cap in lst}
    for day, quota in enumerate(_split(EVACUATED, DAY_WEIGHTS)):
        while quota > 0:
            ts = plan.when(day)
            eligible = [c for c in room if room[c] > 0 and danger_from.get(c, 0) <= ts]
            code = rng.choices(eligible, [weight[c] for c in eligible])[0]
            n = min(quota, room[code], rng.randint(6, 40 + 30 * day))
            room[code] -= n
            quota -= n
            township = cat.village(code)["township_code"]
            shelter = None
            if rng.random() < 0.45:
                options = [sid for sid, _ in shelters.get(township, []) if space[sid] >= n]
                if options:
                    shelter = rng.choice(options)
                    space[shelter] -= n
            note = "转移至安置点" if shelter else "投亲靠友、转移至高处"
            plan.report(
                ts,
                code,
                "evacuation",
                _reporter(cat, code),
                people=n,
                shelter_id=shelter,
                note=note,
            )


def _help_and_rescues(plan: _Plan, active: list[str]) -> None:
    rng, cat = plan.rng, plan.catalogue
    at_risk = [
        c for c in active if cat.village(c).get("low_lying") or cat.village(c).get("near_river")
    ]
    patrol = _split(PATROL_RESCUED, [1] * 40)
    for n in patrol:
        code = rng.choice(at_risk)
        plan.report(
            plan.when(rng.choices(range(DAYS), DAY_WEIGHTS)[0]),
            code,
            "rescue",
            _reporter(cat, code),
            people=n,
            team="县消防救援大队",
            note="巡查中发现被困群众，已救出",
        )
    requests = []
    for day, count in enumerate(_split(240, DAY_WEIGHTS)):
        for _ in range(count):
            # Late on 1 July nothing new is asked for that could not be finished that day.
            ts = plan.when(day, rng.randint(0, 18) if day == DAYS - 1 else None)
            code = rng.choice(at_risk)
            people = rng.randint(1, 25)
            urgency = rng.choices(("normal", "urgent", "critical"), (3, 4, 2))[0]
            step = plan.report(
                ts,
                code,
                "help_request",
                _reporter(cat, code),
                people=people,
                urgency=urgency,
                note=f"{people}人被困，请求救援",
                contact="示例电话 000-0000",
            )
            requests.append(step)
    requests.sort(key=lambda s: s.ts)  # "duplicate of" points at an earlier request
    outcomes = rng.choices(("rescued", "not_needed", "duplicate"), (86, 9, 5), k=len(requests))
    rescued_req = [s for s, o in zip(requests, outcomes, strict=True) if o == "rescued"]
    counts = [max(1, s.body["people"]) for s in rescued_req]
    _fit(counts, RESCUED - PATROL_RESCUED, rng)
    n_of = {s.report_id: n for s, n in zip(rescued_req, counts, strict=True)}
    first_in_village: dict[str, str] = {}
    for step, outcome in zip(requests, outcomes, strict=True):
        r = step.body
        prev = first_in_village.setdefault(r["village_code"], r["id"])
        if outcome == "duplicate" and prev == r["id"]:
            outcome = "not_needed"
        t_assign = step.ts + rng.uniform(3, 25) * 60
        t_route = t_assign + rng.uniform(5, 20) * 60
        t_done = t_route + rng.uniform(15, 100) * 60
        team = rng.choice(("县消防救援大队", "乡镇党员突击队", "民兵应急分队", "武警绥宁中队"))
        plan.steps.append(Step(t_assign, "assign", r["id"], assignee=team))
        plan.steps.append(Step(t_route, "en_route", r["id"]))
        plan.steps.append(
            Step(
                t_done,
                "resolve",
                r["id"],
                resolution=outcome,
                rescued=n_of.get(r["id"], 0),
                duplicate_of=prev if outcome == "duplicate" else None,
            )
        )


def _fit(counts: list[int], total: int, rng: random.Random) -> None:
    """Nudge `counts` (each 1..60) until they add up to exactly `total`."""
    assert len(counts) <= total <= 60 * len(counts)
    while (diff := total - sum(counts)) != 0:
        i = rng.randrange(len(counts))
        step = 1 if diff > 0 else -1
        if 1 <= counts[i] + step <= 60:
            counts[i] += step


def _incidents(plan: _Plan, active: list[str], silent: set[str]) -> None:
    rng, cat = plan.rng, plan.catalogue
    subtypes = ("landslide", "road_cut", "power_outage", "telecom_outage")
    for day, count in enumerate(_split(130, DAY_WEIGHTS)):
        for _ in range(count):
            code = rng.choice(active)
            subtype = rng.choice(subtypes)
            plan.report(
                plan.when(day),
                code,
                "incident",
                _reporter(cat, code),
                subtype=subtype,
                note=_INCIDENT_NOTES[subtype],
            )
    # Every zone that is not silent has at least its patrol report.
    reported = {s.stored["zone_id"] for s in plan.steps if s.stored}
    for zid, z in sorted(cat.records("zones").items()):
        codes = [c for c in (z.get("village_codes") or []) if c in set(active)]
        if zid in silent or zid in reported or not codes:
            continue
        code = rng.choice(codes)
        plan.report(
            plan.when(rng.randint(4, 6)),
            code,
            "incident",
            _reporter(cat, code),
            subtype="other",
            note=_INCIDENT_NOTES["other"],
        )


def apply_step(report: dict[str, Any], step: Step) -> list[tuple[dict[str, Any], str]]:
    """Move a help request on by one lifecycle step, as `floodpost.reports.lifecycle` does;
    returns the reports the step creates (the linked rescue report)."""
    report["state"] = "resolved" if step.action == "resolve" else step.action
    report["state_ts"] = step.ts
    report["version"] = int(report["version"]) + 1
    report["updated_ts"] = step.ts
    report["updated_at"] = iso_utc(step.ts)
    if step.action == "assign":
        report["state"] = "assigned"
        report["assignee"] = step.assignee
        report["assigned_ts"] = step.ts
        return []
    if step.action == "en_route":
        report["en_route_ts"] = step.ts
        return []
    report.update(
        resolution=step.resolution,
        resolved_ts=step.ts,
        resolved_at=iso_utc(step.ts),
        duplicate_of=step.duplicate_of,
    )
    if step.resolution != "rescued":
        return []
    report["rescued"] = step.rescued
    rescue_id = rescue_id_for(report["id"])
    report["rescue_id"] = rescue_id
    payload = {
        "id": rescue_id,
        "kind": "rescue",
        "occurred_at": iso_utc(step.ts),
        "people": step.rescued,
        "note": "",
        "team": report.get("assignee"),
        "lon": report["lon"],
        "lat": report["lat"],
    }
    created = parse_report(payload)
    rescue = build_stored(
        created, RoutingOf.of(report), reporter=report["reporter"], received_ts=step.ts
    )
    rescue["help_request_id"] = report["id"]
    return [(as_record(rescue), created.content_hash())]


def build_log(catalogue: Any, seed: int = 2017) -> list[tuple[dict[str, Any], str]]:
    """Every report of the flood in its final state, as (stored report, content hash), in the
    order the command post received them (ready for `store.bulk_load`)."""
    final: dict[str, tuple[dict[str, Any], str]] = {}
    for step in build_timeline(catalogue, seed):
        if step.action == "create":
            assert step.stored is not None and step.content_hash is not None
            final[step.report_id] = (dict(step.stored), step.content_hash)
        else:
            for created in apply_step(final[step.report_id][0], step):
                final[created[0]["id"]] = created
    return list(final.values())
