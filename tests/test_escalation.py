"""Escalation (unassigned / stale) with an injected clock, and likely duplicates."""

from __future__ import annotations

import pytest

from floodpost.clock import ManualClock
from floodpost.geo.routing import ReportRouter
from floodpost.live.escalation import Rules, annotate, escalation, likely_duplicates
from floodpost.live.places import places_from_catalogue
from floodpost.live.state import LiveState
from floodpost.reports import lifecycle
from floodpost.reports.lifecycle import Resolution
from tests.live_support import T0, add_report, village_seat

RULES = Rules(unassigned_min=15, stale_min=60, duplicate_radius_m=100, duplicate_window_min=120)


@pytest.fixture(scope="module")
def router(catalogue):
    return ReportRouter(catalogue)


def _req(i: str, lon: float, lat: float, ts: float, **kw):
    return {"id": i, "lon": lon, "lat": lat, "occurred_ts": ts, "received_ts": ts,
            "status": "active", "state": "new", **kw}  # fmt: skip


def test_unassigned_then_stale_with_manual_clock(store, router, catalogue):
    lon, lat, _ = village_seat(catalogue, 5)
    r = add_report(store, router, received_ts=T0, lon=lon, lat=lat)
    clock = ManualClock(T0)
    assert escalation(r, clock(), RULES) == []
    clock.advance(15 * 60 - 1)
    assert escalation(r, clock(), RULES) == []
    clock.advance(2)
    assert escalation(r, clock(), RULES) == ["unassigned"]
    r = lifecycle.assign(store, r["id"], "team 1", actor="w", clock=clock)
    assert escalation(r, clock(), RULES) == []
    clock.advance(60 * 60 + 1)  # no step for an hour after the assignment
    assert escalation(r, clock(), RULES) == ["stale"]
    r = lifecycle.en_route(store, r["id"], actor="w", clock=clock)
    assert escalation(r, clock(), RULES) == []
    r = lifecycle.resolve(store, r["id"], Resolution("not_needed"), actor="w", clock=clock)
    clock.advance(10 * 3600)
    assert escalation(r, clock(), RULES) == []


def test_new_request_never_touched_is_both(store, router, catalogue):
    lon, lat, _ = village_seat(catalogue, 5)
    r = add_report(store, router, received_ts=T0, lon=lon, lat=lat)
    assert escalation(r, T0 + 2 * 3600, RULES) == ["unassigned", "stale"]


def test_live_state_flags_escalation_from_the_clock(store, router, catalogue):
    lon, lat, _ = village_seat(catalogue, 7)
    r = add_report(store, router, received_ts=T0, lon=lon, lat=lat, urgency="critical")
    live = LiveState(store, places_from_catalogue(catalogue), RULES, 6.0)
    snap = live.snapshot(T0 + 60)
    [req] = snap["requests"]
    assert req["id"] == r["id"] and req["escalated"] == [] and req["age_min"] == 1.0
    snap = live.snapshot(T0 + 16 * 60)
    assert snap["requests"][0]["escalated"] == ["unassigned"]
    assert snap["totals"]["escalated_help_requests"] == 1


def test_duplicates_within_radius_and_window():
    lon, lat = 110.1, 26.6
    d_lat_50m = 50 / 111_320
    reqs = [
        _req("a", lon, lat, T0),
        _req("b", lon, lat + d_lat_50m, T0 + 600),  # 50 m, 10 min later: duplicate of a
        _req("c", lon, lat + 3 * d_lat_50m, T0 + 900),  # 150 m from a, 100 m from b
        _req("d", lon, lat, T0 + 3 * 3600),  # same place, 3 h later: a new need
        _req("e", lon + 0.01, lat, T0 + 60),  # 1 km away
    ]
    dups = likely_duplicates(reqs, RULES)
    assert dups["b"] == "a"
    assert dups["c"] == "a"  # chained through b to the earliest
    assert "d" not in dups and "e" not in dups and "a" not in dups


