"""Readings batches checked whole, and SL 323 CSV exports parsed with their unit traps."""

from __future__ import annotations

from datetime import datetime

import pytest

from floodpost.errors import Conflict, InvalidInput
from floodpost.hydro.readings import StationInfo, check_batch
from floodpost.hydro.rolling import RainSeries, RollingRain
from floodpost.hydro.sl323 import parse_csv
from floodpost.timefmt import LOCAL_TZ

STATIONS = {
    "60101000": StationInfo("PP"),
    "60102000": StationInfo("RR", capacity_1e6_m3=4.63),
    "60103000": StationInfo("ZZ"),
}
NOW = datetime(2017, 7, 1, tzinfo=LOCAL_TZ).timestamp()
OK = {"station": "60101000", "time": "2017-06-24T09:00:00+08:00", "rain_mm": 12.5, "interval_h": 1}


def refused(items) -> InvalidInput:
    with pytest.raises(InvalidInput) as err:
        check_batch(items, STATIONS, NOW)
    return err.value


def test_a_good_batch():
    got = check_batch(
        [
            OK,
            {
                "station": "60102000",
                "time": "2017-06-24T01:00:00Z",
                "level_m": 300.2,
                "outflow_m3s": 3,
            },
        ],
        STATIONS,
        NOW,
    )
    assert got[0].kind == "rain" and got[0].values == {"rain_mm": 12.5, "interval_h": 1.0}
    nine_local = datetime(2017, 6, 24, 9, tzinfo=LOCAL_TZ).timestamp()
    assert got[0].ts == got[1].ts == nine_local  # 01:00Z is 09:00 in Suining
    assert got[1].kind == "level" and got[1].values == {"level_m": 300.2, "outflow_m3s": 3.0}


@pytest.mark.parametrize(
    ("change", "field", "word"),
    [
        ({"station": "nosuch00"}, "station", "known station"),
        ({"rain_mm": -0.1}, "rain_mm", "at least 0"),
        ({"time": "2017-06-24T09:00:00"}, "time", "offset"),
        ({"time": "yesterday"}, "time", "ISO-8601"),
        ({"time": "2099-01-01T00:00:00+08:00"}, "time", "plausible"),
        ({"rain_mm": float("nan")}, "rain_mm", "finite"),
        ({"rain_mm": 900.0}, "rain_mm", "at most"),
        ({"interval_h": 60}, "interval_h", "not minutes"),
        ({"interval_h": 0}, "interval_h", "above 0"),
        ({"rain_mm": "12"}, "rain_mm", "number"),
        ({"rain": 3}, "rain", "not a reading field"),
        ({"level_m": 3.0}, "level_m", "not both"),
    ],
)
def test_bad_reading_refuses_the_batch_naming_index_and_field(change, field, word):
    err = refused([OK, {**OK, "time": "2017-06-24T10:00:00+08:00", **change}])
    assert err.field == f"readings[1].{field}"
    assert word in str(err) and err.status == 422
    assert err.extra["problems"][0]["index"] == 1


def test_levels_belong_to_level_stations_and_storage_is_in_millions_of_m3():
    err = refused([{"station": "60101000", "time": OK["time"], "level_m": 3.0}])
    assert err.field == "readings[0].level_m"
    err = refused(
        [{"station": "60102000", "time": OK["time"], "level_m": 300.0, "storage_1e6_m3": 463}]
    )
    assert "10⁴ m³" in str(err)  # 463 (10⁴ m³) sent where SL 323 wants 4.63 (10⁶ m³)
    check_batch(
        [{"station": "60102000", "time": OK["time"], "level_m": 300.0, "storage_1e6_m3": 4.2}],
        STATIONS,
        NOW,
    )


def test_every_problem_is_listed_and_empty_batches_refused():
    err = refused([{**OK, "rain_mm": -1}, OK, {**OK, "station": "x"}])
    assert [p["index"] for p in err.extra["problems"]] == [0, 2]
    for bad in ([], None, {"station": "60101000"}):
        refused(bad)
    with pytest.raises(Conflict):
        check_batch([OK, {**OK, "rain_mm": 1.0}], STATIONS, NOW)
    assert len(check_batch([OK, dict(OK)], STATIONS, NOW)) == 2  # identical twice: a duplicate


PPTN = """STCD,TM,DRP,INTV,PDR,DYP,WTH
60101000,2017-06-24 09:00:00,12.5,1.00,,,7
60101000,2017-06-24 09:05:00,0.5,0.05,,,7
60101000,2017-06-24 10:00:00,,1.00,,,
60101000,2017/6/24 11:00,3.0,1.00,,,
"""


def test_st_pptn_r_intv_in_hours_and_tm_local():
    got = parse_csv(PPTN, STATIONS, NOW, name="rain.csv")
    assert got.table == "ST_PPTN_R" and got.skipped == 1  # no DRP: no measurement, not 0 mm
    first, five_min, last = got.readings
    assert first.ts == datetime(2017, 6, 24, 9, tzinfo=LOCAL_TZ).timestamp()
    assert first.values == {"rain_mm": 12.5, "interval_h": 1.0}
    assert five_min.values["interval_h"] == 0.05  # 5 minutes
    assert last.ts == datetime(2017, 6, 24, 11, tzinfo=LOCAL_TZ).timestamp()


