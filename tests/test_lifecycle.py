"""Help requests as work: new → assigned → en_route → resolved, each step audited and streamed."""

from __future__ import annotations

import pytest

from floodpost.clock import ManualClock
from floodpost.errors import Conflict, InvalidInput, NotFound
from floodpost.geo.routing import ReportRouter
from floodpost.reports import lifecycle
from floodpost.reports.lifecycle import Resolution
from tests.live_support import T0, add_report, village_seat


@pytest.fixture(scope="module")
def router(catalogue):
    return ReportRouter(catalogue)


@pytest.fixture
def help_request(store, router, catalogue):
    lon, lat, _ = village_seat(catalogue, 3)
    return add_report(store, router, received_ts=T0, lon=lon, lat=lat, people=4, urgency="urgent")


def test_full_lifecycle_is_audited(store, help_request):
    clock = ManualClock(T0 + 60)
    rid = help_request["id"]
    r = lifecycle.assign(store, rid, "蓝天救援队", actor="wang", clock=clock)
    assert (r["state"], r["assignee"], r["assigned_ts"]) == ("assigned", "蓝天救援队", T0 + 60)
    clock.advance(300)
    r = lifecycle.en_route(store, rid, actor="wang", clock=clock)
    assert r["state"] == "en_route" and r["state_ts"] == T0 + 360
    clock.advance(600)
    r = lifecycle.resolve(store, rid, Resolution("rescued", rescued=4), actor="zhao", clock=clock)
    assert r["state"] == "resolved" and r["resolution"] == "rescued" and r["rescued"] == 4
    assert r["resolved_ts"] == T0 + 960
    log = store.audit_log(rid)
    assert [c.action for c in log] == ["create", "assigned", "en_route", "resolved"]
    assert [c.actor for c in log][1:] == ["wang", "wang", "zhao"]
    assert r["version"] == 4


def test_rescued_creates_linked_rescue_once(store, help_request):
    clock = ManualClock(T0 + 60)
    rid = help_request["id"]
    r = lifecycle.resolve(store, rid, Resolution("rescued", rescued=3), actor="zhao", clock=clock)
    rescue = store.get_report(r["rescue_id"])
    assert rescue["kind"] == "rescue" and rescue["people"] == 3
    assert rescue["help_request_id"] == rid
    assert rescue["id"] == lifecycle.rescue_id_for(rid)
    assert (rescue["village_code"], rescue["zone_id"]) == (
        help_request["village_code"],
        help_request["zone_id"],
    )
    # The rescued total is the sum of rescue reports: exactly one rescue of 3 people.
    rows = store.read("SELECT SUM(people) AS p FROM agg WHERE kind = 'rescue'")
    assert int(rows[0]["p"]) == 3
    # A resolved request cannot be resolved again (no second rescue).
    with pytest.raises(Conflict):
        lifecycle.resolve(store, rid, Resolution("rescued", rescued=3), actor="zhao", clock=clock)


def test_assign_defaults_to_zone_owner(store, help_request):
    r = lifecycle.assign(store, help_request["id"], None, actor="wang", clock=ManualClock(T0))
    assert r["assignee"] == help_request["responsible"] and r["assignee"]


def test_bad_transitions_are_conflicts(store, help_request):
    clock = ManualClock(T0)
    with pytest.raises(Conflict):
        lifecycle.en_route(store, help_request["id"], actor="wang", clock=clock)
    lifecycle.resolve(store, help_request["id"], Resolution("not_needed"), actor="w", clock=clock)
    with pytest.raises(Conflict):
        lifecycle.assign(store, help_request["id"], "team", actor="wang", clock=clock)
    assert [c.action for c in store.audit_log(help_request["id"])] == ["create", "resolved"]


def test_duplicate_needs_another_help_request(store, router, help_request, catalogue):
    clock = ManualClock(T0)
    lon, lat, _ = village_seat(catalogue, 3)
    other = add_report(store, router, received_ts=T0 + 30, lon=lon, lat=lat)
    with pytest.raises(InvalidInput):
        lifecycle.resolve(
            store, other["id"], Resolution("duplicate", duplicate_of=other["id"]), actor="w",
            clock=clock,
        )  # fmt: skip
    with pytest.raises(NotFound):
        lifecycle.resolve(
            store, other["id"],
            Resolution("duplicate", duplicate_of="00000000-0000-4000-8000-000000000000"),
            actor="w", clock=clock,
        )  # fmt: skip
    r = lifecycle.resolve(
        store, other["id"], Resolution("duplicate", duplicate_of=help_request["id"]), actor="w",
        clock=clock,
    )  # fmt: skip
    assert r["resolution"] == "duplicate" and r["duplicate_of"] == help_request["id"]


def test_only_help_requests_have_a_lifecycle(store, router, catalogue):
    lon, lat, _ = village_seat(catalogue, 1)
    evac = add_report(store, router, received_ts=T0, kind="evacuation", lon=lon, lat=lat)
    with pytest.raises(InvalidInput):
        lifecycle.assign(store, evac["id"], "x", actor="w", clock=ManualClock(T0))
    with pytest.raises(NotFound):
        lifecycle.assign(
            store, "00000000-0000-4000-8000-000000000000", "x", actor="w", clock=ManualClock(T0)
        )


@pytest.mark.parametrize(
    "resolution",
    [
        Resolution("rescued", rescued=0),
        Resolution("bogus"),
        Resolution("duplicate", duplicate_of="x"),
    ],
)
def test_invalid_resolutions(store, help_request, resolution):
    with pytest.raises(InvalidInput):
        lifecycle.resolve(store, help_request["id"], resolution, actor="w", clock=ManualClock(T0))
