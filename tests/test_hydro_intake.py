"""Readings through the one writer: window totals, warnings raised and risen, duplicates,
conflicts, lifting, silent gauges — on both backends."""

from __future__ import annotations

from datetime import datetime

import pytest

from floodpost.errors import Conflict, InvalidInput, NotFound
from floodpost.hydro.intake import store_readings
from floodpost.hydro.network import GaugeNetwork
from floodpost.hydro.queries import (
    get_warning,
    lift_warning,
    list_readings,
    list_warnings,
    station_status,
)
from floodpost.hydro.readings import check_batch
from floodpost.timefmt import LOCAL_TZ

HOUR = 3600.0
T0 = datetime(2017, 6, 24, 8, tzinfo=LOCAL_TZ).timestamp()
NOW = datetime(2017, 7, 20, tzinfo=LOCAL_TZ).timestamp()
VILLAGE = "430527100201"  # low-lying: 江华 blue/yellow, 1h 35/45, 3h 55/75


@pytest.fixture(scope="module")
def net(catalogue):
    return GaugeNetwork.of(catalogue)


@pytest.fixture
def gauge(catalogue):
    return catalogue.village(VILLAGE)["rain_station"]


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, LOCAL_TZ).isoformat()


def rain(station: str, ts: float, mm: float, h: float = 1.0) -> dict:
    return {"station": station, "time": iso(ts), "rain_mm": mm, "interval_h": h}


def post(store, net, items):
    return store_readings(store, net, check_batch(items, net.infos, NOW), actor="gw-1")


def village_warning(store):
    found = [w for w in list_warnings(store) if w["code"] == VILLAGE]  # active ones first
    return found[0] if found else None


def test_boundary_34_9_is_none_and_35_0_is_prepare(store, net, gauge):
    post(store, net, [rain(gauge, T0 + HOUR, 34.9)])
    assert village_warning(store) is None
    post(store, net, [rain(gauge, T0 + 48 * HOUR, 35.0)])
    w = village_warning(store)
    assert (w["level"], w["window_h"], w["observed"], w["threshold"]) == ("prepare", 1, 35.0, 35)
    assert w["station"] == gauge and w["active"] and w["target"] == "village"
    assert w["zone_owner"] and w["villages"] == [VILLAGE]
    assert {x["window_h"] for x in w["windows"]} == {1, 3, 6, 24}


def test_three_hours_each_under_the_hour_value_add_up(store, net, gauge):
    post(store, net, [rain(gauge, T0 + i * HOUR, 20.0) for i in (1, 2)])
    assert village_warning(store) is None
    result = post(store, net, [rain(gauge, T0 + 3 * HOUR, 20.0)])
    w = village_warning(store)
    assert (w["level"], w["window_h"], w["observed"]) == ("prepare", 3, 60.0)
    assert result["warnings"][0]["id"] == w["id"]


def test_back_filled_reading_raises_at_the_window_it_completes(store, net, gauge):
    post(store, net, [rain(gauge, T0 + 3 * HOUR, 20.0), rain(gauge, T0 + 2 * HOUR, 20.0)])
    assert village_warning(store) is None
    post(store, net, [rain(gauge, T0 + HOUR, 20.0)])  # arrives last, happened first
    w = village_warning(store)
    assert (w["level"], w["window_h"], w["observed"]) == ("prepare", 3, 60.0)
    assert w["observed_at"].startswith("2017-06-24T03:00")  # 11:00 local, the window's end
    times = [r["time"] for r in list_readings(store, gauge, None, None)]
    assert times == sorted(times) and len(times) == 3


def test_duplicates_counted_and_a_different_value_refuses_the_batch(store, net, gauge):
    batch = [rain(gauge, T0 + HOUR, 5.0), rain(gauge, T0 + 2 * HOUR, 6.0)]
    assert post(store, net, batch) == {"accepted": 2, "duplicates": 0, "warnings": []}
    assert post(store, net, batch)["duplicates"] == 2
    before = store.last_change_seq()
    with pytest.raises(Conflict) as err:
        post(store, net, [rain(gauge, T0 + 3 * HOUR, 1.0), rain(gauge, T0 + HOUR, 5.5)])
    assert "readings[1]" in str(err.value)
    assert len(list_readings(store, gauge, None, None)) == 2  # nothing of that batch kept
    assert store.last_change_seq() == before
    with pytest.raises(Conflict):  # the same key twice in one batch with two values
        check_batch([rain(gauge, T0, 1.0), rain(gauge, T0, 2.0)], net.infos, NOW)