def test_st_rsvr_r_and_st_river_r_recognised_by_header():
    rsvr = "stcd,tm,rz,inq,otq,w\n60102000,2017-06-24 08:00:00.0,300.25,12.1,3.5,4.1\n"
    got = parse_csv(rsvr, STATIONS, NOW)
    assert got.table == "ST_RSVR_R"
    assert got.readings[0].values == {
        "level_m": 300.25,
        "inflow_m3s": 12.1,
        "outflow_m3s": 3.5,
        "storage_1e6_m3": 4.1,
    }
    river = "STCD,TM,Z,Q,WPTN\n60103000,2017-06-24 08:00:00,210.5,800,4\n"
    got = parse_csv(river, STATIONS, NOW)
    assert got.table == "ST_RIVER_R" and got.readings[0].values == {
        "level_m": 210.5,
        "flow_m3s": 800.0,
    }


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("STCD,TM,DRP,INTV\n60101000,2017-06-24 09:00:00,1.0,60\n", 2, "INTV"),  # minutes
        ("STCD,TM,DRP,INTV\n60101000,2017-06-24 09:00:00,1.0,1\n60101000,24/6/2017,1,1\n", 3, "TM"),
        ("STCD,TM,DRP,INTV\n60101000,2017-06-24T09:00:00+08:00,1.0,1\n", 2, "TM"),  # offset
        ("STCD,TM,DRP,INTV\nnosuch00,2017-06-24 09:00:00,1.0,1\n", 2, "STCD"),
        ("STCD,TM,DRP,INTV\n60101000,2017-06-24 09:00:00,-2,1\n", 2, "DRP"),
        ("STCD,TM,DRP,INTV\n60101000,2017-06-24 09:00:00,abc,1\n", 2, "DRP"),
        ("STCD,TM,RZ,W\n60102000,2017-06-24 09:00:00,300,463\n", 2, "W"),  # 10⁴ m³ trap
    ],
)
def test_a_bad_row_stops_the_file_naming_line_and_column(text, line, column):
    with pytest.raises(InvalidInput) as err:
        parse_csv(text, STATIONS, NOW, name="x.csv")
    assert err.value.extra["line"] == line and err.value.field == column
    assert f"line {line}, column {column}" in str(err.value)


def test_unknown_header_and_conflicting_rows():
    with pytest.raises(InvalidInput, match="not an SL 323 export"):
        parse_csv("a,b,c\n1,2,3\n", STATIONS, NOW)
    twice = (
        "STCD,TM,DRP,INTV\n60101000,2017-06-24 09:00:00,1.0,1\n60101000,2017-06-24 09:00:00,2.0,1\n"
    )
    with pytest.raises(Conflict, match="line 3"):
        parse_csv(twice, STATIONS, NOW)


H = 3600.0


def test_rolling_totals_in_order_out_of_order_and_back_filled():
    in_order, shuffled = RainSeries(), RainSeries()
    amounts = [(i * H, float(i % 7) + 0.1) for i in range(1, 60)]
    for ts, mm in amounts:
        in_order.add(ts, mm, 1.0)
    for ts, mm in sorted(amounts, key=lambda a: (a[0] * 7919) % 61):
        shuffled.add(ts, mm, 1.0)
    for end in (10 * H, 30 * H, 59 * H, 59.5 * H):
        assert in_order.totals(end) == shuffled.totals(end)
        for w in (1, 3, 6, 12, 24):
            expect = sum(mm for ts, mm in amounts if end - w * H < ts <= end)
            assert in_order.total(end, w) == pytest.approx(expect, abs=1e-9)


def test_back_filled_reading_reports_the_peak_of_the_windows_it_completes():
    s = RainSeries()
    s.add(3 * H, 20.0, 1.0)
    s.add(2 * H, 20.0, 1.0)
    peaks = {p.window_h: p for p in s.add(1 * H, 20.0, 1.0)}
    assert (peaks[3].total_mm, peaks[3].end_ts) == (60.0, 3 * H)
    assert peaks[1].total_mm == 20.0
    with pytest.raises(ValueError):
        s.add(2 * H, 1.0, 1.0)
    assert s.get(2 * H) == (20.0, 1.0)


def test_a_daily_total_counts_only_for_the_24_hour_window():
    s = RainSeries()
    s.add(24 * H, 150.0, 24.0)
    assert s.totals(24 * H) == {1: 0.0, 3: 0.0, 6: 0.0, 12: 0.0, 24: 150.0}


def test_retained_span_is_bounded():
    r = RollingRain(retain_h=48)
    for i in range(2000):
        r.add("A", i * 300.0, 0.1, 5 / 60)
    assert len(r.series["A"].times) <= 48 * 12 + 70
    assert r.totals("A", 1999 * 300.0)[1] == pytest.approx(1.2)
    assert r.totals("B", 0) is None
