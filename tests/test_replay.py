"""The 2017 flood replay: exact seed totals, the right week, a believable and consistent log."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from floodpost.replay import flood2017
from floodpost.replay.demo import load_all
from floodpost.reports.lifecycle import rescue_id_for
from floodpost.reports.stored import local_hour
from floodpost.stats.service import ReviewStats


@pytest.fixture(scope="module")
def log(catalogue):
    return flood2017.build_log(catalogue)


def test_totals_are_the_seed_figures(log):
    active = [r for r, _ in log if r["status"] == "active"]
    assert sum(r["people"] for r in active if r["kind"] == "evacuation") == 59_700
    assert sum(r["people"] for r in active if r["kind"] == "rescue") == 1_960
    assert not [r for r in active if r.get("subtype") in ("death", "missing")]


def test_every_report_happened_between_24_june_and_1_july(log):
    hours = sorted(local_hour(r["occurred_ts"]) for r, _ in log)
    assert hours[0] >= "2017-06-24T00"
    assert hours[-1] <= "2017-07-01T23"
    assert hours[0][:10] == "2017-06-24" and hours[-1][:10] == "2017-07-01"


def test_rain_builds_to_the_last_days(log):
    per_day = Counter()
    for r, _ in log:
        if r["kind"] == "evacuation":
            per_day[local_hour(r["occurred_ts"])[:10]] += r["people"]
    days = sorted(per_day)
    worst_two = sorted(per_day, key=per_day.get)[-2:]
    assert set(worst_two) == {"2017-06-30", "2017-07-01"}
    assert per_day[days[0]] < per_day[days[3]] < per_day[days[-1]]


def test_no_reservoir_ends_in_danger_or_failed(log):
    latest = {}
    for r, _ in sorted(log, key=lambda x: x[0]["occurred_ts"]):
        if r.get("reservoir_status"):
            latest[r["reservoir_id"]] = r["reservoir_status"]
    statuses = {r.get("reservoir_status") for r, _ in log}
    assert {"seepage", "danger", "normal"} <= statuses
    assert set(latest.values()) == {"normal"}


def test_help_requests_turn_into_linked_rescues(log):
    by_id = {r["id"]: r for r, _ in log}
    requests = [r for r in by_id.values() if r["kind"] == "help_request"]
    assert len(requests) > 100
    assert all(r["state"] == "resolved" and r["resolved_ts"] for r in requests)
    rescued = [r for r in requests if r["resolution"] == "rescued"]
    assert len(rescued) > 0.7 * len(requests)
    for r in rescued:
        rescue = by_id[rescue_id_for(r["id"])]
        assert rescue["kind"] == "rescue" and rescue["people"] == r["rescued"]
        assert rescue["help_request_id"] == r["id"]
        assert r["occurred_ts"] < r["assigned_ts"] < r["en_route_ts"] < r["resolved_ts"]


def test_evacuation_comes_from_villages_at_risk_and_shelters_never_overflow(log, catalogue):
    below = {
        v
        for res in catalogue.records("reservoirs").values()
        for v in res.get("downstream_villages") or []
    }
    occupancy = Counter()
    for r, _ in log:
        if r["kind"] != "evacuation":
            continue
        v = catalogue.village(r["village_code"])
        assert v["low_lying"] or v["near_river"] or r["village_code"] in below
        if r["shelter_id"]:
            occupancy[r["shelter_id"]] += r["people"]
    for sid, n in occupancy.items():
        assert n <= catalogue.shelter(sid)["capacity"]


def test_most_zones_report_and_a_few_are_silent(log, catalogue):
    zones = set(catalogue.records("zones"))
    reporting = {r["zone_id"] for r, _ in log}
    silent = zones - reporting
    assert 1 <= len(silent) <= 8
    assert all(r["village_code"] for r, _ in log)


def test_the_log_is_deterministic(catalogue, log):
    again = flood2017.build_log(catalogue)
    assert [h for _, h in again] == [h for _, h in log]
    assert [r["id"] for r, _ in again] == [r["id"] for r, _ in log]


def test_loaded_store_shows_the_totals(store, catalogue):
    load_all(store, catalogue)
    s = ReviewStats(store, catalogue, clock=time.time).summary()
    assert (s["evacuated"], s["rescued"], s["deaths"], s["missing"]) == (59_700, 1_960, 0, 0)
    assert s["reservoirs_failed"] == 0 and s["open_help_requests"] == 0
    assert s["first_hour"].startswith("2017-06-24") and s["last_hour"].startswith("2017-07-01")


def test_timeline_played_through_the_lifecycle_gives_the_same_totals(sqlite_url, catalogue):
    from floodpost.replay.demo import _send
    from floodpost.storage import open_store

    store = open_store(sqlite_url)
    try:
        following = ReviewStats(store, catalogue, clock=time.time)
        assert following.summary()["evacuated"] == 0
        for i, step in enumerate(flood2017.build_timeline(catalogue)):
            _send(store, step, live=i % 2 == 0)
            if i % 500 == 0:
                following.summary()
        s = ReviewStats(store, catalogue, clock=time.time).summary()
        assert (s["evacuated"], s["rescued"], s["open_help_requests"]) == (59_700, 1_960, 0)
        followed = following.summary()
        for key in ("evacuated", "rescued", "open_help_requests", "reports", "help"):
            assert followed[key] == s[key], key
        assert following.by_day() == ReviewStats(store, catalogue, clock=time.time).by_day()
        audit = store.audit_log(
            next(r["id"] for r, _ in flood2017.build_log(catalogue) if r["kind"] == "help_request")
        )
        assert [c.action for c in audit] == ["create", "assigned", "en_route", "resolved"]
    finally:
        store.close()