def test_a_warning_only_rises_and_a_commander_lifts_it(store, net, gauge):
    post(store, net, [rain(gauge, T0 + HOUR, 40.0)])
    first = village_warning(store)
    assert first["level"] == "prepare"
    post(store, net, [rain(gauge, T0 + 30 * HOUR, 36.0)])  # prepare again: no change
    assert village_warning(store)["history"] == first["history"]
    post(store, net, [rain(gauge, T0 + 31 * HOUR, 50.0)])
    risen = village_warning(store)
    assert (risen["id"], risen["level"], risen["since"]) == (
        first["id"],
        "evacuate",
        first["since"],
    )
    assert [h["level"] for h in risen["history"]] == ["prepare", "evacuate"]
    post(store, net, [rain(gauge, T0 + 60 * HOUR, 36.0)])  # lower level never replaces it
    assert village_warning(store)["level"] == "evacuate"
    with pytest.raises(InvalidInput):
        lift_warning(store, first["id"], actor="commander", reason=" ")
    lifted = lift_warning(store, first["id"], actor="commander", reason="雨停，水位回落")
    assert not lifted["active"] and lifted["lift_reason"] == "雨停，水位回落"
    with pytest.raises(Conflict):
        lift_warning(store, first["id"], actor="commander", reason="again")
    with pytest.raises(NotFound):
        lift_warning(store, "village-0-1", actor="commander", reason="x")
    audit = store.audit_log(first["id"])
    assert [(c.entity, c.action) for c in audit] == [
        ("warning", "raise"),
        ("warning", "rise"),
        ("warning", "lift"),
    ]
    assert audit[-1].reason == "雨停，水位回落" and audit[-1].actor == "commander"
    post(store, net, [rain(gauge, T0 + 90 * HOUR, 46.0)])
    again = village_warning(store)
    assert again["id"] != first["id"] and again["level"] == "evacuate"
    assert get_warning(store, first["id"])["active"] is False
    assert [w["id"] for w in list_warnings(store, active_only=True) if w["code"] == VILLAGE] == [
        again["id"]
    ]


def test_readings_batches_are_in_the_change_log(store, net, gauge):
    post(store, net, [rain(gauge, T0 + HOUR, 50.0)])
    entities = [(c.entity, c.action) for c in store.changes_after(0, 100)]
    assert ("readings", "add") in entities and ("warning", "raise") in entities
    readings = next(c for c in store.changes_after(0, 100) if c.entity == "readings")
    assert readings.report["accepted"] == 1 and readings.actor == "gw-1"


def test_reservoir_ladder_and_seasonal_flood_limit(store, net, catalogue):
    res = catalogue.reservoir("R001")
    st = res["station"]
    main, later = res["flood_limit_seasons"][0]["level_m"], res["flood_limit_seasons"][1]["level_m"]
    between = round((main + later) / 2, 2)
    jul15 = datetime(2017, 7, 15, 23, tzinfo=LOCAL_TZ).timestamp()
    jul16 = datetime(2017, 7, 16, 1, tzinfo=LOCAL_TZ).timestamp()

    def level(ts, m):
        return {"station": st, "time": iso(ts), "level_m": m}

    post(store, net, [level(jul16, between)])  # below the later season's limit
    assert not [w for w in list_warnings(store) if w["code"] == "R001"]
    post(store, net, [level(jul15, between)])  # above the main season's limit
    w = next(w for w in list_warnings(store) if w["code"] == "R001")
    assert (w["level"], w["threshold"], w["levels"]["flood_limit_m"]) == (
        "above_flood_limit",
        main,
        main,
    )
    assert w["villages"] == res["downstream_villages"]
    post(store, net, [level(jul16 + HOUR, res["design_flood_m"] + 0.01)])
    post(store, net, [level(jul16 + 2 * HOUR, res["crest_m"])])
    w = get_warning(store, w["id"])
    assert [h["level"] for h in w["history"]] == [
        "above_flood_limit",
        "above_design",
        "overtopping",
    ]


