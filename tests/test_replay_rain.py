"""The 2017 replay's gauges: the recorded storm totals, warnings before evacuations, reservoirs
over their flood limit without overtopping — and the report totals unchanged."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from floodpost.hydro.readings import check_batch, stations_of
from floodpost.replay import flood2017, rain2017
from floodpost.replay.demo import load_readings, timeline_with_readings
from floodpost.timefmt import LOCAL_TZ


@pytest.fixture(scope="module")
def steps(catalogue):
    return flood2017.build_timeline(catalogue)


@pytest.fixture(scope="module")
def batches(catalogue, steps):
    return rain2017.build_batches(catalogue, steps)


def test_named_gauges_get_the_recorded_24_hours(catalogue, batches):
    by_name = {s["name"]: sid for sid, s in catalogue.records("stations").items()}
    window = [b for b in batches if rain2017.STORM_FROM < b.ts <= rain2017.STORM_TO]
    assert len(window) == 24
    assert datetime.fromtimestamp(window[0].ts, LOCAL_TZ).hour == 9
    for name, total in rain2017.RECORDED_MM.items():
        got = sum(
            r.values["rain_mm"] for b in window for r in b.readings if r.station == by_name[name]
        )
        assert round(got, 1) == total, name


def test_batches_are_valid_hourly_readings_in_order(catalogue, batches):
    infos = stations_of(catalogue)
    assert [b.ts for b in batches] == sorted(b.ts for b in batches)
    assert len(batches) == rain2017.HOURS
    sample = batches[30].readings
    items = [
        {
            "station": r.station,
            "time": datetime.fromtimestamp(r.ts, LOCAL_TZ).isoformat(),
            **r.values,
        }
        for r in sample
    ]
    assert check_batch(items, infos, batches[-1].ts + 3600) == sample
    assert {r.station for r in sample} == set(infos)  # every gauge reports every hour


def test_replay_is_deterministic(catalogue, steps, batches):
    again = rain2017.build_batches(catalogue, steps)
    assert [(r.station, r.ts, r.values) for b in again for r in b.readings] == [
        (r.station, r.ts, r.values) for b in batches for r in b.readings
    ]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, catalogue, steps):
    from floodpost.storage import open_store

    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('rain')}/replay.db")
    load_readings(store, catalogue, steps)
    warnings = [json.loads(r["body"]) for r in store.read("SELECT body FROM warnings")]
    levels = store.read(
        "SELECT station, MAX(value) AS top FROM readings WHERE kind = 'level' GROUP BY station"
    )
    store.close()
    return warnings, {r["station"]: float(r["top"]) for r in levels}


def test_every_evacuated_village_was_warned_first(loaded, steps):
    warnings, _ = loaded
    first: dict[str, float] = {}
    for w in warnings:
        for code in w["villages"]:
            first[code] = min(first.get(code, w["since_ts"]), w["since_ts"])
    evacuated = rain2017._first_evacuations(steps)
    assert len(evacuated) > 50
    late = {c: (t, first.get(c)) for c, t in evacuated.items() if not (c in first and first[c] < t)}
    assert late == {}


def test_villages_on_the_named_gauges_reach_evacuate(loaded, catalogue):
    warnings, _ = loaded
    by_name = {s["name"]: sid for sid, s in catalogue.records("stations").items()}
    for name in rain2017.RECORDED_MM:
        levels = {w["level"] for w in warnings if w["station"] == by_name[name]}
        assert "evacuate" in levels, name


def test_danger_reservoirs_cross_their_flood_limit_and_none_overtops(loaded, catalogue, steps):
    warnings, top = loaded
    danger = {
        s.stored["reservoir_id"]: s.stored["occurred_ts"]
        for s in steps
        if s.action == "create" and s.stored and s.stored.get("reservoir_status") == "danger"
    }
    assert len(danger) == 5
    res_warn = {w["code"]: w for w in warnings if w["target"] == "reservoir"}
    assert set(res_warn) == set(danger)  # the others stay below their flood limit
    for rid, t in danger.items():
        assert res_warn[rid]["since_ts"] < t  # over the limit before the danger report
    for r in catalogue.records("reservoirs").values():
        assert top[r["station"]] < r["check_flood_m"] < r["crest_m"]
    assert not [w for w in warnings if w["level"] in ("above_check", "overtopping")]


def test_live_timeline_puts_each_hour_of_readings_in_time_order(catalogue):
    merged = timeline_with_readings(catalogue)
    assert [s.ts for s in merged] == sorted(s.ts for s in merged)
    assert isinstance(merged[0], rain2017.ReadingBatch)
