"""Silent responsibility zones: no report from the zone for `silent_zone_hours`."""

from __future__ import annotations

import pytest

from floodpost.clock import ManualClock
from floodpost.geo.routing import ReportRouter
from floodpost.live.escalation import Rules
from floodpost.live.places import places_from_catalogue
from floodpost.live.silent import zone_silence
from floodpost.live.state import LiveState
from tests.live_support import T0, add_report, village_seat


@pytest.fixture(scope="module")
def router(catalogue):
    return ReportRouter(catalogue)


def silent_zones(store, zones, now, hours):
    return zone_silence(zones, store.last_report_by_zone(list(zones)), now, hours)


def test_zone_goes_silent_after_the_configured_hours(store, router, catalogue):
    places = places_from_catalogue(catalogue)
    lon, lat, _ = village_seat(catalogue, 0)
    r = add_report(store, router, received_ts=T0, kind="evacuation", lon=lon, lat=lat)
    zid = r["zone_id"]
    clock = ManualClock(T0 + 3600)
    zones = {z["id"]: z for z in silent_zones(store, places.zones, clock(), 6.0)}
    assert zones[zid]["silent"] is False and zones[zid]["hours_since"] == 1.0
    assert zones[zid]["owner"] == places.zones[zid]["owner"]
    # Zones that never reported are silent: nobody has said they are safe.
    assert all(z["silent"] for k, z in zones.items() if k != zid)
    clock.advance(5 * 3600)  # 6 h since the last report
    zones = {z["id"]: z for z in silent_zones(store, places.zones, clock(), 6.0)}
    assert zones[zid]["silent"] is True
    # A new report ends the silence; the live snapshot agrees.
    add_report(store, router, received_ts=clock(), kind="incident", lon=lon, lat=lat)
    live = LiveState(store, places, Rules(15, 60, 100, 120), 6.0)
    snap = {z["id"]: z for z in live.snapshot(clock() + 60)["zones"]}
    assert snap[zid]["silent"] is False
    assert len(snap) == len(places.zones)


def test_threshold_comes_from_settings(store, router, catalogue):
    places = places_from_catalogue(catalogue)
    lon, lat, _ = village_seat(catalogue, 0)
    r = add_report(store, router, received_ts=T0, kind="rescue", lon=lon, lat=lat)
    zones = {z["id"]: z for z in silent_zones(store, places.zones, T0 + 2 * 3600, 1.5)}
    assert zones[r["zone_id"]]["silent"] is True