def test_silent_gauge_is_never_zero_and_a_blind_village_is_flagged(store, net, catalogue, gauge):
    post(store, net, [rain(gauge, T0 + HOUR, 10.0)])
    later = T0 + HOUR + 20 * 60
    status = {s["id"]: s for s in station_status(store, net, later, 30)["stations"]}
    assert status[gauge]["silent"] is False and status[gauge]["rain_mm"]["1h"] == 10.0
    status = {s["id"]: s for s in station_status(store, net, T0 + HOUR + 29 * 60, 30)["stations"]}
    assert status[gauge]["rain_mm"] == {
        "1h": 10.0,
        "3h": 10.0,
        "6h": 10.0,
        "12h": 10.0,
        "24h": 10.0,
    }
    never = next(s for s in status if s != gauge and status[s]["kind"] == "PP")
    assert status[never]["silent"] is True and status[never]["rain_mm"] is None
    # 40 min later the gauge is silent: shown as silent, not as 0 mm
    status = {s["id"]: s for s in station_status(store, net, T0 + HOUR + 40 * 60, 30)["stations"]}
    assert status[gauge]["silent"] and status[gauge]["rain_mm"] is None
    # a neighbour reports heavy rain while this gauge stays silent: its villages are flagged
    near = _nearest_gauge(catalogue, gauge)
    post(store, net, [rain(near, T0 + 3 * HOUR, 60.0)])
    assert not station_status(store, net, T0 + HOUR + 60, 30)["blind_villages"]
    result = station_status(store, net, T0 + 3 * HOUR + 60, 30)
    flagged = {f["code"]: f for f in result["blind_villages"]}
    assert VILLAGE in flagged and flagged[VILLAGE]["nearby_station"] == near


def _nearest_gauge(catalogue, sid):
    gdf = catalogue.gdf("stations")
    at = {
        str(i): (g.x, g.y)
        for i, g, k in zip(gdf["id"], gdf.geometry, gdf["kind"], strict=True)
        if k == "PP"
    }
    me = at.pop(sid)
    return min(at, key=lambda s: (at[s][0] - me[0]) ** 2 + (at[s][1] - me[1]) ** 2)


def test_a_batch_holding_a_whole_storm_raises_where_each_level_is_first_reached(store, net, gauge):
    storm = [rain(gauge, T0 + (i + 1) * HOUR, mm) for i, mm in enumerate((10, 20, 30, 40, 50))]
    post(store, net, list(reversed(storm)))  # order within the batch does not matter
    w = village_warning(store)
    assert w["since"].startswith("2017-06-24T03:00")  # 11:00 local: 3 h = 60 mm ≥ 55
    assert [(h["level"], h["observed_at"][:16]) for h in w["history"]] == [
        ("prepare", "2017-06-24T03:00"),
        ("evacuate", "2017-06-24T04:00"),  # 12:00 local: 3 h = 90 mm ≥ 75
    ]
    assert [(c.action) for c in store.audit_log(w["id"])] == ["raise", "rise"]


def test_two_processes_writing_one_gauge_see_each_others_rain(store_url, net, gauge):
    """Two stores on one database stand for two worker processes: readings of one gauge posted
    at the same moment through both still add up (each intake sees the other's committed rows)."""
    import threading

    from floodpost.storage import open_store

    a, b = open_store(store_url), open_store(store_url)
    try:
        start = threading.Barrier(2)
        errors = []

        def send(store, ts, mm):
            try:
                start.wait()
                post(store, net, [rain(gauge, ts, mm)])
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=send, args=(a, T0 + HOUR, 20.0)),
            threading.Thread(target=send, args=(b, T0 + HOUR + 1800, 20.0)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        w = village_warning(a)
        assert w is not None and (w["level"], w["window_h"], w["observed"]) == ("prepare", 1, 40.0)
        assert len([x for x in list_warnings(b) if x["code"] == VILLAGE]) == 1
    finally:
        a.close()
        b.close()