def test_duplicates_ignore_resolved_and_unlocated():
    reqs = [
        _req("a", 110.1, 26.6, T0, state="resolved"),
        _req("b", 110.1, 26.6, T0 + 60),
        {**_req("c", 110.1, 26.6, T0 + 120), "lon": None, "lat": None},
    ]
    out = {r["id"]: r for r in annotate(reqs, T0 + 180, RULES)}
    assert set(out) == {"b", "c"}
    assert out["b"]["likely_duplicate_of"] is None


def test_duplicate_flag_in_live_state_and_merge(store, router, catalogue):
    lon, lat, _ = village_seat(catalogue, 9)
    a = add_report(store, router, received_ts=T0, lon=lon, lat=lat)
    b = add_report(store, router, received_ts=T0 + 300, lon=lon + 0.0003, lat=lat)
    live = LiveState(store, places_from_catalogue(catalogue), RULES, 6.0)
    snap = live.snapshot(T0 + 400)
    flags = {r["id"]: r["likely_duplicate_of"] for r in snap["requests"]}
    assert flags == {a["id"]: None, b["id"]: a["id"]}
    lifecycle.resolve(
        store, b["id"], Resolution("duplicate", duplicate_of=a["id"]), actor="w",
        clock=ManualClock(T0 + 500),
    )  # fmt: skip
    snap = live.snapshot(T0 + 600)
    assert [r["id"] for r in snap["requests"]] == [a["id"]]


def test_incremental_state_matches_a_full_rebuild(store, router, catalogue):
    """The live state advanced change by change equals one built from scratch."""
    places = places_from_catalogue(catalogue)
    live = LiveState(store, places, RULES, 6.0)
    lon, lat, _ = village_seat(catalogue, 11)
    shelter = next(iter(places.shelters))
    reservoir = next(iter(places.reservoirs))
    live.snapshot(T0)  # builds the base on an empty store
    clock = ManualClock(T0 + 60)
    e = add_report(store, router, received_ts=T0, kind="evacuation", lon=lon, lat=lat, people=30,
                   shelter_id=shelter)  # fmt: skip
    add_report(store, router, received_ts=T0 + 1, kind="incident", subtype="piping", lon=lon,
               lat=lat, reservoir_id=reservoir, reservoir_status="danger")  # fmt: skip
    a = add_report(store, router, received_ts=T0 + 2, lon=lon, lat=lat, people=5)
    b = add_report(store, router, received_ts=T0 + 3, lon=lon, lat=lat, people=2)
    mid = live.snapshot(T0 + 120)
    assert mid["totals"]["evacuated"] == 30 and mid["totals"]["open_help_requests"] == 2
    lifecycle.assign(store, a["id"], "队1", actor="w", clock=clock)
    lifecycle.resolve(store, a["id"], Resolution("rescued", rescued=5), actor="w", clock=clock)
    lifecycle.resolve(store, b["id"], Resolution("duplicate", duplicate_of=a["id"]), actor="w",
                      clock=clock)  # fmt: skip

    def retract(r):
        r["status"] = "retracted"
        return r

    store.modify_report(e["id"], retract, actor="w", action="retract", reason="test")
    # The state followed change by change equals one seeded from scratch, figure for figure.
    fresh = LiveState(store, places, RULES, 6.0)
    assert live.snapshot(T0 + 600) == fresh.snapshot(T0 + 600)
    assert live.live.requests.keys() == fresh.live.requests.keys() == set()
    assert live.rollup.area == fresh.rollup.area and live.rollup.hourly == fresh.rollup.hourly
    snap = live.snapshot(T0 + 600)
    assert snap["totals"]["evacuated"] == 0 and snap["totals"]["rescued"] == 5
    assert snap["service"]["resolved"] == 2 and snap["totals"]["reservoirs_in_danger"] == 1
