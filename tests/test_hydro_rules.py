"""Warning rules: village rain thresholds (江华 ladder), reservoir ladder, seasonal flood limits."""

from __future__ import annotations

from datetime import date

import pytest

from floodpost.hydro.rules import (
    flood_limit_on,
    reservoir_verdict,
    rises,
    village_verdict,
)
from floodpost.hydro.thresholds import LevelProblem, check_levels, parse_seasons, parse_warn_mm

# 江华县 临界雨量: blue → prepare, yellow → evacuate (STANDARDS.md §1.2)
WARN = {"1h": [35, 45], "3h": [55, 75], "6h": [70, 95], "24h": [100, 130]}


@pytest.mark.parametrize(
    ("mm", "level"),
    [(34.9, None), (35.0, "prepare"), (44.9, "prepare"), (45.0, "evacuate"), (80.0, "evacuate")],
)
def test_one_hour_boundaries(mm, level):
    v = village_verdict({1: mm}, WARN)
    assert (v.level if v else None) == level
    if v:
        assert (v.window_h, v.observed) == (1, mm)


@pytest.mark.parametrize(
    ("window", "prepare", "evacuate"),
    [(1, 35, 45), (3, 55, 75), (6, 70, 95), (24, 100, 130)],
)
def test_each_window_triggers_on_its_own(window, prepare, evacuate):
    below = {w: 0.0 for w in (1, 3, 6, 12, 24)}
    assert village_verdict({**below, window: prepare - 0.1}, WARN) is None
    v = village_verdict({**below, window: prepare}, WARN)
    assert (v.level, v.window_h, v.threshold) == ("prepare", window, prepare)
    v = village_verdict({**below, window: evacuate}, WARN)
    assert (v.level, v.window_h, v.threshold) == ("evacuate", window, evacuate)


def test_highest_level_of_any_window_wins():
    v = village_verdict({1: 36.0, 3: 80.0, 6: 71.0, 24: 90.0}, WARN)
    assert (v.level, v.window_h) == ("evacuate", 3)
    assert village_verdict({1: 10.0}, None) is None
    assert village_verdict({}, WARN) is None
    # a 12 h threshold is honoured when a county gives one
    assert village_verdict({12: 88.0}, {"12h": [88, 110]}).level == "prepare"


def test_float_sums_do_not_miss_the_boundary():
    total = sum([0.1] * 350)  # 34.99999999999 in binary floating point
    assert village_verdict({1: total}, WARN).level == "prepare"


def test_warn_mm_is_checked():
    assert parse_warn_mm('{"24h": [100, 130], "1h": [35, 45]}') == {
        "1h": [35.0, 45.0],
        "24h": [100.0, 130.0],
    }
    for bad, word in [
        ({"2h": [1, 2]}, "window"),
        ({"1h": [45, 35]}, "prepare <= evacuate"),
        ({"1h": [0, 35]}, "0 < prepare"),
        ({"1h": [35]}, "prepare, evacuate"),
        ({"1h": [35, float("nan")]}, "number"),
        ({}, "object"),
        ("[1, 2]", "object"),
    ]:
        with pytest.raises(ValueError, match=word):
            parse_warn_mm(bad)


RES = {
    "flood_limit_m": 100.0,
    "normal_m": 101.0,
    "design_flood_m": 102.0,
    "check_flood_m": 103.0,
    "crest_m": 104.0,
}


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (99.99, None),
        (100.0, None),  # at the flood limit is not above it
        (100.01, "above_flood_limit"),
        (101.5, "above_flood_limit"),
        (102.01, "above_design"),
        (103.01, "above_check"),
        (103.99, "above_check"),
        (104.0, "overtopping"),
    ],
)
def test_reservoir_ladder(level, expected):
    v = reservoir_verdict(level, RES, date(2017, 6, 25))
    assert (v.level if v else None) == expected


def test_seasonal_flood_limit_on_both_sides_of_bgmd():
    res = dict(
        RES,
        flood_limit_seasons=parse_seasons(
            [
                {"bgmd": "0716", "edmd": "0930", "level_m": 100.5},
                {"bgmd": "0401", "edmd": "0715", "level_m": 100.0},
                {"bgmd": "1001", "edmd": "0331", "level_m": 101.0},
            ]
        ),
    )
    assert flood_limit_on(res, date(2017, 7, 15)) == 100.0
    assert flood_limit_on(res, date(2017, 7, 16)) == 100.5  # BGMD of the later season
    assert flood_limit_on(res, date(2017, 3, 31)) == 101.0  # wraps over the new year
    assert flood_limit_on(res, date(2017, 12, 31)) == 101.0
    assert flood_limit_on(res, date(2017, 4, 1)) == 100.0
    # 100.3 m is above the limit on 15 July and below it on 16 July
    assert reservoir_verdict(100.3, res, date(2017, 7, 15)).level == "above_flood_limit"
    assert reservoir_verdict(100.3, res, date(2017, 7, 16)) is None
    # EDMD null runs to the year's end; no row: the plain flood_limit_m
    open_ended = dict(RES, flood_limit_seasons=[{"bgmd": "0601", "edmd": None, "level_m": 99.0}])
    assert flood_limit_on(open_ended, date(2017, 12, 31)) == 99.0
    assert flood_limit_on(open_ended, date(2017, 5, 31)) == 100.0


def test_levels_out_of_order_are_refused_naming_the_field():
    check_levels(RES)
    check_levels({"flood_limit_m": 100.0, "crest_m": 104.0})  # only given levels compared
    for field, value in [
        ("crest_m", 103.0),
        ("check_flood_m", 102.0),
        ("design_flood_m", 100.5),
        ("normal_m", 99.0),
    ]:
        with pytest.raises(LevelProblem) as err:
            check_levels({**RES, field: value})
        assert err.value.field in (field, "normal_m", "design_flood_m", "check_flood_m", "crest_m")
    with pytest.raises(LevelProblem) as err:
        check_levels({"flood_limit_m": 105.0, "crest_m": 104.0})
    assert err.value.field == "crest_m"
    with pytest.raises(LevelProblem) as err:
        check_levels(
            {**RES, "flood_limit_seasons": [{"bgmd": "0401", "edmd": None, "level_m": 101.5}]}
        )
    assert err.value.field == "flood_limit_seasons"
    with pytest.raises(ValueError, match="MMDD"):
        parse_seasons([{"bgmd": "1301", "edmd": None, "level_m": 1.0}])


def test_a_warning_only_rises():
    assert rises(None, "prepare") and rises("prepare", "evacuate")
    assert not rises("evacuate", "prepare") and not rises("prepare", "prepare")
    assert rises("above_flood_limit", "overtopping") and not rises("above_check", "above_design")
